import { readFileSync } from 'node:fs';
import { answerJson, listenBare } from './bare-http';

/**
 * The HTTP bench's baseline: a bare Node `http` server that reads and parses the same JSON bodies
 * and answers a small JSON document, with none of the ledger's work. BARE_ANSWER_FILE: answer that
 * file's bytes instead (the same body as a ledger page, to separate its size from its work). Run
 * as its own process.
 */
const answer =
  process.env.BARE_ANSWER_FILE === undefined
    ? JSON.stringify({ consumptionId: 'c', creditsCharged: 1, alreadyPurchased: false, position: 1 })
    : readFileSync(process.env.BARE_ANSWER_FILE);

listenBare((req, body, res) => {
  let status = req.method === 'POST' ? 201 : 200;
  if (req.method === 'POST') {
    try {
      JSON.parse(body.toString('utf8'));
    } catch {
      status = 400;
    }
  }
  answerJson(res, status, answer);
});

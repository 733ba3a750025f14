/**
 * A load of consumptions sent round-robin to several API instances, the way a careful client of
 * a billing ledger sends them: every request carries client-chosen consumption ids; a 503 (with
 * Retry-After) or a lost connection is retried with the same ids on the next instance until it is
 * answered. Used by the scale-out tests (rolling restarts, SIGKILL) and the multi-instance bench.
 */

export interface ConsumptionLoadOptions {
  /** Base URLs of the instances (http://127.0.0.1:port). */
  readonly bases: () => readonly string[];
  readonly apiKey: string;
  readonly accounts: readonly string[];
  /** Concurrent clients, each with one request in flight. */
  readonly clients: number;
  /** Every n-th request of a client is a batch (0: never). */
  readonly batchEvery: number;
  readonly batchSize: number;
  /** Unique per run: consumption ids are `${idPrefix}-${client}-${request}-${item}`. */
  readonly idPrefix: string;
  /** Checked before each new request; requests in hand are finished (retried until answered). */
  readonly shouldStop: () => boolean;
  /** Attempts of one request before it is given up (and reported). */
  readonly maxAttempts?: number;
  /** Pause before retrying a 503 or a lost connection. */
  readonly retryDelayMs?: number;
}

export interface ConsumptionLoadReport {
  /** Consumption ids the ledger acknowledged (201 or 200 replay), with their account. */
  readonly acknowledged: Map<string, string>;
  readonly requests: number;
  readonly singles: number;
  readonly batches: number;
  /** Requests answered 503 with Retry-After, then retried. */
  readonly retried503: number;
  /** Requests whose connection failed (refused, reset), then retried. */
  readonly networkRetries: number;
  /** Answers after a retry that were the first outcome (200) rather than new (201). */
  readonly replays: number;
  /** Anything a client must never see: a 5xx other than 503, a 503 without Retry-After, an unexpected status, a request given up. */
  readonly violations: string[];
  /** Latency of each answered request (ms), retries included. */
  readonly latenciesMs: number[];
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function consumption(consumptionId: string) {
  return { consumptionId, userId: 'load', creditType: 'email', feature: 'load', action: 'consume', credits: 1 };
}

export async function runConsumptionLoad(options: ConsumptionLoadOptions): Promise<ConsumptionLoadReport> {
  const report = {
    acknowledged: new Map<string, string>(),
    requests: 0,
    singles: 0,
    batches: 0,
    retried503: 0,
    networkRetries: 0,
    replays: 0,
    violations: [] as string[],
    latenciesMs: [] as number[],
  };
  const headers = { Authorization: `Bearer ${options.apiKey}`, 'Content-Type': 'application/json' };
  let turn = 0;
  const maxAttempts = options.maxAttempts ?? 400;
  const retryDelayMs = options.retryDelayMs ?? 25;

  const send = async (accountId: string, path: string, body: unknown, ids: readonly string[]) => {
    const started = performance.now();
    for (let attempt = 1; attempt <= maxAttempts; attempt++) {
      const bases = options.bases();
      const base = bases[turn++ % bases.length];
      let res: Response;
      try {
        res = await fetch(`${base}${path}`, { method: 'POST', headers, body: JSON.stringify(body) });
      } catch {
        report.networkRetries++;
        await sleep(retryDelayMs);
        continue;
      }
      const answer = (await res.json().catch(() => undefined)) as Record<string, unknown> | undefined;
      if (res.status === 503) {
        if (!res.headers.get('retry-after')) report.violations.push(`503 without Retry-After on ${path}`);
        report.retried503++;
        await sleep(retryDelayMs);
        continue;
      }
      if (res.status >= 500) report.violations.push(`${res.status} ${JSON.stringify(answer)} on ${path}`);
      if (res.status >= 300) {
        report.violations.push(`unexpected ${res.status} ${JSON.stringify(answer)} on ${path}`);
        return;
      }
      report.latenciesMs.push(performance.now() - started);
      const results = Array.isArray(answer?.results) ? (answer.results as { status: number }[]) : [{ status: res.status }];
      results.forEach((result, index) => {
        if (result.status === 201 || result.status === 200) {
          report.acknowledged.set(ids[index], accountId);
          if (result.status === 200) report.replays++;
        } else report.violations.push(`item ${ids[index]} answered ${JSON.stringify(result)}`);
      });
      return;
    }
    report.violations.push(`gave up ${path} after ${maxAttempts} attempts`);
  };

  await Promise.all(
    Array.from({ length: options.clients }, async (_, client) => {
      for (let request = 0; !options.shouldStop(); request++) {
        const accountId = options.accounts[(client + request) % options.accounts.length];
        const isBatch = options.batchEvery > 0 && request % options.batchEvery === options.batchEvery - 1;
        const id = `${options.idPrefix}-${client}-${request}`;
        report.requests++;
        if (isBatch) {
          report.batches++;
          const ids = Array.from({ length: options.batchSize }, (_, item) => `${id}-${item}`);
          await send(accountId, `/v1/accounts/${accountId}/consumptions/batch`, { items: ids.map(consumption) }, ids);
        } else {
          report.singles++;
          await send(accountId, `/v1/accounts/${accountId}/consumptions`, consumption(id), [id]);
        }
      }
    }),
  );
  return report;
}

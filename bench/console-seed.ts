import { seededRandom } from './stats';

/**
 * Realistic usage for the web console's browser tests, screenshots and benchmark, sent through
 * the HTTP API like any client (features and actions of a sales-data product: reveals, waterfall
 * enrichment, exports, AI research, website visitors…). A previous cycle is closed, the current
 * one is under way; some accesses are already purchased, some charges refunded.
 */
export const CONSOLE_ACCOUNT = 'acme';
export const CONSOLE_USERS = ['ana@acme.test', 'ben@acme.test', 'cat@acme.test', 'dev@acme.test', 'eve@acme.test'] as const;

const ACTIONS: readonly { feature: string; action: string; creditType: string; credits: number; data: string; describe: (n: number) => string }[] = [
  { feature: 'people_search', action: 'email_reveal', creditType: 'email', credits: 1, data: 'email', describe: (n) => `Contact ${n}, VP Sales` },
  { feature: 'people_search', action: 'mobile_reveal', creditType: 'mobile', credits: 5, data: 'phone', describe: (n) => `Contact ${n}, mobile number` },
  { feature: 'chrome_extension', action: 'email_reveal', creditType: 'email', credits: 1, data: 'email', describe: (n) => `LinkedIn profile ${n}` },
  { feature: 'waterfall', action: 'waterfall_email', creditType: 'email', credits: 2, data: 'email', describe: (n) => `Waterfall run ${n}: email` },
  { feature: 'waterfall', action: 'waterfall_mobile', creditType: 'mobile', credits: 8, data: 'phone', describe: (n) => `Waterfall run ${n}: mobile` },
  { feature: 'enrichment', action: 'csv_enrichment', creditType: 'email', credits: 1, data: 'email', describe: (n) => `CSV upload row ${n}` },
  { feature: 'enrichment', action: 'crm_field_enrichment', creditType: 'email', credits: 1, data: 'company', describe: (n) => `CRM record ${n}` },
  { feature: 'job_change', action: 'contact_update', creditType: 'email', credits: 1, data: 'job_change', describe: (n) => `Contact ${n} changed jobs` },
  { feature: 'ai_research', action: 'company_research', creditType: 'ai_research', credits: 3, data: 'research', describe: (n) => `Research on account ${n}` },
  { feature: 'exports', action: 'csv_export', creditType: 'export', credits: 10, data: 'records', describe: (n) => `Export of list ${n}` },
  { feature: 'website_visitors', action: 'visitor_identified', creditType: 'email', credits: 1, data: 'company', describe: (n) => `Visitor from company ${n}` },
];

export const CONSOLE_PLAN = {
  creditTypes: {
    email: { allocation: 60_000 },
    mobile: { allocation: 80_000 },
    export: { allocation: 60_000 },
    ai_research: { allocation: 20_000 },
  },
  cycle: { period: 'month', anchorDay: 1, timezone: 'America/New_York' },
};

export interface SeedClient {
  /** POST a JSON body; resolves the parsed answer (throws on a status outside 2xx). */
  post(path: string, body: unknown): Promise<{ position?: number } & Record<string, unknown>>;
  put(path: string, body: unknown): Promise<unknown>;
  /** Moves the server's clock (a manual clock in tests and the benchmark). */
  setClock(iso: string): void;
}

export interface SeedResult {
  readonly rows: number;
  readonly head: number;
  /** The instant the server's clock shows after seeding (the browser's clock is set to it). */
  readonly now: string;
}

async function consumeSpread(
  client: SeedClient,
  accountId: string,
  count: number,
  fromMs: number,
  toMs: number,
  prefix: string,
  random: () => number,
): Promise<number> {
  let head = 0;
  for (let start = 0; start < count; start += 1_000) {
    const items = [];
    for (let i = start; i < Math.min(count, start + 1_000); i++) {
      const a = ACTIONS[Math.floor(random() ** 1.6 * ACTIONS.length)];
      const n = Math.floor(random() * 4_000);
      const dataKey = a.creditType === 'email' && random() < 0.3 ? `contact_${n % 600}` : undefined;
      items.push({
        consumptionId: `${prefix}-${i}`,
        userId: CONSOLE_USERS[Math.floor(random() ** 1.3 * CONSOLE_USERS.length)],
        creditType: a.creditType,
        feature: a.feature,
        action: a.action,
        credits: a.credits,
        description: a.describe(n),
        dataRequested: a.data,
        ...(dataKey ? { dataKey } : {}),
        occurredAt: new Date(fromMs + Math.floor(random() * (toMs - fromMs))).toISOString(),
      });
    }
    const answer = await client.post(`/v1/accounts/${accountId}/consumptions/batch`, { items });
    const results = answer.results as { status: number; position?: number }[];
    const refused = results.filter((r) => r.status !== 201 && r.status !== 200);
    if (refused.length > 0) throw new Error(`seed: ${refused.length} consumptions refused: ${JSON.stringify(refused[0])}`);
    for (const r of results) head = Math.max(head, r.position ?? 0);
  }
  return head;
}

/** Seeds the console's accounts; `rows` consumptions in the main account (10,000+ for the scrolling test). */
export async function seedConsole(client: SeedClient, options: { rows: number; seed?: number }): Promise<SeedResult> {
  const random = seededRandom(options.seed ?? 7);
  client.setClock('2026-10-01T04:00:00.000Z');
  await client.post('/v1/accounts', { accountId: CONSOLE_ACCOUNT, name: 'Acme Inc.', plan: CONSOLE_PLAN });
  await client.post('/v1/accounts', { accountId: 'globex', name: 'Globex Corporation', plan: CONSOLE_PLAN });
  await client.post('/v1/accounts', {
    accountId: 'initech',
    name: 'Initech',
    plan: { ...CONSOLE_PLAN, cycle: { period: 'month', anchorDay: 1, timezone: 'UTC' } },
  });
  await client.put(`/v1/accounts/${CONSOLE_ACCOUNT}/thresholds`, {
    creditTypes: {
      email: [
        { kind: 'percent_used', value: 50 },
        { kind: 'percent_used', value: 90 },
      ],
      mobile: [{ kind: 'remaining', value: 5_000 }],
    },
  });
  const previous = Math.floor(options.rows * 0.45);
  client.setClock('2026-10-31T23:00:00.000Z');
  await consumeSpread(client, CONSOLE_ACCOUNT, previous, Date.parse('2026-10-01T05:00:00Z'), Date.parse('2026-10-31T22:00:00Z'), 'oct', random);
  await consumeSpread(client, 'globex', 300, Date.parse('2026-10-01T05:00:00Z'), Date.parse('2026-10-31T22:00:00Z'), 'gx-oct', random);
  client.setClock('2026-11-01T04:00:00.000Z');
  await client.post(`/v1/accounts/${CONSOLE_ACCOUNT}/cycles`, { cycleId: '2026-11' });
  client.setClock('2026-11-02T12:00:00.000Z');
  await client.post(`/v1/accounts/${CONSOLE_ACCOUNT}/grants`, {
    grantId: 'q4-research-promo',
    creditType: 'ai_research',
    credits: 500,
    reason: 'Q4 research promotion',
    expiresAt: '2027-01-01T05:00:00Z',
  });
  const now = '2026-11-20T15:00:00.000Z';
  client.setClock('2026-11-20T14:00:00.000Z');
  let head = await consumeSpread(
    client,
    CONSOLE_ACCOUNT,
    options.rows - previous,
    Date.parse('2026-11-01T05:00:00Z'),
    Date.parse('2026-11-20T13:00:00Z'),
    'nov',
    random,
  );
  // Refunds: every 97th November charge, half of it.
  client.setClock('2026-11-20T14:30:00.000Z');
  for (let i = 0; i < options.rows - previous; i += 97) {
    const answer = await client
      .post(`/v1/accounts/${CONSOLE_ACCOUNT}/refunds`, { refundId: `refund-nov-${i}`, consumptionId: `nov-${i}`, reason: 'bounced: no valid data' })
      .catch(() => undefined);
    head = Math.max(head, answer?.position ?? 0);
  }
  client.setClock(now);
  return { rows: options.rows + Math.ceil((options.rows - previous) / 97), head, now };
}

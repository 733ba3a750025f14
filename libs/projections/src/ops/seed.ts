import { AccountState, decide, DomainError, evolve, initialState, LedgerCommand, LedgerEvent, Plan } from '@credit-ledger/domain';
import { EventStore, EventToAppend, NO_STREAM } from '@credit-ledger/event-store';
import { accountStream, encodeEvents } from '@credit-ledger/ledger';

/** Events per append while seeding (one account's stream at a time). */
export const SEED_APPEND_CHUNK = 1_000;
/** Appends in flight while seeding, so the writer thread always has a group to commit. */
export const SEED_APPENDS_IN_FLIGHT = 8;

export interface SeedOptions {
  readonly accounts: number;
  readonly events: number;
  readonly seed: number;
  readonly months: number;
  /** First day of the seeded history (UTC); the history runs `months` months from there. */
  readonly start: string;
  readonly onProgress?: (eventsWritten: number) => void;
  /** Account ids are this followed by a number (default `seed_`): seeds with other prefixes go to other accounts. */
  readonly accountPrefix?: string;
  /**
   * Appends in flight at once (default SEED_APPENDS_IN_FLIGHT). They all go to the same stream, one
   * after the other: more than 1 only for a store that commits pending appends of a stream in call
   * order (SQLite's writer thread; PostgreSQL's writers hold back a stream the other has in
   * flight). EventStoreDB's concurrent calls promise no order: the later one could find the stream
   * behind its expected revision.
   */
  readonly appendsInFlight?: number;
}

interface Action {
  readonly feature: string;
  readonly action: string;
  readonly creditType: string;
  readonly credits: number;
  readonly dataRequested: string;
  readonly weight: number;
  /** Charged once per contact: repeats of a dataKey are recorded at 0 credits. */
  readonly perContact: boolean;
}

/** The feature/action mix of a sales-data platform's credit usage. */
export const ACTION_MIX: readonly Action[] = [
  { feature: 'people_search', action: 'email_reveal', creditType: 'email', credits: 1, dataRequested: 'email', weight: 40, perContact: true },
  { feature: 'people_search', action: 'mobile_reveal', creditType: 'mobile', credits: 8, dataRequested: 'phone', weight: 12, perContact: true },
  { feature: 'waterfall', action: 'email', creditType: 'email', credits: 1, dataRequested: 'email', weight: 10, perContact: true },
  { feature: 'waterfall', action: 'mobile', creditType: 'mobile', credits: 8, dataRequested: 'phone', weight: 4, perContact: true },
  { feature: 'enrichment', action: 'crm_enrichment', creditType: 'email', credits: 1, dataRequested: 'email', weight: 14, perContact: true },
  { feature: 'job_changes', action: 'job_change_alert', creditType: 'email', credits: 1, dataRequested: 'email', weight: 5, perContact: true },
  { feature: 'exports', action: 'csv_export', creditType: 'export', credits: 1, dataRequested: 'export', weight: 10, perContact: false },
  { feature: 'ai_research', action: 'company_research', creditType: 'ai_research', credits: 3, dataRequested: 'research', weight: 5, perContact: false },
];
const TOTAL_WEIGHT = ACTION_MIX.reduce((s, a) => s + a.weight, 0);

/** Deterministic PRNG (mulberry32): the same seed gives the same history. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const TIERS = [
  { name: 'basic', email: 1_000, mobile: 50, export: 1_000, ai: 100 },
  { name: 'professional', email: 4_000, mobile: 150, export: 2_000, ai: 500 },
  { name: 'organization', email: 15_000, mobile: 500, export: 10_000, ai: 2_000 },
];

/**
 * Writes a realistic, reproducible history: each account has a team of 5–50, a plan with four
 * credit types, a skewed share of the events (a few large accounts, many small ones), the action
 * mix above with ~2% refunds and repeated contacts (charged once), and a cycle reset at every
 * month boundary. Commands go through the real deciders; events are appended to the store with
 * expected revisions, in chunks. Returns the number of events written.
 */
export async function seedHistory(store: EventStore, o: SeedOptions): Promise<{ events: number; accounts: number }> {
  const rnd = prng(o.seed);
  const shares = Array.from({ length: o.accounts }, (_, i) => 1 / (i + 1) ** 0.8); // Zipf-like skew
  const totalShare = shares.reduce((a, b) => a + b, 0);
  const startMs = Date.parse(o.start);
  const endMs = Date.UTC(new Date(startMs).getUTCFullYear(), new Date(startMs).getUTCMonth() + o.months, 1);
  let written = 0;
  const inFlight = new Set<Promise<unknown>>();

  for (let a = 0; a < o.accounts; a++) {
    const accountId = `${o.accountPrefix ?? 'seed_'}${String(a).padStart(5, '0')}`;
    const stream = accountStream(accountId);
    const target = Math.max(1, Math.round((o.events * shares[a]) / totalShare));
    const tier = TIERS[a < o.accounts / 20 ? 2 : a < o.accounts / 4 ? 1 : 0];
    const scale = Math.max(1, Math.ceil(((target / o.months) * 1.3) / tier.email)); // allocations cover the usage
    const plan: Plan = {
      creditTypes: {
        email: { allocation: tier.email * scale, overdraft: { policy: 'deny' } },
        mobile: { allocation: tier.mobile * scale * 4, overdraft: { policy: 'allow', limit: 50 } },
        export: { allocation: tier.export * scale, overdraft: { policy: 'deny' } },
        ai_research: { allocation: tier.ai * scale, overdraft: { policy: 'deny' } },
      },
      cycle: { period: 'month', anchorDay: 1, timezone: 'UTC' },
    };
    const team = Array.from({ length: 5 + Math.floor(rnd() * 46) }, (_, u) => `user${u}@${accountId}.test`);
    let state: AccountState = initialState();
    let revision = NO_STREAM;
    let pending: EventToAppend[] = [];
    let produced = 0;
    const consumptions: { id: string }[] = [];
    const contacts: string[] = [];

    const flush = async () => {
      if (pending.length === 0) return;
      const chunk = pending;
      pending = [];
      const expected = revision;
      revision += chunk.length;
      const p = store.append(stream, expected, chunk).then(() => {
        written += chunk.length;
        inFlight.delete(p);
        o.onProgress?.(written);
      });
      inFlight.add(p);
      if (inFlight.size >= (o.appendsInFlight ?? SEED_APPENDS_IN_FLIGHT)) await Promise.race(inFlight);
    };
    const apply = async (key: string, command: LedgerCommand) => {
      let events: readonly LedgerEvent[];
      try {
        const d = decide(command, state);
        if (d.kind !== 'accepted') return;
        events = d.events;
      } catch (e) {
        if (e instanceof DomainError) return; // e.g. a refund of a 0-credit access: not an event
        throw e;
      }
      for (const e of events) state = evolve(state, e);
      produced += events.length;
      pending.push(...encodeEvents(key, events, { actor: 'seed', correlationId: `seed-${o.seed}`, recordedAt: command.at }));
      if (pending.length >= SEED_APPEND_CHUNK) await flush();
    };

    await apply(`open:${accountId}`, { type: 'OpenAccount', at: new Date(startMs).toISOString(), data: { accountId, name: `Seeded account ${a}`, plan } });
    const perMonth = Math.max(1, Math.round(target / o.months));
    for (let m = 0; m < o.months && produced < target; m++) {
      const monthStart = Date.UTC(new Date(startMs).getUTCFullYear(), new Date(startMs).getUTCMonth() + m, 1);
      const monthEnd = Math.min(endMs, Date.UTC(new Date(startMs).getUTCFullYear(), new Date(startMs).getUTCMonth() + m + 1, 1));
      if (m > 0) {
        const cycleId = new Date(monthStart).toISOString().slice(0, 7);
        await apply(`cycle:${cycleId}`, { type: 'ResetCycle', at: new Date(monthStart).toISOString(), data: { cycleId } });
      }
      const times = Array.from({ length: perMonth }, () => monthStart + Math.floor(rnd() * (monthEnd - monthStart - 1))).sort((x, y) => x - y);
      for (const t of times) {
        if (produced >= target) break;
        const at = new Date(t).toISOString();
        if (consumptions.length > 0 && rnd() < 0.02) {
          const c = consumptions[Math.floor(rnd() * consumptions.length)];
          const id = `r_${accountId}_${produced}`;
          await apply(`refund:${id}`, {
            type: 'RefundCredits',
            at,
            data: { refundId: id, consumptionId: c.id, reason: rnd() < 0.7 ? 'email bounced' : 'number invalid' },
          });
          continue;
        }
        let pick = rnd() * TOTAL_WEIGHT;
        const action = ACTION_MIX.find((x) => (pick -= x.weight) < 0) ?? ACTION_MIX[0];
        let dataKey: string | undefined;
        if (action.perContact) {
          dataKey = contacts.length > 0 && rnd() < 0.1 ? contacts[Math.floor(rnd() * contacts.length)] : `contact_${Math.floor(rnd() * 1e9)}`;
          if (contacts.length < 50_000) contacts.push(dataKey);
        }
        const id = `c_${accountId}_${produced}`;
        await apply(`consume:${id}`, {
          type: 'ConsumeCredits',
          at,
          data: {
            consumptionId: id,
            userId: team[Math.floor(rnd() ** 2 * team.length)], // a few heavy users
            creditType: action.creditType,
            feature: action.feature,
            action: action.action,
            credits: action.credits,
            description: action.perContact ? `Contact ${dataKey}` : `${action.feature} run`,
            dataRequested: action.dataRequested,
            dataKey,
          },
        });
        consumptions.push({ id });
      }
    }
    await flush();
  }
  await Promise.all(inFlight);
  return { events: written, accounts: o.accounts };
}

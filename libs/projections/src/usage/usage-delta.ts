import { dayOf, hourOf, ProjectedEvent } from '../projector';

/**
 * What one event adds to the usage read models. A refund counts on the day it happened, for the
 * user, feature and action of the consumption it refunds; `count` counts consumptions (accesses
 * at 0 credits included), not refunds.
 */
export interface UsageDelta {
  readonly accountId: string;
  readonly day: string;
  readonly hour: number;
  readonly userId: string;
  readonly creditType: string;
  readonly feature: string;
  readonly action: string;
  readonly consumed: number;
  readonly refunded: number;
  readonly count: number;
}

const memo = new WeakMap<ProjectedEvent, UsageDelta | null>();

/** The usage delta of an event, computed once for the three usage read models. */
export function usageDelta(p: ProjectedEvent): UsageDelta | undefined {
  let d = memo.get(p);
  if (d === undefined) {
    d = computeUsageDelta(p) ?? null;
    memo.set(p, d);
  }
  return d ?? undefined;
}

function computeUsageDelta(p: ProjectedEvent): UsageDelta | undefined {
  const e = p.event;
  if (e.type !== 'CreditConsumed' && e.type !== 'CreditRefunded') return undefined;
  const consumed = e.type === 'CreditConsumed';
  // One literal with every field (no spread of a shared part): one object shape, cheap in a replay.
  return {
    accountId: p.accountId,
    day: dayOf(e.occurredAt),
    hour: hourOf(e.occurredAt),
    userId: e.data.userId,
    creditType: e.data.creditType,
    feature: e.data.feature,
    action: e.data.action,
    consumed: consumed ? e.data.creditsCharged : 0,
    refunded: consumed ? 0 : e.data.credits,
    count: consumed ? 1 : 0,
  };
}

/** Sums deltas of a batch by key, so that hot keys cost one upsert per batch instead of one per event. */
export function aggregate<K extends string>(
  deltas: readonly UsageDelta[],
  keyOf: (d: UsageDelta) => K,
): Map<K, { sample: UsageDelta; consumed: number; refunded: number; count: number; users: Set<string> }> {
  const out = new Map<K, { sample: UsageDelta; consumed: number; refunded: number; count: number; users: Set<string> }>();
  for (const d of deltas) {
    const k = keyOf(d);
    let acc = out.get(k);
    if (!acc) {
      acc = { sample: d, consumed: 0, refunded: 0, count: 0, users: new Set() };
      out.set(k, acc);
    }
    acc.consumed += d.consumed;
    acc.refunded += d.refunded;
    acc.count += d.count;
    acc.users.add(d.userId);
  }
  return out;
}

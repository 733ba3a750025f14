import { BucketMovement } from '../events';
import { Bucket, bucketOrder } from '../state';

/** Plans the draws of `credits` from the live buckets; null when the overdraft policy refuses. */
export function planDraws(
  buckets: readonly Bucket[],
  remaining: number,
  credits: number,
  overdraft: { policy: 'deny' | 'allow'; limit?: number },
  cycleBucket: string,
): BucketMovement[] | null {
  // The usual case: one live bucket that has enough.
  if (buckets.length === 1 && credits > 0 && buckets[0].remaining >= credits) return [{ bucketId: buckets[0].id, credits }];
  const draws = new Map<string, number>();
  let need = credits;
  const ordered = buckets.length === 1 ? buckets : [...buckets].sort(bucketOrder);
  for (const bucket of ordered) {
    if (need === 0) break;
    if (bucket.remaining <= 0) continue;
    const take = Math.min(bucket.remaining, need);
    draws.set(bucket.id, take);
    need -= take;
  }
  if (need > 0) {
    if (overdraft.policy === 'deny') return null;
    if (overdraft.limit !== undefined && remaining - credits < -overdraft.limit) return null;
    draws.set(cycleBucket, (draws.get(cycleBucket) ?? 0) + need);
  }
  return [...draws.entries()].map(([bucketId, drawn]) => ({ bucketId, credits: drawn }));
}

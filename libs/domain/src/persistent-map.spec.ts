import { PersistentMap } from './persistent-map';

const contents = <K, V extends NonNullable<unknown> | null>(map: PersistentMap<K, V>) => [...map.entries()];

describe('PersistentMap', () => {
  it('set and delete return new versions and leave the old ones as they were', () => {
    const empty = PersistentMap.empty<string, number>();
    const one = empty.set('a', 1);
    const two = one.set('b', 2);
    const updated = two.set('a', 10);
    const removed = updated.delete('b');
    expect(contents(empty)).toEqual([]);
    expect(contents(one)).toEqual([['a', 1]]);
    expect(contents(two)).toEqual([
      ['a', 1],
      ['b', 2],
    ]);
    expect(contents(updated)).toEqual([
      ['a', 10],
      ['b', 2],
    ]);
    expect(contents(removed)).toEqual([['a', 10]]);
    // and again, in another order (each read walks the shared Map to that version)
    expect(two.get('a')).toBe(1);
    expect(removed.has('b')).toBe(false);
    expect(one.size).toBe(1);
    expect(updated.get('a')).toBe(10);
    expect(empty.size).toBe(0);
  });

  it('branches: two versions written from the same one stay independent', () => {
    const base = PersistentMap.empty<string, number>().set('x', 1);
    const left = base.set('l', 2);
    const right = base.set('r', 3);
    expect(contents(left)).toEqual([
      ['x', 1],
      ['l', 2],
    ]);
    expect(contents(right)).toEqual([
      ['x', 1],
      ['r', 3],
    ]);
    expect(contents(base)).toEqual([['x', 1]]);
    expect(left.get('r')).toBeUndefined();
  });

  it('deleting a missing key returns the same version', () => {
    const map = PersistentMap.empty<string, number>().set('a', 1);
    expect(map.delete('zzz')).toBe(map);
  });

  it('reads a version many writes back without deep recursion', () => {
    const first = PersistentMap.empty<number, number>().set(0, 0);
    let map = first;
    for (let index = 1; index < 200_000; index++) map = map.set(index, index);
    expect(first.size).toBe(1);
    expect(map.size).toBe(200_000);
    expect(map.get(199_999)).toBe(199_999);
  });

  it('iterates a snapshot, undisturbed by reading other versions meanwhile', () => {
    const older = PersistentMap.empty<string, number>().set('a', 1);
    const newer = older.set('b', 2);
    const seen: string[] = [];
    for (const [key] of newer) {
      seen.push(key);
      older.get('a');
    }
    expect(seen).toEqual(['a', 'b']);
    const forEach: string[] = [];
    newer.forEach((value, key) => forEach.push(`${key}=${value}`));
    expect(forEach).toEqual(['a=1', 'b=2']);
    expect([...newer.keys()]).toEqual(['a', 'b']);
    expect([...newer.values()]).toEqual([1, 2]);
  });
});

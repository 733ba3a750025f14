/**
 * An immutable map for the account's indexes, which grow with every command: `set` and `delete`
 * return a new map and leave the old one as it was, in O(1) instead of an O(n) copy.
 *
 * How (Baker's "rerooting", as in Conchon & Filliâtre's persistent arrays): all versions of one
 * lineage share one native Map. The newest version owns it; every older version is a one-entry
 * difference towards a newer one. Reading an older version first walks back to it, undoing the
 * differences (and turning the newer versions into differences the other way). A fold only ever
 * reads the newest version, so it pays O(1) per write; reading the state a failed decision
 * started from undoes that decision's few writes once. No version is ever observably changed.
 *
 * Iteration follows insertion order, like a Map (a key deleted and restored moves to the end).
 * Values must not be `undefined` (the type says so): a stored undefined would read as absent.
 * Not for concurrent readers in other threads; JavaScript has none.
 */
/** Any value but undefined (a stored undefined would read as absent). */
type Defined = NonNullable<unknown>;

export class PersistentMap<K, V extends Defined | null> implements ReadonlyMap<K, V> {
  // Flat fields rather than node objects: one allocation per write on the hot path. TypeScript
  // `private` rather than `#`: Node 20's private-field checks made writes twice as slow.
  /** The shared Map when this version owns it, else null and the difference below applies. */
  private shared: Map<K, V> | null;
  /** Towards the newer version: this version has `key` set to `value` (or absent). */
  private towards: PersistentMap<K, V> | null = null;
  private key: K | undefined = undefined;
  private value: V | undefined = undefined;
  private present = false;

  private constructor(entries: Map<K, V>) {
    this.shared = entries;
  }

  static empty<K, V extends Defined | null>(): PersistentMap<K, V> {
    return new PersistentMap<K, V>(new Map());
  }

  get size(): number {
    return this.owned().size;
  }

  get(key: K): V | undefined {
    return this.owned().get(key);
  }

  has(key: K): boolean {
    return this.owned().has(key);
  }

  set(key: K, value: V): PersistentMap<K, V> {
    return this.write(key, value, true);
  }

  delete(key: K): PersistentMap<K, V> {
    return this.has(key) ? this.write(key, undefined, false) : this;
  }

  /** Iterators run over a snapshot, so reading another version meanwhile cannot disturb them. */
  entries(): MapIterator<[K, V]> {
    return [...this.owned()].values();
  }

  keys(): MapIterator<K> {
    return [...this.owned().keys()].values();
  }

  values(): MapIterator<V> {
    return [...this.owned().values()].values();
  }

  [Symbol.iterator](): MapIterator<[K, V]> {
    return this.entries();
  }

  forEach(callback: (value: V, key: K, map: ReadonlyMap<K, V>) => void): void {
    for (const [key, value] of this.entries()) callback(value, key, this);
  }

  private write(key: K, value: V | undefined, present: boolean): PersistentMap<K, V> {
    const entries = this.owned();
    const next = new PersistentMap<K, V>(entries);
    this.becomeDifference(entries, key, next);
    if (present) entries.set(key, value as V);
    else entries.delete(key);
    return next;
  }

  /** Hands the shared Map to `newer`, remembering this version's slot of `key`. */
  private becomeDifference(entries: Map<K, V>, key: K, newer: PersistentMap<K, V>): void {
    // One lookup, not has+get: values are never undefined (see the class comment).
    this.value = entries.get(key);
    this.present = this.value !== undefined;
    this.key = key;
    this.towards = newer;
    this.shared = null;
  }

  /** Makes this version the owner of the shared Map (iteratively: the path may be long). */
  private owned(): Map<K, V> {
    if (this.shared !== null) return this.shared;
    const path: PersistentMap<K, V>[] = [this];
    let version = this.towards as PersistentMap<K, V>;
    while (version.shared === null) {
      path.push(version);
      version = version.towards as PersistentMap<K, V>;
    }
    const entries = version.shared;
    for (let step = path.length - 1; step >= 0; step--) {
      const older = path[step];
      const newer = older.towards as PersistentMap<K, V>;
      const key = older.key as K;
      const present = older.present;
      const value = older.value;
      newer.becomeDifference(entries, key, older);
      if (present) entries.set(key, value as V);
      else entries.delete(key);
      older.shared = entries;
      older.towards = null;
      older.key = undefined;
      older.value = undefined;
    }
    return entries;
  }
}

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
 * Not for concurrent readers in other threads; JavaScript has none.
 */
export class PersistentMap<K, V> implements ReadonlyMap<K, V> {
  #node: MapNode<K, V>;

  private constructor(node: MapNode<K, V>) {
    this.#node = node;
  }

  static empty<K, V>(): PersistentMap<K, V> {
    return new PersistentMap<K, V>({ kind: 'root', entries: new Map() });
  }

  get size(): number {
    return this.entries_().size;
  }

  get(key: K): V | undefined {
    return this.entries_().get(key);
  }

  has(key: K): boolean {
    return this.entries_().has(key);
  }

  set(key: K, value: V): PersistentMap<K, V> {
    return this.write(key, { present: true, value });
  }

  delete(key: K): PersistentMap<K, V> {
    return this.has(key) ? this.write(key, ABSENT) : this;
  }

  /** Iterators run over a snapshot, so reading another version meanwhile cannot disturb them. */
  entries(): MapIterator<[K, V]> {
    return [...this.entries_()].values();
  }

  keys(): MapIterator<K> {
    return [...this.entries_().keys()].values();
  }

  values(): MapIterator<V> {
    return [...this.entries_().values()].values();
  }

  [Symbol.iterator](): MapIterator<[K, V]> {
    return this.entries();
  }

  forEach(callback: (value: V, key: K, map: ReadonlyMap<K, V>) => void): void {
    for (const [key, value] of this.entries()) callback(value, key, this);
  }

  private write(key: K, slot: Slot<V>): PersistentMap<K, V> {
    const entries = this.entries_();
    const previous = slotOf(entries, key);
    put(entries, key, slot);
    const next = new PersistentMap<K, V>({ kind: 'root', entries });
    this.#node = { kind: 'diff', key, slot: previous, towards: next };
    return next;
  }

  /** Makes this version the owner of the shared Map (iteratively: the path may be long). */
  private entries_(): Map<K, V> {
    const node = this.#node;
    if (node.kind === 'root') return node.entries;
    const path: PersistentMap<K, V>[] = [];
    let version: PersistentMap<K, V> = this;
    while (version.#node.kind === 'diff') {
      path.push(version);
      version = version.#node.towards;
    }
    const entries = (version.#node as RootNode<K, V>).entries;
    for (let i = path.length - 1; i >= 0; i--) {
      const older = path[i];
      const diff = older.#node as DiffNode<K, V>;
      const newer = diff.towards;
      const undone = slotOf(entries, diff.key);
      put(entries, diff.key, diff.slot);
      older.#node = { kind: 'root', entries };
      newer.#node = { kind: 'diff', key: diff.key, slot: undone, towards: older };
    }
    return entries;
  }
}

type Slot<V> = { readonly present: true; readonly value: V } | { readonly present: false };

const ABSENT = { present: false } as const;

interface RootNode<K, V> {
  readonly kind: 'root';
  readonly entries: Map<K, V>;
}

interface DiffNode<K, V> {
  readonly kind: 'diff';
  readonly key: K;
  /** The key's slot in this version. */
  readonly slot: Slot<V>;
  readonly towards: PersistentMap<K, V>;
}

type MapNode<K, V> = RootNode<K, V> | DiffNode<K, V>;

function slotOf<K, V>(entries: Map<K, V>, key: K): Slot<V> {
  return entries.has(key) ? { present: true, value: entries.get(key) as V } : ABSENT;
}

function put<K, V>(entries: Map<K, V>, key: K, slot: Slot<V>): void {
  if (slot.present) entries.set(key, slot.value);
  else entries.delete(key);
}

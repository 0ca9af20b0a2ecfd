// An immutable map from string keys (a hash array mapped trie): `set` returns a new map that
// shares every untouched branch with the old one. It is what makes a run's state cheap to keep at
// every step of its journal (time travel) and safe to build on without copying (a batch that
// rolls back simply drops its new states).

const BITS = 5;
const WIDTH = 1 << BITS;
const MASK = WIDTH - 1;
const MAX_SHIFT = 30; // seven levels of five bits use the whole 32-bit hash

interface Leaf<V> {
  readonly key: string;
  readonly hash: number;
  readonly value: V;
}

/** Children are leaves or sub-tries, at positions given by the set bits of `bitmap`. */
interface Branch<V> {
  readonly bitmap: number;
  readonly children: readonly Entry<V>[];
}

/** Leaves whose full 32-bit hashes are equal. */
interface Collision<V> {
  readonly hash: number;
  readonly leaves: readonly Leaf<V>[];
}

type Entry<V> = Leaf<V> | Branch<V> | Collision<V>;

const isLeaf = <V>(entry: Entry<V>): entry is Leaf<V> => 'key' in entry;
const isCollision = <V>(entry: Entry<V>): entry is Collision<V> => 'leaves' in entry;

const EMPTY_BRANCH: Branch<never> = { bitmap: 0, children: [] };

export class PersistentMap<V> {
  readonly #root: Branch<V>;
  readonly size: number;

  private constructor(root: Branch<V>, size: number) {
    this.#root = root;
    this.size = size;
  }

  static empty<V>(): PersistentMap<V> {
    return new PersistentMap<V>(EMPTY_BRANCH, 0);
  }

  get(key: string): V | undefined {
    const hash = hashOf(key);
    let entry: Entry<V> = this.#root;
    for (let shift = 0; ; shift += BITS) {
      if (isLeaf(entry)) return entry.key === key ? entry.value : undefined;
      if (isCollision(entry)) return entry.leaves.find((leaf) => leaf.key === key)?.value;
      const bit = 1 << ((hash >>> shift) & MASK);
      if ((entry.bitmap & bit) === 0) return undefined;
      entry = entry.children[popcount(entry.bitmap & (bit - 1))] as Entry<V>;
    }
  }

  has(key: string): boolean {
    return this.get(key) !== undefined;
  }

  set(key: string, value: V): PersistentMap<V> {
    const added = { yes: false };
    const root = setIn(this.#root, { key, hash: hashOf(key), value }, 0, added) as Branch<V>;
    return new PersistentMap(root, this.size + (added.yes ? 1 : 0));
  }

  *values(): IterableIterator<V> {
    for (const leaf of leaves(this.#root)) yield leaf.value;
  }

  *entries(): IterableIterator<[string, V]> {
    for (const leaf of leaves(this.#root)) yield [leaf.key, leaf.value];
  }

  [Symbol.iterator](): IterableIterator<[string, V]> {
    return this.entries();
  }
}

function setIn<V>(entry: Entry<V>, leaf: Leaf<V>, shift: number, added: { yes: boolean }): Entry<V> {
  if (isLeaf(entry)) {
    if (entry.key === leaf.key) return entry.value === leaf.value ? entry : leaf;
    added.yes = true;
    return merge(entry, leaf, shift);
  }
  if (isCollision(entry)) {
    if (entry.hash !== leaf.hash) {
      added.yes = true;
      return merge(entry, leaf, shift);
    }
    const index = entry.leaves.findIndex((item) => item.key === leaf.key);
    if (index < 0) added.yes = true;
    const next = [...entry.leaves];
    next.splice(index < 0 ? next.length : index, index < 0 ? 0 : 1, leaf);
    return { hash: entry.hash, leaves: next };
  }
  const bit = 1 << ((leaf.hash >>> shift) & MASK);
  const index = popcount(entry.bitmap & (bit - 1));
  const children = [...entry.children];
  if ((entry.bitmap & bit) === 0) {
    added.yes = true;
    children.splice(index, 0, leaf);
    return { bitmap: entry.bitmap | bit, children };
  }
  const child = children[index] as Entry<V>;
  const updated = setIn(child, leaf, shift + BITS, added);
  if (updated === child) return entry;
  children[index] = updated;
  return { bitmap: entry.bitmap, children };
}

/** Two entries with different keys that met at one position: a branch at `shift` holding both. */
function merge<V>(a: Leaf<V> | Collision<V>, b: Leaf<V>, shift: number): Entry<V> {
  if (a.hash === b.hash) return { hash: a.hash, leaves: [...(isLeaf(a) ? [a] : a.leaves), b] };
  if (shift > MAX_SHIFT) throw new Error('persistent map: different hashes cannot share every level');
  const bitA = (a.hash >>> shift) & MASK;
  const bitB = (b.hash >>> shift) & MASK;
  if (bitA === bitB) return { bitmap: 1 << bitA, children: [merge(a, b, shift + BITS)] };
  return { bitmap: (1 << bitA) | (1 << bitB), children: bitA < bitB ? [a, b] : [b, a] };
}

function* leaves<V>(entry: Entry<V>): Generator<Leaf<V>> {
  if (isLeaf(entry)) yield entry;
  else if (isCollision(entry)) yield* entry.leaves;
  else for (const child of entry.children) yield* leaves(child);
}

function popcount(value: number): number {
  let v = value - ((value >>> 1) & 0x55555555);
  v = (v & 0x33333333) + ((v >>> 2) & 0x33333333);
  return (((v + (v >>> 4)) & 0x0f0f0f0f) * 0x01010101) >>> 24;
}

/** FNV-1a, 32 bits. */
export function hashOf(text: string): number {
  let hash = 0x811c9dc5;
  for (let index = 0; index < text.length; index += 1) {
    hash ^= text.charCodeAt(index);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash;
}

// Per-key shares of one bounded store: what each owner (key digest) holds, its evictable entries
// oldest first, and which entry makes room when a bound is reached, so one key never evicts another's.

/** The two bounds of a store, in the store's unit (entries or bytes). */
export interface ShareBounds {
  /** What every owner holds together. */
  readonly total: number;
  /** What one owner may hold. */
  readonly perOwner: number;
}

/** The bound an owner is about to pass. */
export type ShareBound = 'perOwner' | 'total';

/**
 * What has to happen before an owner adds to a store: nothing (`fits`); evicting `key` of `owner`
 * (`evict`); or nothing can be evicted (`full`), where `owner` is the holder that should shrink.
 */
export type Room<K> =
  | { readonly kind: 'fits' }
  | { readonly kind: 'evict'; readonly key: K; readonly owner: string; readonly bound: ShareBound }
  | { readonly kind: 'full'; readonly owner: string; readonly bound: ShareBound };

const fits: Room<never> = Object.freeze({ kind: 'fits' });

/** One owner's holdings. */
interface Account<K> {
  readonly owner: string;
  /** Everything charged to the owner: its entries, pinned or not, and amounts held outside entries. */
  amount: number;
  /** Entries that may be evicted, oldest (or least recently used) first, with their amounts. */
  readonly entries: Map<K, number>;
  /** Entries that are held but never evicted (a session with a socket), with their amounts. */
  readonly pinned: Map<K, number>;
  /** Index in the heap. */
  index: number;
}

/**
 * Per-owner accounting for one store. Every operation is O(1) plus O(log owners) to keep the
 * largest holder on top of a binary heap; the store decides what an eviction means.
 *
 * The eviction rule ({@link OwnerShares.room}): an owner past its own share gives up its own oldest
 * entry; when the total would be passed, the entry comes from the owner holding the most if that
 * holds more than the adding owner, else the adding owner gives up its own. So an owner's entries
 * are only ever taken for an owner that holds less than it: the largest holders give way first.
 */
export class OwnerShares<K> {
  readonly bounds: ShareBounds;
  readonly #accounts = new Map<string, Account<K>>();
  /** Accounts as a binary max-heap on `amount`: the largest holder is first. */
  readonly #heap: Account<K>[] = [];
  #total = 0;

  constructor(bounds: ShareBounds) {
    this.bounds = bounds;
  }

  /** What every owner holds together. */
  get total(): number {
    return this.#total;
  }

  /** Owners holding anything. */
  get owners(): number {
    return this.#accounts.size;
  }

  /** What `owner` holds. */
  amountOf(owner: string): number {
    return this.#accounts.get(owner)?.amount ?? 0;
  }

  /** Adds an evictable entry at the end of the owner's order (it is the newest). */
  add(owner: string, key: K, amount: number): void {
    const account = this.#open(owner);
    account.entries.set(key, amount);
    this.#change(account, amount);
  }

  /** Removes an entry, evictable or pinned; false when the owner has no such entry. */
  delete(owner: string, key: K): boolean {
    const account = this.#accounts.get(owner);
    if (account === undefined) return false;
    const amount = account.entries.get(key) ?? account.pinned.get(key);
    if (amount === undefined) return false;
    if (!account.entries.delete(key)) account.pinned.delete(key);
    this.#change(account, -amount);
    return true;
  }

  /** Moves an evictable entry to the end of its owner's order (it was just used). */
  touch(owner: string, key: K): void {
    const entries = this.#accounts.get(owner)?.entries;
    const amount = entries?.get(key);
    if (entries === undefined || amount === undefined) return;
    entries.delete(key);
    entries.set(key, amount);
  }

  /** Makes an entry one that is never evicted; it still counts. */
  pin(owner: string, key: K): void {
    const account = this.#accounts.get(owner);
    const amount = account?.entries.get(key);
    if (account === undefined || amount === undefined) return;
    account.entries.delete(key);
    account.pinned.set(key, amount);
  }

  /** Makes a pinned entry evictable again, as the newest of its owner. */
  unpin(owner: string, key: K): void {
    const account = this.#accounts.get(owner);
    const amount = account?.pinned.get(key);
    if (account === undefined || amount === undefined) return;
    account.pinned.delete(key);
    account.entries.set(key, amount);
  }

  /** Charges (or with a negative `delta`, credits) an amount held outside any entry. */
  adjust(owner: string, delta: number): void {
    if (delta === 0) return;
    this.#change(this.#open(owner), delta);
  }

  /** The owner's evictable entries, oldest first. */
  entriesOf(owner: string): IterableIterator<K> {
    return (this.#accounts.get(owner)?.entries ?? new Map<K, number>()).keys();
  }

  /** The owner's pinned entries. */
  pinnedOf(owner: string): IterableIterator<K> {
    return (this.#accounts.get(owner)?.pinned ?? new Map<K, number>()).keys();
  }

  /**
   * What must go before `owner` adds `adding` (0 when the store adds first and trims after). An
   * owner past its share gives up its own oldest entry. Past the total, the owner holding the most
   * gives up its oldest if it holds more than `owner` does now, else `owner` gives up its own; a
   * chosen owner with nothing evictable leaves it to `owner`'s own entries.
   */
  room(owner: string, adding: number): Room<K> {
    const account = this.#accounts.get(owner);
    const holds = account?.amount ?? 0;
    const after = holds + adding;
    let from: Account<K> | undefined;
    let bound: ShareBound;
    if (after > this.bounds.perOwner) {
      from = account;
      bound = 'perOwner';
    } else if (this.#total + adding > this.bounds.total) {
      const top = this.#heap[0];
      from = top !== undefined && top.amount > holds ? top : account;
      bound = 'total';
    } else {
      return fits;
    }
    for (const candidate of from === account ? [account] : [from, account]) {
      if (candidate === undefined) continue;
      for (const key of candidate.entries.keys()) return { kind: 'evict', key, owner: candidate.owner, bound };
    }
    return { kind: 'full', owner: from?.owner ?? owner, bound };
  }

  /** Forgets everything. */
  clear(): void {
    this.#accounts.clear();
    this.#heap.length = 0;
    this.#total = 0;
  }

  #open(owner: string): Account<K> {
    let account = this.#accounts.get(owner);
    if (account === undefined) {
      account = { owner, amount: 0, entries: new Map(), pinned: new Map(), index: this.#heap.length };
      this.#accounts.set(owner, account);
      this.#heap.push(account);
    }
    return account;
  }

  #change(account: Account<K>, delta: number): void {
    account.amount += delta;
    this.#total += delta;
    if (account.amount === 0 && account.entries.size === 0 && account.pinned.size === 0) {
      this.#accounts.delete(account.owner);
      this.#removeAt(account.index);
    } else if (delta > 0) {
      this.#up(account.index);
    } else {
      this.#down(account.index);
    }
  }

  #removeAt(index: number): void {
    const last = this.#heap.pop();
    if (last === undefined || index >= this.#heap.length) return;
    this.#heap[index] = last;
    last.index = index;
    this.#up(index);
    this.#down(last.index);
  }

  #up(index: number): void {
    const heap = this.#heap;
    const account = heap[index];
    if (account === undefined) return;
    while (index > 0) {
      const parentIndex = (index - 1) >> 1;
      const parent = heap[parentIndex];
      if (parent === undefined || parent.amount >= account.amount) break;
      heap[index] = parent;
      parent.index = index;
      index = parentIndex;
    }
    heap[index] = account;
    account.index = index;
  }

  #down(index: number): void {
    const heap = this.#heap;
    const account = heap[index];
    if (account === undefined) return;
    for (;;) {
      const leftIndex = 2 * index + 1;
      const left = heap[leftIndex];
      if (left === undefined) break;
      const right = heap[leftIndex + 1];
      let childIndex = leftIndex;
      let child = left;
      if (right !== undefined && right.amount > left.amount) {
        childIndex = leftIndex + 1;
        child = right;
      }
      if (child.amount <= account.amount) break;
      heap[index] = child;
      child.index = index;
      index = childIndex;
    }
    heap[index] = account;
    account.index = index;
  }
}

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

/** An entry's place in its owner's accounts: the store keeps it beside the entry (no lookup by key). */
export interface ShareEntry<K> {
  readonly key: K;
  readonly amount: number;
}

/** One owner's holdings. Entries are kept in doubly linked lists: no hashing on the hot path. */
interface Account<K> {
  readonly owner: string;
  /** Everything charged to the owner: its entries, pinned or not. */
  amount: number;
  /** Entries, pinned or not. */
  size: number;
  /** Evictable entries, oldest (or least recently used) first. */
  readonly evictable: EntryList<K>;
  /** Entries held but never evicted (a session with a socket). */
  readonly pinned: EntryList<K>;
  /** Index in the heap. */
  index: number;
}

interface EntryList<K> {
  head: Entry<K> | undefined;
  tail: Entry<K> | undefined;
}

class Entry<K> implements ShareEntry<K> {
  readonly key: K;
  amount: number;
  /** Undefined once deleted. */
  account: Account<K> | undefined;
  list: EntryList<K> | undefined;
  prev: Entry<K> | undefined = undefined;
  next: Entry<K> | undefined = undefined;

  constructor(key: K, amount: number, account: Account<K>) {
    this.key = key;
    this.amount = amount;
    this.account = account;
    this.list = undefined;
  }
}

function append<K>(list: EntryList<K>, entry: Entry<K>): void {
  entry.list = list;
  entry.prev = list.tail;
  entry.next = undefined;
  if (list.tail === undefined) list.head = entry;
  else list.tail.next = entry;
  list.tail = entry;
}

function unlink<K>(entry: Entry<K>): void {
  const list = entry.list;
  if (list === undefined) return;
  if (entry.prev === undefined) list.head = entry.next;
  else entry.prev.next = entry.next;
  if (entry.next === undefined) list.tail = entry.prev;
  else entry.next.prev = entry.prev;
  entry.prev = undefined;
  entry.next = undefined;
  entry.list = undefined;
}

function* keys<K>(list: EntryList<K> | undefined): Generator<K> {
  for (let entry = list?.head; entry !== undefined; ) {
    const next = entry.next;
    yield entry.key;
    entry = next;
  }
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

  /**
   * Adds an entry: evictable at the end of the owner's order (it is the newest), or pinned. Keep the
   * handle to change it later.
   */
  add(owner: string, key: K, amount: number, pinned = false): ShareEntry<K> {
    const account = this.#open(owner);
    const entry = new Entry(key, amount, account);
    append(pinned ? account.pinned : account.evictable, entry);
    account.size++;
    this.#change(account, amount);
    return entry;
  }

  /** Changes an entry's amount by `delta` (a session's held bytes grow and shrink with every frame). */
  resize(handle: ShareEntry<K>, delta: number): void {
    const entry = handle as Entry<K>;
    const account = entry.account;
    if (account === undefined || delta === 0) return;
    entry.amount += delta;
    this.#change(account, delta);
  }

  /** Removes an entry, evictable or pinned; false when it was removed already. */
  delete(handle: ShareEntry<K>): boolean {
    const entry = handle as Entry<K>;
    const account = entry.account;
    if (account === undefined) return false;
    unlink(entry);
    entry.account = undefined;
    account.size--;
    this.#change(account, -entry.amount);
    return true;
  }

  /** Moves an evictable entry to the end of its owner's order (it was just used). */
  touch(handle: ShareEntry<K>): void {
    const entry = handle as Entry<K>;
    const account = entry.account;
    if (account === undefined || entry.list !== account.evictable || account.evictable.tail === entry) return;
    unlink(entry);
    append(account.evictable, entry);
  }

  /** Makes an entry one that is never evicted; it still counts. */
  pin(handle: ShareEntry<K>): void {
    const entry = handle as Entry<K>;
    const account = entry.account;
    if (account === undefined || entry.list === account.pinned) return;
    unlink(entry);
    append(account.pinned, entry);
  }

  /** Makes a pinned entry evictable again, as the newest of its owner. */
  unpin(handle: ShareEntry<K>): void {
    const entry = handle as Entry<K>;
    const account = entry.account;
    if (account === undefined || entry.list !== account.pinned) return;
    unlink(entry);
    append(account.evictable, entry);
  }

  /** The owner's evictable entries, oldest first (deleting the current one while iterating is fine). */
  entriesOf(owner: string): Generator<K> {
    return keys(this.#accounts.get(owner)?.evictable);
  }

  /** The owner's pinned entries. */
  pinnedOf(owner: string): Generator<K> {
    return keys(this.#accounts.get(owner)?.pinned);
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
    let from: Account<K> | undefined;
    let bound: ShareBound;
    if (holds + adding > this.bounds.perOwner) {
      from = account;
      bound = 'perOwner';
    } else if (this.#total + adding > this.bounds.total) {
      const top = this.#heap[0];
      from = top !== undefined && top.amount > holds ? top : account;
      bound = 'total';
    } else {
      return fits;
    }
    const oldest = from?.evictable.head ?? (from !== account ? account?.evictable.head : undefined);
    if (oldest?.account !== undefined) return { kind: 'evict', key: oldest.key, owner: oldest.account.owner, bound };
    return { kind: 'full', owner: from?.owner ?? owner, bound };
  }

  /** Forgets everything (handles given out before are dead). */
  clear(): void {
    for (const account of this.#accounts.values()) {
      for (const list of [account.evictable, account.pinned]) {
        for (let entry = list.head; entry !== undefined; entry = entry.next) entry.account = undefined;
      }
    }
    this.#accounts.clear();
    this.#heap.length = 0;
    this.#total = 0;
  }

  #open(owner: string): Account<K> {
    let account = this.#accounts.get(owner);
    if (account === undefined) {
      account = { owner, amount: 0, size: 0, evictable: { head: undefined, tail: undefined }, pinned: { head: undefined, tail: undefined }, index: this.#heap.length };
      this.#accounts.set(owner, account);
      this.#heap.push(account);
    }
    return account;
  }

  #change(account: Account<K>, delta: number): void {
    account.amount += delta;
    this.#total += delta;
    if (account.amount === 0 && account.size === 0) {
      this.#accounts.delete(account.owner);
      this.#removeAt(account.index);
    } else if (delta > 0) {
      this.#up(account.index);
    } else if (delta < 0) {
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

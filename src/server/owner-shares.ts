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

/**
 * The bookkeeping fields OwnerShares keeps on each entry. Entries are the stores' own objects (a task
 * record, a stored image), so accounting for one costs no allocation and no hashing: a store
 * creates its objects with these fields as {@link unshared} gives them and never writes them.
 */
export interface ShareNode {
  /** The owner's account while the entry counts; undefined before it is added and once deleted. */
  shareAccount: object | undefined;
  sharePrev: ShareNode | undefined;
  shareNext: ShareNode | undefined;
  /** Pinned entries count but are never evicted (a session with a socket). */
  sharePinned: boolean;
  /** What the entry counts for. */
  shareAmount: number;
}

/** The initial bookkeeping fields of an entry. */
export function unshared(): ShareNode {
  return { shareAccount: undefined, sharePrev: undefined, shareNext: undefined, sharePinned: false, shareAmount: 0 };
}

/** One owner's holdings. Entries are kept in doubly linked lists through their own fields. */
interface Account {
  readonly owner: string;
  /** Everything charged to the owner: its entries, pinned or not. */
  amount: number;
  /** Entries, pinned or not. */
  size: number;
  /** Evictable entries, oldest (or least recently used) first. */
  readonly evictable: EntryList;
  /** Entries held but never evicted. */
  readonly pinned: EntryList;
  /** Index in the heap. */
  index: number;
}

interface EntryList {
  head: ShareNode | undefined;
  tail: ShareNode | undefined;
}

function append(list: EntryList, node: ShareNode): void {
  node.sharePrev = list.tail;
  node.shareNext = undefined;
  if (list.tail === undefined) list.head = node;
  else list.tail.shareNext = node;
  list.tail = node;
}

function unlink(list: EntryList, node: ShareNode): void {
  if (node.sharePrev === undefined) list.head = node.shareNext;
  else node.sharePrev.shareNext = node.shareNext;
  if (node.shareNext === undefined) list.tail = node.sharePrev;
  else node.shareNext.sharePrev = node.sharePrev;
  node.sharePrev = undefined;
  node.shareNext = undefined;
}

function listOf(account: Account, node: ShareNode): EntryList {
  return node.sharePinned ? account.pinned : account.evictable;
}

function* nodes<N extends ShareNode>(list: EntryList | undefined): Generator<N> {
  for (let node = list?.head; node !== undefined; ) {
    const next = node.shareNext;
    yield node as N;
    node = next;
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
export class OwnerShares<N extends ShareNode> {
  readonly bounds: ShareBounds;
  readonly #accounts = new Map<string, Account>();
  /** Accounts as a binary max-heap on `amount`: the largest holder is first. */
  readonly #heap: Account[] = [];
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

  /** Adds an entry (not counted yet): evictable at the end of the owner's order (it is the newest), or pinned. */
  add(owner: string, node: N, amount: number, pinned = false): void {
    if (node.shareAccount !== undefined) throw new Error('internal: an entry counted twice');
    const account = this.#open(owner);
    node.shareAccount = account;
    node.sharePinned = pinned;
    node.shareAmount = amount;
    append(listOf(account, node), node);
    account.size++;
    this.#change(account, amount);
  }

  /** Removes an entry, evictable or pinned; false when it does not count (never added, or removed already). */
  delete(node: N): boolean {
    const account = node.shareAccount as Account | undefined;
    if (account === undefined) return false;
    unlink(listOf(account, node), node);
    node.shareAccount = undefined;
    account.size--;
    this.#change(account, -node.shareAmount);
    return true;
  }

  /** Changes an entry's amount by `delta` (a session's held bytes grow and shrink with every frame). */
  resize(node: N, delta: number): void {
    const account = node.shareAccount as Account | undefined;
    if (account === undefined || delta === 0) return;
    node.shareAmount += delta;
    this.#change(account, delta);
  }

  /** Moves an evictable entry to the end of its owner's order (it was just used). */
  touch(node: N): void {
    const account = node.shareAccount as Account | undefined;
    if (account === undefined || node.sharePinned || account.evictable.tail === node) return;
    unlink(account.evictable, node);
    append(account.evictable, node);
  }

  /** Makes an entry one that is never evicted; it still counts. */
  pin(node: N): void {
    const account = node.shareAccount as Account | undefined;
    if (account === undefined || node.sharePinned) return;
    unlink(account.evictable, node);
    node.sharePinned = true;
    append(account.pinned, node);
  }

  /** Makes a pinned entry evictable again, as the newest of its owner. */
  unpin(node: N): void {
    const account = node.shareAccount as Account | undefined;
    if (account === undefined || !node.sharePinned) return;
    unlink(account.pinned, node);
    node.sharePinned = false;
    append(account.evictable, node);
  }

  /** The owner's evictable entries, oldest first (deleting the current one while iterating is fine). */
  entriesOf(owner: string): Generator<N> {
    return nodes<N>(this.#accounts.get(owner)?.evictable);
  }

  /** The owner's pinned entries. */
  pinnedOf(owner: string): Generator<N> {
    return nodes<N>(this.#accounts.get(owner)?.pinned);
  }

  /**
   * What must go before `owner` adds `adding` (0 when the store adds first and trims after). An
   * owner past its share gives up its own oldest entry. Past the total, the owner holding the most
   * gives up its oldest if it holds more than `owner` does now, else `owner` gives up its own; a
   * chosen owner with nothing evictable leaves it to `owner`'s own entries.
   */
  room(owner: string, adding: number): Room<N> {
    const account = this.#accounts.get(owner);
    const holds = account?.amount ?? 0;
    let from: Account | undefined;
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
    const chosen = from?.evictable.head !== undefined ? from : from !== account ? account : undefined;
    const oldest = chosen?.evictable.head;
    if (chosen !== undefined && oldest !== undefined) return { kind: 'evict', key: oldest as N, owner: chosen.owner, bound };
    return { kind: 'full', owner: from?.owner ?? owner, bound };
  }

  /** Forgets everything (every entry stops counting). */
  clear(): void {
    for (const account of this.#accounts.values()) {
      for (const list of [account.evictable, account.pinned]) {
        for (let node = list.head; node !== undefined; ) {
          const next = node.shareNext;
          node.shareAccount = undefined;
          node.sharePrev = undefined;
          node.shareNext = undefined;
          node = next;
        }
      }
    }
    this.#accounts.clear();
    this.#heap.length = 0;
    this.#total = 0;
  }

  #open(owner: string): Account {
    let account = this.#accounts.get(owner);
    if (account === undefined) {
      account = { owner, amount: 0, size: 0, evictable: { head: undefined, tail: undefined }, pinned: { head: undefined, tail: undefined }, index: this.#heap.length };
      this.#accounts.set(owner, account);
      this.#heap.push(account);
    }
    return account;
  }

  #change(account: Account, delta: number): void {
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

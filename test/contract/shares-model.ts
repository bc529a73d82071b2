// A plain model of what every bounded store promises about per-key shares (owner-shares.ts): the
// contract suites run the same operations on a store and on this, and compare what each keeps.

/** One entry the model keeps. */
interface ModelEntry {
  readonly id: string;
  readonly owner: string;
  readonly amount: number;
}

/**
 * Chooses among owners that tie as the largest holder. The rule does not say which of them gives
 * way, so a suite passes the choice the store was seen to make.
 */
export type TieBreak = (owners: readonly string[], oldestOf: (owner: string) => string | undefined) => string;

/**
 * Entries by owner, each owner's oldest (or least recently used) first. After an add: an owner past
 * its share gives up its own oldest; past the total, the largest holder gives up its oldest when it
 * holds more than the adder, else the adder its own; `keepNew` stops before the new entry itself.
 */
export class SharesModel {
  readonly #perOwner: number;
  readonly #total: number;
  readonly #entries: ModelEntry[] = [];

  constructor(bounds: { readonly perOwner: number; readonly total: number }) {
    this.#perOwner = bounds.perOwner;
    this.#total = bounds.total;
  }

  amountOf(owner: string): number {
    return this.#entries.filter((e) => e.owner === owner).reduce((sum, e) => sum + e.amount, 0);
  }

  get total(): number {
    return this.#entries.reduce((sum, e) => sum + e.amount, 0);
  }

  has(id: string): boolean {
    return this.#entries.some((e) => e.id === id);
  }

  ownerOf(id: string): string | undefined {
    return this.#entries.find((e) => e.id === id)?.owner;
  }

  /** Every id kept, each owner's oldest first (owners interleaved as they were added). */
  ids(): string[] {
    return this.#entries.map((e) => e.id);
  }

  /** Adds an entry and evicts by the rule; returns the ids evicted, in order. */
  add(owner: string, id: string, amount: number, options: { readonly keepNew: boolean; readonly tieBreak: TieBreak }): string[] {
    this.#entries.push({ id, owner, amount });
    const evicted: string[] = [];
    for (;;) {
      const victim = this.#victim(owner, options.tieBreak);
      if (victim === undefined || (options.keepNew && victim === id)) return evicted;
      this.delete(victim);
      evicted.push(victim);
    }
  }

  /** Marks an entry used: it becomes its owner's newest. */
  touch(id: string): void {
    const at = this.#entries.findIndex((e) => e.id === id);
    if (at < 0) return;
    const [entry] = this.#entries.splice(at, 1);
    if (entry !== undefined) this.#entries.push(entry);
  }

  delete(id: string): boolean {
    const at = this.#entries.findIndex((e) => e.id === id);
    if (at >= 0) this.#entries.splice(at, 1);
    return at >= 0;
  }

  #oldest(owner: string): string | undefined {
    return this.#entries.find((e) => e.owner === owner)?.id;
  }

  #victim(owner: string, tieBreak: TieBreak): string | undefined {
    const holds = this.amountOf(owner);
    let from = owner;
    if (holds <= this.#perOwner) {
      if (this.total <= this.#total) return undefined;
      const owners = [...new Set(this.#entries.map((e) => e.owner))];
      const top = Math.max(...owners.map((o) => this.amountOf(o)));
      const largest = owners.filter((o) => this.amountOf(o) === top);
      if (top > holds) from = largest.length === 1 ? (largest[0] ?? owner) : tieBreak(largest, (o) => this.#oldest(o));
    }
    return this.#oldest(from) ?? this.#oldest(owner);
  }
}

/** A tie-break that picks the tied owner whose oldest entry the store no longer has. */
export function seenTieBreak(present: ReadonlySet<string>): TieBreak {
  return (owners, oldestOf) => owners.find((o) => {
    const oldest = oldestOf(o);
    return oldest !== undefined && !present.has(oldest);
  }) ?? owners[0] ?? '';
}

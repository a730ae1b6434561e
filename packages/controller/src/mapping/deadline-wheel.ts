/**
 * Items grouped by deadline slot, swept by one interval timer while any are parked. 10,000 parked
 * long-polls then cost one timer instead of 10,000, and an item never expires before its deadline
 * (at most one tick after it).
 */
export class DeadlineWheel<T> {
  readonly #tickMs: number;
  readonly #onExpire: (item: T) => void;
  readonly #slots = new Map<number, Set<T>>();
  #size = 0;
  #timer: NodeJS.Timeout | undefined;

  constructor(tickMs: number, onExpire: (item: T) => void) {
    this.#tickMs = tickMs;
    this.#onExpire = onExpire;
  }

  get size(): number {
    return this.#size;
  }

  /** Parks an item; returns its slot, which `remove` needs. */
  add(item: T, deadlineMs: number): number {
    const slot = Math.ceil(deadlineMs / this.#tickMs);
    let items = this.#slots.get(slot);
    if (!items) {
      items = new Set();
      this.#slots.set(slot, items);
    }
    items.add(item);
    this.#size++;
    if (!this.#timer) {
      this.#timer = setInterval(() => this.#sweep(), this.#tickMs);
      // Parked polls alone must not keep a closing process alive.
      this.#timer.unref();
    }
    return slot;
  }

  /** True when the item was still parked. */
  remove(item: T, slot: number): boolean {
    const items = this.#slots.get(slot);
    if (!items?.delete(item)) return false;
    if (items.size === 0) this.#slots.delete(slot);
    this.#size--;
    if (this.#size === 0) this.#stop();
    return true;
  }

  /** Every parked item, in no particular order. A snapshot: callers may remove while iterating. */
  entries(): [T, number][] {
    const all: [T, number][] = [];
    for (const [slot, items] of this.#slots) for (const item of items) all.push([item, slot]);
    return all;
  }

  #sweep(): void {
    const now = Date.now() / this.#tickMs;
    for (const [slot, items] of this.#slots) {
      if (slot > now) continue;
      this.#slots.delete(slot);
      this.#size -= items.size;
      for (const item of items) this.#onExpire(item);
    }
    if (this.#size === 0) this.#stop();
  }

  #stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }
}

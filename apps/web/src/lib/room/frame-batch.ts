/**
 * Incoming frames, applied in batches: a room in a flood (thousands of joins, leaves or messages
 * a second) would otherwise re-render the log once per frame. Frames wait here until the next
 * animation frame and are then applied together, in order, so the view updates at most once per
 * frame painted.
 */

/** Runs a function later, once; returns a function that cancels it. */
export type Scheduler = (run: () => void) => () => void;

export class FrameBatch<T> {
  #items: T[] = [];
  #cancel: (() => void) | null = null;
  readonly #apply: (items: readonly T[]) => void;
  readonly #schedule: Scheduler;

  /**
   * @param apply Called with every item pushed since the last call, oldest first.
   * @param schedule When to call it; `nextFrame` (next-frame.ts) in the browser.
   */
  constructor(apply: (items: readonly T[]) => void, schedule: Scheduler) {
    this.#apply = apply;
    this.#schedule = schedule;
  }

  /** Queues an item; the batch is applied when the scheduler says, or by {@link flush}. */
  push(item: T): void {
    this.#items.push(item);
    this.#cancel ??= this.#schedule(() => {
      this.#cancel = null;
      this.flush();
    });
  }

  /** Applies whatever waits now (before acting on a closed socket, whose last frames say why). */
  flush(): void {
    this.#cancel?.();
    this.#cancel = null;
    const items = this.#items;
    if (items.length === 0) return;
    this.#items = [];
    this.#apply(items);
  }

  /** Forgets whatever waits. */
  clear(): void {
    this.#cancel?.();
    this.#cancel = null;
    this.#items = [];
  }
}

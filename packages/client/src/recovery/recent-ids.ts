/**
 * The log ids already delivered, to deliver each entry once: a welcome after a reconnect, a page
 * and the live frames may overlap. Bounded: past `capacity` the oldest remembered id is
 * forgotten (the overlaps are recent entries, never old ones).
 */
export class RecentIds {
  readonly #ids = new Set<string>();
  readonly #capacity: number;

  constructor(capacity = 10_000) {
    this.#capacity = Math.max(1, capacity);
  }

  get size(): number {
    return this.#ids.size;
  }

  has(id: string): boolean {
    return this.#ids.has(id);
  }

  /**
   * Remembers an id.
   *
   * @returns `false` when it was remembered already (a duplicate).
   */
  add(id: string): boolean {
    if (this.#ids.has(id)) return false;
    this.#ids.add(id);
    // A Set iterates in insertion order: the first one is the oldest remembered.
    if (this.#ids.size > this.#capacity) this.#ids.delete(this.#ids.values().next().value as string);
    return true;
  }
}

/**
 * Keeps each room's unsent messages across a reload of the tab, in sessionStorage: a message
 * typed while offline must not vanish because the page was reloaded before the connection came
 * back. sessionStorage belongs to one tab, so two tabs in the same room never overwrite each
 * other's outbox (each sends its own). Storage may be unavailable or full; then the outbox lives
 * for the current page only, as before.
 */
import type { KeyValueStorage } from '../app/client-storage.ts';
import { keptOutbox, restoreOutbox, type OutboxItem } from './outbox.ts';

const OUTBOX_PREFIX = 'parley.outbox.';

export class OutboxStorage {
  readonly #storage: KeyValueStorage | null;

  /** @param storage Usually `window.sessionStorage`; `null` keeps nothing. */
  constructor(storage: KeyValueStorage | null) {
    this.#storage = storage;
  }

  /** The room's unsent messages left by an earlier page of this tab (pending ones go out after the welcome). */
  load(room: string): OutboxItem[] {
    try {
      const raw = this.#storage?.getItem(OUTBOX_PREFIX + room) ?? null;
      return raw === null ? [] : restoreOutbox(JSON.parse(raw));
    } catch {
      return [];
    }
  }

  /** Remembers what of the room's outbox the server has not confirmed (nothing: the entry goes). */
  save(room: string, outbox: readonly OutboxItem[]): void {
    const key = OUTBOX_PREFIX + room;
    const kept = keptOutbox(outbox);
    try {
      if (kept.length === 0) this.#storage?.removeItem(key);
      else this.#storage?.setItem(key, JSON.stringify(kept));
    } catch {
      // Full storage: an older copy must not come back after a reload and resend stale items.
      try {
        this.#storage?.removeItem(key);
      } catch {
        // Forbidden storage: nothing was kept, nothing can come back.
      }
    }
  }
}

import type { QuotaStore } from '../engine/engine.ts';

/** How often this instance adds its counts to the shared totals. */
const SYNC_INTERVAL_MS = 2000;

/**
 * A per-address daily message quota, shared by every instance through the engine. Each instance
 * counts locally and adds its counts to the shared totals every couple of seconds (one Redis
 * round trip for all addresses, never one per message), so an address can overshoot by what it
 * sends in that window, which its message rate bounds. Addresses over half their quota stay
 * known for the day; the others are forgotten after each sync, so the map holds only recent
 * senders and the heavy ones.
 */
export class DailyQuota {
  private day = utcDay(Date.now());
  /** Last known totals (shared total plus what this instance counted since). */
  private readonly totals = new Map<string, number>();
  /** Counts not yet added to the shared totals. */
  private pending = new Map<string, number>();
  private readonly timer: NodeJS.Timeout | undefined;
  private syncing: Promise<void> | undefined;

  /**
   * @param perDay Messages per address per UTC day; 0 turns the quota off.
   * @param store Where instances add up their counts.
   * @param onError Told when a sync fails (the counts are kept and tried again).
   */
  constructor(
    private readonly perDay: number,
    private readonly store: QuotaStore,
    private readonly onError: (err: unknown) => void = () => {},
  ) {
    if (perDay > 0) this.timer = setInterval(() => void this.sync(), SYNC_INTERVAL_MS).unref();
  }

  /** Counts one message of `key`; false when the address has used up its day's quota. */
  take(key: string, now: number = Date.now()): boolean {
    if (this.perDay === 0) return true;
    this.rollOver(now);
    const total = this.totals.get(key) ?? 0;
    if (total >= this.perDay) return false;
    this.totals.set(key, total + 1);
    this.pending.set(key, (this.pending.get(key) ?? 0) + 1);
    return true;
  }

  /** Adds the pending counts to the shared totals now (the timer does it every couple of seconds). */
  sync(): Promise<void> {
    this.syncing ??= this.syncOnce().finally(() => {
      this.syncing = undefined;
    });
    return this.syncing;
  }

  /** Addresses with a known total (for tests: it must stay small). */
  get trackedAddresses(): number {
    return this.totals.size;
  }

  close(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
  }

  private async syncOnce(): Promise<void> {
    if (this.pending.size === 0) return;
    const day = this.day;
    const counts = this.pending;
    this.pending = new Map();
    let shared: Map<string, number>;
    try {
      shared = await this.store.addMessageCounts(day, counts);
    } catch (err) {
      // Keep the counts for the next attempt; the local totals already hold them.
      for (const [key, n] of counts) this.pending.set(key, (this.pending.get(key) ?? 0) + n);
      this.onError(err);
      return;
    }
    if (day !== this.day) return; // the day turned meanwhile: those totals are yesterday's
    for (const [key] of this.totals) {
      if (!counts.has(key) && !this.pending.has(key) && (this.totals.get(key) ?? 0) < this.perDay / 2)
        this.totals.delete(key);
    }
    for (const [key, total] of shared) this.totals.set(key, total + (this.pending.get(key) ?? 0));
  }

  private rollOver(now: number): void {
    const today = utcDay(now);
    if (today === this.day) return;
    this.day = today;
    this.totals.clear();
    this.pending.clear();
  }
}

/** The UTC day of a time, e.g. `2026-11-30`. */
export function utcDay(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

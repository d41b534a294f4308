import type { DeliveryQueue, OutgoingDelivery } from './delivery-queue.ts';

/**
 * What each key (a room, a sender's address) holds of a shared delivery queue, so that each holds
 * at most its share and one busy key cannot fill the queue for the others. A place is taken when
 * a delivery is queued and given back when it ends (DeliveryQueue's `done`), or at once when the
 * queue did not take it. Keys holding nothing are forgotten, so the map holds at most as many
 * keys as the queue holds deliveries.
 */
export class QueueShares {
  private readonly held = new Map<string, number>();

  /** `share`: places one key may hold at once; 0: no share (only the queue's own bound). */
  constructor(private readonly share: number) {}

  /**
   * Queues `delivery` as one of `key`'s places: `over_share` (nothing queued) when the key holds
   * its share already; `refused` when the queue did not take it (full, counted there, or closed);
   * else the place is held until the delivery ends. Taken before the delivery is queued: it may
   * end within enqueue (a refused address).
   */
  enqueue(queue: DeliveryQueue, key: string, delivery: OutgoingDelivery): 'queued' | 'over_share' | 'refused' {
    if (!this.take(key)) return 'over_share';
    if (queue.enqueue({ ...delivery, done: () => this.release(key) })) return 'queued';
    this.release(key);
    return 'refused';
  }

  /** Takes a place for `key`; false when it holds its share already (nothing taken). */
  private take(key: string): boolean {
    const held = this.held.get(key) ?? 0;
    if (this.share > 0 && held >= this.share) return false;
    this.held.set(key, held + 1);
    return true;
  }

  /** Gives back a place `key` took. */
  private release(key: string): void {
    const left = (this.held.get(key) ?? 1) - 1;
    if (left <= 0) this.held.delete(key);
    else this.held.set(key, left);
  }
}

import { TokenBucket } from './token-bucket.ts';

/**
 * One token bucket per client address, made on first use and forgotten once full again (an
 * address that went quiet has nothing worth keeping), so the map holds only recent senders.
 */
export class KeyedBuckets {
  private readonly buckets = new Map<string, TokenBucket>();

  /** @param ratePerSecond Tokens per second; 0 turns the limit off (every take succeeds). */
  constructor(
    private readonly ratePerSecond: number,
    private readonly burst: number,
  ) {}

  /** Takes a token for `key` if there is one. */
  take(key: string, now: number = Date.now()): boolean {
    if (this.ratePerSecond === 0) return true;
    return this.bucket(key, now).take(now);
  }

  /** The tokens `key` has now (a full burst for a key not seen lately; unlimited when the rate is 0). */
  available(key: string, now: number = Date.now()): number {
    if (this.ratePerSecond === 0) return Number.POSITIVE_INFINITY;
    return this.bucket(key, now).available(now);
  }

  /** Spends `amount` of `key`'s tokens (see TokenBucket.spend). */
  spend(key: string, amount: number, now: number = Date.now()): void {
    if (this.ratePerSecond === 0) return;
    this.bucket(key, now).spend(amount, now);
  }

  /** Milliseconds until `key` has a token again. */
  retryAfterMs(key: string, now: number = Date.now()): number {
    return this.buckets.get(key)?.retryAfterMs(now) ?? 0;
  }

  /** Forgets the buckets that are full again; call now and then. */
  sweep(now: number = Date.now()): void {
    for (const [key, bucket] of this.buckets) if (bucket.isFull(now)) this.buckets.delete(key);
  }

  /** Addresses with a bucket (for tests and metrics). */
  get size(): number {
    return this.buckets.size;
  }

  private bucket(key: string, now: number): TokenBucket {
    let bucket = this.buckets.get(key);
    if (bucket === undefined) {
      bucket = new TokenBucket(this.ratePerSecond, this.burst, now);
      this.buckets.set(key, bucket);
    }
    return bucket;
  }
}

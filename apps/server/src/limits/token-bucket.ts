/**
 * A token bucket: holds up to `burst` tokens, refilled at `ratePerSecond`. Each message takes a
 * token; with none left it is refused. A rate of 0 means no limit.
 */
export class TokenBucket {
  private tokens: number;
  private updatedAt: number;

  constructor(
    private readonly ratePerSecond: number,
    private readonly burst: number,
    now: number = Date.now(),
  ) {
    this.tokens = burst;
    this.updatedAt = now;
  }

  /** Takes one token if there is one. */
  take(now: number = Date.now()): boolean {
    if (this.ratePerSecond === 0) return true;
    this.refill(now);
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }

  /** The tokens there are now (for budgets that are spent in amounts, not one at a time). */
  available(now: number = Date.now()): number {
    if (this.ratePerSecond === 0) return Number.POSITIVE_INFINITY;
    this.refill(now);
    return this.tokens;
  }

  /** Spends `amount` tokens, going into debt if there are fewer (the debt is paid by the refill). */
  spend(amount: number, now: number = Date.now()): void {
    if (this.ratePerSecond === 0) return;
    this.refill(now);
    this.tokens -= amount;
  }

  /** Milliseconds until a token is available again (0 when one is). */
  retryAfterMs(now: number = Date.now()): number {
    if (this.ratePerSecond === 0) return 0;
    this.refill(now);
    return this.tokens >= 1 ? 0 : Math.ceil(((1 - this.tokens) / this.ratePerSecond) * 1000);
  }

  /** True when the bucket is full again (an idle client's bucket can be forgotten). */
  isFull(now: number = Date.now()): boolean {
    this.refill(now);
    return this.tokens >= this.burst;
  }

  private refill(now: number): void {
    const elapsed = Math.max(0, now - this.updatedAt) / 1000;
    this.tokens = Math.min(this.burst, this.tokens + elapsed * this.ratePerSecond);
    this.updatedAt = now;
  }
}

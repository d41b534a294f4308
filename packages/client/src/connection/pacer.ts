/**
 * A token bucket for the frames this client sends. The server allows a socket 20 frames a
 * second (burst 40) by default, drops the rest with `rate_limited` and closes a socket that has
 * more than 40 dropped within a minute (1008): a client that sends faster than it may is cut
 * off. Pacing below that keeps a bot that sends in bursts connected.
 */
export interface PacerOptions {
  /** Frames a second, sustained. 0 turns pacing off. */
  perSecond: number;
  /** Frames that may go at once after a quiet spell. */
  burst: number;
}

export const DEFAULT_PACE: PacerOptions = { perSecond: 10, burst: 20 };

export class Pacer {
  readonly #options: PacerOptions;
  #tokens: number;
  #updatedAt: number;

  constructor(options: PacerOptions, now: number) {
    this.#options = options;
    this.#tokens = options.burst;
    this.#updatedAt = now;
  }

  /** Takes one frame's token if there is one. */
  tryTake(now: number): boolean {
    if (this.#options.perSecond <= 0) return true;
    this.#refill(now);
    if (this.#tokens < 1) return false;
    this.#tokens -= 1;
    return true;
  }

  /** When the next token is there (now, if one is). */
  nextAt(now: number): number {
    if (this.#options.perSecond <= 0) return now;
    this.#refill(now);
    return this.#tokens >= 1 ? now : now + Math.ceil(((1 - this.#tokens) * 1000) / this.#options.perSecond);
  }

  #refill(now: number): void {
    const elapsed = Math.max(0, now - this.#updatedAt);
    this.#tokens = Math.min(this.#options.burst, this.#tokens + (elapsed * this.#options.perSecond) / 1000);
    this.#updatedAt = now;
  }
}

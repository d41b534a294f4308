import type { FastifyBaseLogger } from 'fastify';

/** Addresses counted one by one in a summary; the rest are counted together. */
const MAX_ADDRESSES = 1000;

/**
 * Refusals are counted, not logged one by one: a flood of them would otherwise flood the log as
 * well (tens of megabytes a second). Once a minute, one line says how many requests were
 * refused, from how many addresses, and the addresses refused most.
 */
export class RefusalLog {
  private counts = new Map<string, number>();
  private others = 0;
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly log: FastifyBaseLogger,
    intervalMs = 60_000,
  ) {
    this.timer = setInterval(() => this.summarise(), intervalMs).unref();
  }

  /** Counts one refused request of an address. */
  count(addressKey: string): void {
    const known = this.counts.get(addressKey);
    if (known !== undefined) this.counts.set(addressKey, known + 1);
    else if (this.counts.size < MAX_ADDRESSES) this.counts.set(addressKey, 1);
    else this.others += 1;
  }

  close(): void {
    clearInterval(this.timer);
    this.summarise();
  }

  private summarise(): void {
    if (this.counts.size === 0 && this.others === 0) return;
    const top = [...this.counts].sort((a, b) => b[1] - a[1]).slice(0, 5);
    const total = [...this.counts.values()].reduce((n, c) => n + c, 0) + this.others;
    this.log.warn(
      { refused: total, addresses: this.counts.size + (this.others > 0 ? 1 : 0), top: Object.fromEntries(top) },
      'requests refused by per-address or total limits in the last minute',
    );
    this.counts = new Map();
    this.others = 0;
  }
}

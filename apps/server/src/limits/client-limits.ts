import type { Config } from '../config.ts';
import { TokenBucket } from './token-bucket.ts';

/**
 * Per-address accounting: open WebSockets per IP and in total, and the message rate shared by
 * all connections of one IP. Per-connection rates live in each session.
 */
export class ClientLimits {
  private open = 0;
  private readonly openPerIp = new Map<string, number>();
  private readonly ratePerIp = new Map<string, TokenBucket>();
  private readonly sweeper: NodeJS.Timeout;

  constructor(private readonly config: Config) {
    // Buckets of addresses that went quiet are full again and carry no state worth keeping.
    this.sweeper = setInterval(() => {
      const now = Date.now();
      for (const [ip, bucket] of this.ratePerIp) if (bucket.isFull(now)) this.ratePerIp.delete(ip);
    }, 60_000).unref();
  }

  /** Why a new socket from `ip` must be refused, or undefined when it may open. */
  refusal(ip: string): { status: number; message: string } | undefined {
    const { maxConnections, maxConnectionsPerIp } = this.config;
    if (maxConnections > 0 && this.open >= maxConnections) {
      return { status: 503, message: `The server is at its limit of ${maxConnections} connections; try again later.` };
    }
    if (maxConnectionsPerIp > 0 && (this.openPerIp.get(ip) ?? 0) >= maxConnectionsPerIp) {
      return { status: 429, message: `Too many connections from your address (limit ${maxConnectionsPerIp}).` };
    }
    return undefined;
  }

  /** Counts a socket that opened; call {@link closed} once when it closes. */
  opened(ip: string): void {
    this.open += 1;
    this.openPerIp.set(ip, (this.openPerIp.get(ip) ?? 0) + 1);
  }

  /** Counts a socket that closed (once per {@link opened}). */
  closed(ip: string): void {
    this.open -= 1;
    const left = (this.openPerIp.get(ip) ?? 1) - 1;
    if (left <= 0) this.openPerIp.delete(ip);
    else this.openPerIp.set(ip, left);
  }

  /** Takes one message from the address's shared allowance. */
  takeMessage(ip: string): boolean {
    if (this.config.rateLimitPerIp === 0) return true;
    let bucket = this.ratePerIp.get(ip);
    if (bucket === undefined) {
      bucket = new TokenBucket(this.config.rateLimitPerIp, this.config.rateBurstPerIp);
      this.ratePerIp.set(ip, bucket);
    }
    return bucket.take();
  }

  /** Open sockets in total. */
  get openConnections(): number {
    return this.open;
  }

  close(): void {
    clearInterval(this.sweeper);
  }
}

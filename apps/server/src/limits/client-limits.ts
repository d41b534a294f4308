import type { Config } from '../config.ts';
import { addressKey } from './address-key.ts';
import type { QuotaStore } from '../engine/engine.ts';
import { DailyQuota } from './daily-quota.ts';
import { KeyedBuckets } from './keyed-buckets.ts';

/** Why a request is refused: the code (its HTTP status comes with it), a sentence, and when to try again. */
export interface Refusal {
  code: 'rate_limited' | 'too_many_connections' | 'server_full';
  message: string;
  /** Whole seconds, for the Retry-After header. */
  retryAfterSeconds: number;
}

/**
 * Per-address accounting, every limit keyed by {@link addressKey} (IPv6 by prefix): open
 * WebSockets per address and in total, how fast an address opens new ones, its HTTP API
 * requests, the frames and messages all its connections send together, and its daily message
 * quota. Per-connection rates live in each session.
 */
export class ClientLimits {
  private open = 0;
  private readonly openPerKey = new Map<string, number>();
  private readonly connectRate: KeyedBuckets;
  private readonly httpRate: KeyedBuckets;
  private readonly messageRate: KeyedBuckets;
  private readonly frameRate: KeyedBuckets;
  private readonly historyBytes: KeyedBuckets;
  /** Refusals per address in the current second (see {@link shedding}); cleared each second. */
  private refusedThisSecond = new Map<string, number>();
  /** Connections per shed address answered at accept in the current second (see {@link mayAnswerShed}). */
  private answeredThisSecond = new Map<string, number>();
  private refusalSecond = 0;
  /** Addresses whose connections broke the rules: their recent 1008 closes, and until when they must wait. */
  private readonly abuse = new Map<string, { closes: number; since: number; until: number }>();
  readonly dailyQuota: DailyQuota;
  private readonly sweeper: NodeJS.Timeout;

  constructor(
    private readonly config: Config,
    quotaStore: QuotaStore,
    onQuotaError?: (err: unknown) => void,
  ) {
    this.connectRate = new KeyedBuckets(config.connectRatePerIp, config.connectBurstPerIp);
    this.httpRate = new KeyedBuckets(config.httpRatePerIp, config.httpBurstPerIp);
    this.messageRate = new KeyedBuckets(config.rateLimitPerIp, config.rateBurstPerIp);
    this.frameRate = new KeyedBuckets(config.frameRatePerIp, config.frameBurstPerIp);
    this.historyBytes = new KeyedBuckets(config.historyBytesPerIp, config.historyBytesBurstPerIp);
    this.dailyQuota = new DailyQuota(config.messagesPerIpPerDay, quotaStore, onQuotaError);
    this.sweeper = setInterval(() => {
      const now = Date.now();
      for (const buckets of [this.connectRate, this.httpRate, this.messageRate, this.frameRate, this.historyBytes]) {
        buckets.sweep(now);
      }
      for (const [key, record] of this.abuse)
        if (record.until < now && now - record.since > ABUSE_WINDOW_MS) this.abuse.delete(key);
    }, 60_000).unref();
  }

  /** The key an address is counted under (IPv6 grouped by IPV6_PREFIX_BITS). */
  keyOf(ip: string): string {
    return addressKey(ip, this.config.ipv6PrefixBits);
  }

  /**
   * Why a new socket from `key` must be refused, or undefined when it may open. Takes one of
   * the address's connection tokens when it may.
   */
  refusal(key: string): Refusal | undefined {
    const { maxConnections, maxConnectionsPerIp } = this.config;
    if (maxConnections > 0 && this.open >= maxConnections) {
      return {
        code: 'server_full',
        message: `The server is at its limit of ${maxConnections} connections; try again later.`,
        retryAfterSeconds: 5,
      };
    }
    if (maxConnectionsPerIp > 0 && (this.openPerKey.get(key) ?? 0) >= maxConnectionsPerIp) {
      return {
        code: 'too_many_connections',
        message: `Too many connections from your address (limit ${maxConnectionsPerIp}).`,
        retryAfterSeconds: 5,
      };
    }
    const cooldown = this.abuse.get(key)?.until ?? 0;
    if (cooldown > Date.now()) {
      return {
        code: 'rate_limited',
        message: "Connections from your address kept breaking the protocol's rules; wait before connecting again.",
        retryAfterSeconds: seconds(cooldown - Date.now()),
      };
    }
    if (!this.connectRate.take(key)) {
      return {
        code: 'rate_limited',
        message: `Your address opens connections too fast (limit ${this.config.connectRatePerIp} a second); wait a moment.`,
        retryAfterSeconds: seconds(this.connectRate.retryAfterMs(key)),
      };
    }
    return undefined;
  }

  /** Counts a request or upgrade from `key` that was refused (for {@link shedding}). */
  noteRefusal(key: string, now: number = Date.now()): void {
    this.startSecond(now);
    this.refusedThisSecond.set(key, (this.refusedThisSecond.get(key) ?? 0) + 1);
  }

  /**
   * Why a new TCP connection from `key` is to be refused as soon as it is accepted, before its
   * request is even read: the address is cooling down after breaking the rules, or it has been
   * refused SHED_AFTER_REFUSALS times already this second (a flood). Answering those before
   * HTTP parsing, routing and hooks keeps a flood's cost per attempt as low as it can be.
   * Undefined when the connection goes on as usual.
   */
  shedding(key: string, now: number = Date.now()): Refusal | undefined {
    const cooldown = this.abuse.get(key)?.until ?? 0;
    if (cooldown > now) {
      return {
        code: 'rate_limited',
        message: 'Your address kept breaking the rules; wait before trying again.',
        retryAfterSeconds: seconds(cooldown - now),
      };
    }
    const { shedAfterRefusals } = this.config;
    if (shedAfterRefusals === 0) return undefined;
    this.startSecond(now);
    if ((this.refusedThisSecond.get(key) ?? 0) < shedAfterRefusals) return undefined;
    return {
      code: 'rate_limited',
      message: 'Too many refused requests from your address this second; wait a moment.',
      retryAfterSeconds: 1,
    };
  }

  private startSecond(now: number): void {
    const second = Math.floor(now / 1000);
    if (second === this.refusalSecond) return;
    this.refusalSecond = second;
    this.refusedThisSecond = new Map();
    this.answeredThisSecond = new Map();
  }

  /**
   * Whether a connection of `key`, which is being shed (see {@link shedding}), may still be
   * answered its 429 this second: SHED_ANSWERS_PER_SECOND are; the rest of the second's are
   * closed unanswered. Counts the answer it allows.
   */
  mayAnswerShed(key: string, now: number = Date.now()): boolean {
    const { shedAnswersPerSecond } = this.config;
    if (shedAnswersPerSecond === 0) return true;
    this.startSecond(now);
    const answered = this.answeredThisSecond.get(key) ?? 0;
    if (answered >= shedAnswersPerSecond) return false;
    this.answeredThisSecond.set(key, answered + 1);
    return true;
  }

  /** Why an HTTP API request from `key` must be refused (rate), or undefined. */
  httpRefusal(key: string): Refusal | undefined {
    if (this.httpRate.take(key)) return undefined;
    return {
      code: 'rate_limited',
      message: `Too many requests from your address (limit ${this.config.httpRatePerIp} a second); wait a moment.`,
      retryAfterSeconds: seconds(this.httpRate.retryAfterMs(key)),
    };
  }

  /**
   * Counts a connection of `key` closed for breaking the rules (1008). Past ABUSE_CLOSES_MAX in
   * a minute, the address may open no connection for ABUSE_COOLDOWN_SECONDS: a client that
   * reconnects only to be closed again (a flood of junk frames) costs the server at every turn.
   */
  policyClosed(key: string, now: number = Date.now()): void {
    const { abuseClosesMax, abuseCooldownSeconds } = this.config;
    if (abuseClosesMax === 0) return;
    let record = this.abuse.get(key);
    if (record === undefined || now - record.since > ABUSE_WINDOW_MS) {
      record = { closes: 0, since: now, until: record?.until ?? 0 };
      this.abuse.set(key, record);
    }
    record.closes += 1;
    if (record.closes >= abuseClosesMax) record.until = now + abuseCooldownSeconds * 1000;
  }

  /** Counts a socket that opened; call {@link closed} once when it closes. */
  opened(key: string): void {
    this.open += 1;
    this.openPerKey.set(key, (this.openPerKey.get(key) ?? 0) + 1);
  }

  /** Counts a socket that closed (once per {@link opened}). */
  closed(key: string): void {
    this.open -= 1;
    const left = (this.openPerKey.get(key) ?? 1) - 1;
    if (left <= 0) this.openPerKey.delete(key);
    else this.openPerKey.set(key, left);
  }

  /**
   * How many bytes of history the address may be sent now (HISTORY_BYTES_PER_IP): the most a
   * welcome's or a page's history may hold for it. Reading a room's history is the costliest
   * thing a client can ask for, and reconnects and page requests can ask for it again and again.
   */
  historyAllowance(key: string): number {
    return Math.max(0, this.historyBytes.available(key));
  }

  /** Charges the bytes of history sent to the address. */
  chargeHistory(key: string, bytes: number): void {
    this.historyBytes.spend(key, bytes);
  }

  /** Milliseconds until the address may be sent `bytes` of history again. */
  historyWaitMs(key: string, bytes: number): number {
    const missing = bytes - this.historyBytes.available(key);
    return missing <= 0 ? 0 : Math.ceil((missing / Math.max(1, this.config.historyBytesPerIp)) * 1000);
  }

  /** Takes one message from the address's shared rate allowance. */
  takeMessage(key: string): boolean {
    return this.messageRate.take(key);
  }

  /** Takes one frame (of any kind, valid or not) from the address's shared frame allowance. */
  takeFrame(key: string): boolean {
    return this.frameRate.take(key);
  }

  /** Counts one stored message against the address's daily quota; false when it is used up. */
  takeDailyMessage(key: string): boolean {
    return this.dailyQuota.take(key);
  }

  close(): void {
    clearInterval(this.sweeper);
    this.dailyQuota.close();
  }
}

/** Policy closes are counted over this window for the cool-down. */
const ABUSE_WINDOW_MS = 60_000;

function seconds(ms: number): number {
  return Math.max(1, Math.ceil(ms / 1000));
}

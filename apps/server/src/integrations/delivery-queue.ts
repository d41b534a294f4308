import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import type { FastifyBaseLogger } from 'fastify';
import { DELIVERY_HEADER, EVENT_HEADER } from '@parley/protocol';
import { RefusedAddressError, WEBHOOK_PRIVATE_FLAG, checkLiteralHost, publicOnlyLookupFor } from './address-policy.ts';
import type { DeliveryStatus } from './delivery-status.ts';
import { OutboundError, postJson } from './http-post.ts';
import { signedHeaders } from './signing.ts';

/** How a queue delivers (the WEBHOOK_* settings; the webhooks and the bots' mentions each have a queue). */
export interface QueueOptions {
  timeoutMs: number;
  maxAttempts: number;
  retryBaseMs: number;
  queueMax: number;
  concurrency: number;
  allowPrivate: boolean;
  /** The setting refusals name (default WEBHOOK_ALLOW_PRIVATE; undefined names none: rooms' owners cannot change it). */
  privateFlag?: string | undefined;
  /**
   * At most this many POSTs in flight to one target (its DeliveryStatus): a slow receiver
   * cannot take every slot from the others (rooms' webhooks). Unset: no bound but `concurrency`.
   */
  perTargetConcurrency?: number | undefined;
}

/** How a queue's owner counts its deliveries for /metrics. */
export interface QueueMeter {
  attempt(retry: boolean): void;
  ended(outcome: 'delivered' | 'failed' | 'refused'): void;
  droppedFull(): void;
  held(count: number): void;
}

/** One event for one URL, until it is delivered or given up. */
export interface OutgoingDelivery {
  url: URL;
  event: string;
  /** The same for every attempt, and for the same event told by any instance. */
  id: string;
  body: string;
  /** Signs each attempt (signing.ts). */
  secret: string;
  /** Where its attempts are recorded for the operator. */
  status: DeliveryStatus;
  /** A 2xx answer's body is read up to this many bytes (a longer one fails the delivery); 0: not read. */
  maxAnswerBytes: number;
  /**
   * Told a 2xx answer's body, its status and which attempt it answered; returns what is wrong
   * with it, if anything (the delivery then fails, without a retry: the receiver would answer
   * the same). Must not throw.
   */
  answered?: (body: string, status: number, attempt: number) => string | undefined;
  /**
   * Told once when a delivery the queue took (enqueue answered true) leaves it: delivered, given
   * up, or dropped as the queue closes (a share of the queue counted by its owner is released
   * here). Must not throw.
   */
  done?: () => void;
}

interface Held extends OutgoingDelivery {
  attempts: number;
}

/** Retries wait at most this long. */
const MAX_RETRY_DELAY_MS = 60_000;
/** How often a closing queue looks whether its last deliveries were attempted. */
const DRAIN_POLL_MS = 20;
/** Failures are logged at most this often (each line counts those since the last). */
const LOG_EVERY_MS = 10_000;

/**
 * Signed POSTs of events, each retried until delivered or given up, within bounds: a timeout
 * per attempt, at most `maxAttempts` attempts, retried after a network error, a timeout, 408,
 * 429 or 5xx with exponential backoff (`retryBaseMs`, doubling, half of it random, at most a
 * minute; another status is final), at most `concurrency` POSTs in flight and `queueMax`
 * deliveries held (queued, in flight or waiting to retry: beyond it, a new one is dropped, so
 * what is held keeps its chance). Deliveries live in this process: when it stops, those queued,
 * in flight or waiting to be retried get an attempt within a bounded time (see close); one that
 * fails then is given up. Unless `allowPrivate`, a URL whose host is, or resolves to, a
 * non-public address is refused (address-policy.ts), checked at every connection.
 */
export class DeliveryQueue {
  private readonly ready: Held[] = [];
  /** Deliveries waiting to be retried, by their timer. */
  private readonly retryTimers = new Map<NodeJS.Timeout, Held>();
  /** Held: queued, in flight or waiting to retry. */
  private held = 0;
  private inFlight = 0;
  private closed = false;
  /** Closing with a drain: retries are not put off any more (see close). */
  private draining = false;
  /** POSTs in flight per target, with perTargetConcurrency. */
  private readonly inFlightBy = new Map<DeliveryStatus, number>();
  private readonly httpAgent: HttpAgent;
  private readonly httpsAgent: HttpsAgent;
  private readonly lookup: ReturnType<typeof publicOnlyLookupFor> | undefined;
  private readonly privateFlag: string | undefined;
  private loggedAt = Number.NEGATIVE_INFINITY;
  private failuresUnlogged = 0;

  constructor(
    private readonly options: QueueOptions,
    private readonly meter: QueueMeter,
    private readonly log: FastifyBaseLogger,
    /** What its log lines call a delivery (`webhook`, `bot webhook`). */
    private readonly name: string,
  ) {
    const agentOptions = { keepAlive: true, maxSockets: options.concurrency };
    this.httpAgent = new HttpAgent(agentOptions);
    this.httpsAgent = new HttpsAgent(agentOptions);
    this.privateFlag = 'privateFlag' in options ? options.privateFlag : WEBHOOK_PRIVATE_FLAG;
    this.lookup = options.allowPrivate ? undefined : publicOnlyLookupFor(this.privateFlag);
  }

  /** Queues a delivery; false (counted as dropped) when the queue is full. */
  enqueue(delivery: OutgoingDelivery): boolean {
    if (this.closed) return false;
    if (this.held >= this.options.queueMax) {
      this.meter.droppedFull();
      delivery.status.counts.dropped += 1;
      return false;
    }
    this.held += 1;
    delivery.status.counts.queued += 1;
    this.ready.push({ ...delivery, attempts: 0 });
    this.pump();
    return true;
  }

  /**
   * Stops (the app's onClose). With `drainMs`, first waits at most that long for every delivery
   * held to have an attempt: those waiting to be retried are tried now rather than after their
   * backoff (once: the receiver's backoff is cut short, but the event is not lost to a deploy),
   * and one that fails in the drain is given up. Then nothing more is sent, and what is still
   * held is dropped.
   */
  async close(drainMs = 0): Promise<void> {
    const deadline = Date.now() + drainMs;
    if (drainMs > 0 && !this.closed) {
      this.draining = true;
      for (const [timer, delivery] of this.retryTimers) {
        clearTimeout(timer);
        this.ready.push(delivery);
      }
      this.retryTimers.clear();
      this.pump();
    }
    while (!this.closed && (this.ready.length > 0 || this.inFlight > 0) && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, Math.min(DRAIN_POLL_MS, deadline - Date.now())));
    }
    this.closed = true;
    // Dropped unsent (those in flight are told as their attempt returns).
    for (const [timer, delivery] of this.retryTimers) {
      clearTimeout(timer);
      delivery.done?.();
    }
    this.retryTimers.clear();
    for (const delivery of this.ready.splice(0)) delivery.done?.();
    this.httpAgent.destroy();
    this.httpsAgent.destroy();
  }

  /**
   * Starts attempts while fewer than `concurrency` are in flight, oldest first, passing over the
   * deliveries of a target that has perTargetConcurrency in flight already.
   */
  private pump(): void {
    const perTarget = this.options.perTargetConcurrency ?? Number.POSITIVE_INFINITY;
    let next = 0;
    while (!this.closed && this.inFlight < this.options.concurrency && next < this.ready.length) {
      const { status } = this.ready[next]!;
      const busy = this.inFlightBy.get(status) ?? 0;
      if (busy >= perTarget) {
        next += 1;
        continue;
      }
      const [delivery] = this.ready.splice(next, 1) as [Held];
      this.inFlight += 1;
      this.inFlightBy.set(status, busy + 1);
      void this.attempt(delivery).finally(() => {
        this.inFlight -= 1;
        const left = (this.inFlightBy.get(status) ?? 1) - 1;
        if (left === 0) this.inFlightBy.delete(status);
        else this.inFlightBy.set(status, left);
        this.pump();
      });
    }
    this.meter.held(this.held);
  }

  private async attempt(delivery: Held): Promise<void> {
    delivery.attempts += 1;
    this.meter.attempt(delivery.attempts > 1);
    let result: 'delivered' | 'retry' | 'final' | 'refused';
    let status: number | undefined;
    let error: string | undefined;
    try {
      if (!this.options.allowPrivate) checkLiteralHost(delivery.url, this.privateFlag);
      const answer = await postJson(delivery.url, delivery.body, {
        // Signed at each attempt: a retry carries a fresh timestamp, within the receiver's window.
        headers: {
          ...signedHeaders(delivery.secret, delivery.body),
          [DELIVERY_HEADER]: delivery.id,
          [EVENT_HEADER]: delivery.event,
        },
        timeoutMs: this.options.timeoutMs,
        maxResponseBytes: delivery.maxAnswerBytes,
        agent: delivery.url.protocol === 'https:' ? this.httpsAgent : this.httpAgent,
        lookup: this.lookup,
      });
      status = answer.status;
      if (status >= 200 && status < 300) {
        error = delivery.answered?.(answer.body, status, delivery.attempts);
        result = error === undefined ? 'delivered' : 'final';
      } else {
        error = `status ${status}`;
        result = isRetryable(status) ? 'retry' : 'final';
      }
    } catch (err) {
      const refused =
        err instanceof RefusedAddressError || (err instanceof OutboundError && err.kind === 'refused_address');
      // An answer too large would be as large the next time.
      const tooLarge = err instanceof OutboundError && err.kind === 'too_large';
      result = refused ? 'refused' : tooLarge ? 'final' : 'retry';
      error = err instanceof Error ? err.message : String(err);
    }
    if (this.closed) {
      delivery.done?.();
      return;
    }
    // (Draining, there is no later: a failure now is final.)
    const retry = result === 'retry' && delivery.attempts < this.options.maxAttempts && !this.draining;
    delivery.status.attempted({
      at: Date.now(),
      deliveryId: delivery.id,
      event: delivery.event,
      attempt: delivery.attempts,
      ...(status !== undefined ? { status } : {}),
      ...(error !== undefined ? { error } : {}),
      ...(retry ? { retry } : {}),
    });
    if (retry) {
      const timer = setTimeout(() => {
        this.retryTimers.delete(timer);
        this.ready.push(delivery);
        this.pump();
      }, this.retryDelay(delivery.attempts));
      timer.unref();
      this.retryTimers.set(timer, delivery);
      return;
    }
    this.held -= 1;
    delivery.status.counts.queued -= 1;
    this.meter.held(this.held);
    delivery.done?.();
    if (result === 'delivered') {
      delivery.status.counts.delivered += 1;
      this.meter.ended('delivered');
      return;
    }
    delivery.status.counts.failed += 1;
    this.meter.ended(result === 'refused' ? 'refused' : 'failed');
    this.logFailure(delivery, result, error);
  }

  /** Exponential backoff with half of it random, so receivers coming back are not hit all at once. */
  private retryDelay(attempts: number): number {
    const full = Math.min(MAX_RETRY_DELAY_MS, this.options.retryBaseMs * 2 ** (attempts - 1));
    return full / 2 + Math.random() * (full / 2);
  }

  private logFailure(delivery: Held, result: string, detail: string | undefined): void {
    this.failuresUnlogged += 1;
    const now = Date.now();
    if (now - this.loggedAt < LOG_EVERY_MS) return;
    // The URL's origin only: its path or query may hold the receiver's own secret.
    this.log.warn(
      {
        origin: delivery.url.origin,
        event: delivery.event,
        deliveryId: delivery.id,
        attempts: delivery.attempts,
        result,
        detail,
        failures: this.failuresUnlogged,
      },
      result === 'refused' ? `${this.name} refused: not a public address` : `${this.name} delivery failed`,
    );
    this.loggedAt = now;
    this.failuresUnlogged = 0;
  }
}

/** Statuses worth another attempt: the receiver is overloaded, slow or broken for now. */
function isRetryable(status: number): boolean {
  return status === 408 || status === 429 || status >= 500;
}

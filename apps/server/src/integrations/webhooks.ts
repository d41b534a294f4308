import { createHash } from 'node:crypto';
import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import type { FastifyBaseLogger } from 'fastify';
import { DELIVERY_HEADER, EVENT_HEADER, type User, type WebhookEvent, type WebhookEventName } from '@parley/protocol';
import { idTime, type ChangeDraft, type MessageDraft } from '../engine/engine.ts';
import type { Stats } from '../observability/stats.ts';
import type { RoomActivity } from '../rooms/room-hub.ts';
import { RefusedAddressError, checkLiteralHost, publicOnlyLookup } from './address-policy.ts';
import { OutboundError, postJson } from './http-post.ts';
import { signedHeaders } from './signing.ts';

/** The webhooks' settings (WEBHOOK_* in config.ts). */
export interface WebhookOptions {
  urls: URL[];
  secret: string;
  events: ReadonlySet<WebhookEventName>;
  timeoutMs: number;
  maxAttempts: number;
  retryBaseMs: number;
  queueMax: number;
  concurrency: number;
  maxBodyBytes: number;
  allowPrivate: boolean;
}

/** One event for one URL, until it is delivered or given up. */
interface Delivery {
  url: URL;
  event: WebhookEventName;
  /** The same for every attempt, and for the same event told by any instance. */
  id: string;
  body: string;
  attempts: number;
}

/** Retries wait at most this long. */
const MAX_RETRY_DELAY_MS = 60_000;
/** Failures are logged at most this often (each line counts those since the last). */
const LOG_EVERY_MS = 10_000;

/**
 * The operator's webhooks: each event of WEBHOOK_EVENTS is POSTed, signed (signing.ts), to
 * every URL of WEBHOOK_URLS.
 *
 * **Once per cluster.** The room hub tells this instance only of what its own calls to the
 * engine did (RoomActivity): the message its session or bot posted, the edit or deletion it
 * stored, the join its enter published, the leave its exit published (the engine's scripts say
 * which call did). Every other instance sees the same event arrive on the bus and says nothing.
 * A resend of a stored message (the same clientMsgId, maybe through another instance after a
 * timeout) is told again: the delivery id is made from the event (room and log id), so it is
 * the same one and receivers skip it.
 *
 * **Bounded.** A delivery gets WEBHOOK_TIMEOUT_MS per attempt and at most WEBHOOK_MAX_ATTEMPTS
 * attempts, retried after a network error, a timeout, 408, 429 or 5xx with exponential backoff
 * (WEBHOOK_RETRY_BASE_MS, doubling, half of it random, at most a minute); another status is
 * final. The answer's body is not kept. At most WEBHOOK_CONCURRENCY POSTs are in flight and
 * WEBHOOK_QUEUE_MAX deliveries held (queued, in flight or waiting to retry): when full, a new
 * event's delivery is dropped (counted), so what is held keeps its chance. Deliveries live in
 * this process: the ones still held when it stops are lost (at least once while it runs).
 *
 * **Where.** Unless WEBHOOK_ALLOW_PRIVATE, a URL whose host is, or resolves to, a loopback,
 * private or link-local address is refused (address-policy.ts), checked at every connection.
 */
export class Webhooks implements RoomActivity {
  private readonly ready: Delivery[] = [];
  private readonly retryTimers = new Set<NodeJS.Timeout>();
  /** Held: queued, in flight or waiting to retry. */
  private held = 0;
  private inFlight = 0;
  private closed = false;
  private readonly httpAgent: HttpAgent;
  private readonly httpsAgent: HttpsAgent;
  private loggedAt = Number.NEGATIVE_INFINITY;
  private failuresUnlogged = 0;

  constructor(
    private readonly options: WebhookOptions,
    private readonly stats: Stats,
    private readonly log: FastifyBaseLogger,
  ) {
    const agentOptions = { keepAlive: true, maxSockets: options.concurrency };
    this.httpAgent = new HttpAgent(agentOptions);
    this.httpsAgent = new HttpsAgent(agentOptions);
  }

  posted(draft: MessageDraft, id: string): void {
    const { room, user, text, clientMsgId, replyTo } = draft;
    this.emit({
      event: 'message',
      deliveryId: deliveryIdOf('message', room, id),
      room,
      ts: idTime(id),
      message: {
        id,
        user,
        text,
        ...(clientMsgId !== undefined ? { clientMsgId } : {}),
        ...(replyTo !== undefined ? { replyTo } : {}),
      },
    });
  }

  changed(draft: ChangeDraft, eventId: string): void {
    const { room, user: by, id } = draft;
    const base = { room, ts: idTime(eventId) };
    if (draft.op === 'edit' && draft.text !== undefined)
      this.emit({
        event: 'edit',
        deliveryId: deliveryIdOf('edit', room, eventId),
        ...base,
        edit: { id, eventId, text: draft.text, by },
      });
    else if (draft.op === 'delete')
      this.emit({
        event: 'delete',
        deliveryId: deliveryIdOf('delete', room, eventId),
        ...base,
        delete: { id, eventId, by },
      });
  }

  joined(room: string, user: User): void {
    const ts = Date.now();
    this.emit({ event: 'join', deliveryId: deliveryIdOf('join', room, `${user.id}\n${ts}`), room, ts, user });
  }

  left(room: string, user: User): void {
    const ts = Date.now();
    this.emit({ event: 'leave', deliveryId: deliveryIdOf('leave', room, `${user.id}\n${ts}`), room, ts, user });
  }

  /** Stops: nothing more is sent; what is held is dropped (the app's onClose). */
  close(): void {
    this.closed = true;
    for (const timer of this.retryTimers) clearTimeout(timer);
    this.retryTimers.clear();
    this.ready.length = 0;
    this.httpAgent.destroy();
    this.httpsAgent.destroy();
  }

  private emit(event: WebhookEvent): void {
    if (this.closed || !this.options.events.has(event.event)) return;
    const body = JSON.stringify(event);
    if (Buffer.byteLength(body) > this.options.maxBodyBytes) {
      this.stats.webhookDroppedTooLarge += this.options.urls.length;
      return;
    }
    for (const url of this.options.urls) {
      if (this.held >= this.options.queueMax) {
        this.stats.webhookDroppedFull += 1;
        continue;
      }
      this.held += 1;
      this.ready.push({ url, event: event.event, id: event.deliveryId, body, attempts: 0 });
    }
    this.pump();
  }

  /** Starts attempts while fewer than WEBHOOK_CONCURRENCY are in flight. */
  private pump(): void {
    while (!this.closed && this.inFlight < this.options.concurrency && this.ready.length > 0) {
      const delivery = this.ready.shift()!;
      this.inFlight += 1;
      void this.attempt(delivery).finally(() => {
        this.inFlight -= 1;
        this.pump();
      });
    }
    this.stats.webhookQueued = this.held;
  }

  private async attempt(delivery: Delivery): Promise<void> {
    delivery.attempts += 1;
    this.stats.webhookAttempts += 1;
    if (delivery.attempts > 1) this.stats.webhookRetries += 1;
    let result: 'delivered' | 'retry' | 'final' | 'refused';
    let detail: string;
    try {
      if (!this.options.allowPrivate) checkLiteralHost(delivery.url);
      const { status } = await postJson(delivery.url, delivery.body, {
        // Signed at each attempt: a retry carries a fresh timestamp, within the receiver's window.
        headers: {
          ...signedHeaders(this.options.secret, delivery.body),
          [DELIVERY_HEADER]: delivery.id,
          [EVENT_HEADER]: delivery.event,
        },
        timeoutMs: this.options.timeoutMs,
        maxResponseBytes: 0,
        agent: delivery.url.protocol === 'https:' ? this.httpsAgent : this.httpAgent,
        lookup: this.options.allowPrivate ? undefined : publicOnlyLookup,
      });
      result = status >= 200 && status < 300 ? 'delivered' : isRetryable(status) ? 'retry' : 'final';
      detail = `status ${status}`;
    } catch (err) {
      const refused =
        err instanceof RefusedAddressError || (err instanceof OutboundError && err.kind === 'refused_address');
      result = refused ? 'refused' : 'retry';
      detail = err instanceof Error ? err.message : String(err);
    }
    if (this.closed) return;
    if (result === 'retry' && delivery.attempts < this.options.maxAttempts) {
      const timer = setTimeout(() => {
        this.retryTimers.delete(timer);
        this.ready.push(delivery);
        this.pump();
      }, this.retryDelay(delivery.attempts));
      timer.unref();
      this.retryTimers.add(timer);
      return;
    }
    this.held -= 1;
    this.stats.webhookQueued = this.held;
    if (result === 'delivered') {
      this.stats.webhookDelivered += 1;
      return;
    }
    if (result === 'refused') this.stats.webhookRefused += 1;
    else this.stats.webhookFailed += 1;
    this.logFailure(delivery, result, detail);
  }

  /** Exponential backoff with half of it random, so receivers coming back are not hit all at once. */
  private retryDelay(attempts: number): number {
    const full = Math.min(MAX_RETRY_DELAY_MS, this.options.retryBaseMs * 2 ** (attempts - 1));
    return full / 2 + Math.random() * (full / 2);
  }

  private logFailure(delivery: Delivery, result: string, detail: string): void {
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
      result === 'refused' ? 'webhook refused: not a public address' : 'webhook delivery failed',
    );
    this.loggedAt = now;
    this.failuresUnlogged = 0;
  }
}

/** Statuses worth another attempt: the receiver is overloaded, slow or broken for now. */
function isRetryable(status: number): boolean {
  return status === 408 || status === 429 || status >= 500;
}

/** A delivery id made from the event itself: whoever tells it, however often, gives the same one. */
function deliveryIdOf(event: WebhookEventName, room: string, key: string): string {
  return `d_${createHash('sha256').update(`${event}\n${room}\n${key}`).digest('base64url').slice(0, 24)}`;
}

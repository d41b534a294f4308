import type { FastifyBaseLogger } from 'fastify';
import type { User, WebhookEvent, WebhookEventName } from '@parley/protocol';
import type { ChangeDraft, MessageDraft } from '../engine/engine.ts';
import type { Stats } from '../observability/stats.ts';
import type { TargetReport } from '../operator/operator-store.ts';
import type { RoomActivity } from '../rooms/room-hub.ts';
import { DeliveryQueue, type QueueOptions } from './delivery-queue.ts';
import { DeliveryStatus } from './delivery-status.ts';
import { redactUrl, urlId } from './redact-url.ts';
import { changeEvent, messageEvent, presenceEvents } from './webhook-events.ts';

/** The webhooks' settings (WEBHOOK_* in config.ts). */
export interface WebhookOptions extends QueueOptions {
  urls: URL[];
  secret: string;
  events: ReadonlySet<WebhookEventName>;
  maxBodyBytes: number;
}

/**
 * The operator's webhooks: each event of WEBHOOK_EVENTS is POSTed, signed (signing.ts), to
 * every URL of WEBHOOK_URLS.
 *
 * **Once per cluster.** The room hub tells this instance only of what its own calls to the
 * engine did (RoomActivity): the message its session or bot posted, the edit or deletion it
 * stored, the join its enter published, the leave its exit published (the engine's scripts say
 * which call did, and how many people were present after it: a join that made it 1 occupied
 * the room, a leave that made it 0 vacated it). Every other instance sees the same event arrive
 * on the bus and says nothing.
 * A resend of a stored message (the same clientMsgId, maybe through another instance after a
 * timeout) is told again: the delivery id is made from the event (room and log id), so it is
 * the same one and receivers skip it.
 *
 * **Bounded** (delivery-queue.ts). A delivery gets WEBHOOK_TIMEOUT_MS per attempt and at most
 * WEBHOOK_MAX_ATTEMPTS attempts, retried after a network error, a timeout, 408, 429 or 5xx
 * with exponential backoff; another status is final. The answer's body is not kept. At most
 * WEBHOOK_CONCURRENCY POSTs are in flight and WEBHOOK_QUEUE_MAX deliveries held: when full, a
 * new event's delivery is dropped (counted). Deliveries live in this process: the ones still
 * held when it stops are lost (at least once while it runs). Each URL's counts, last attempt
 * and last failures are kept for the operator (delivery-status.ts).
 *
 * **Where.** Unless WEBHOOK_ALLOW_PRIVATE, a URL whose host is, or resolves to, a loopback,
 * private or link-local address is refused (address-policy.ts), checked at every connection.
 */
export class Webhooks implements RoomActivity {
  private readonly queue: DeliveryQueue;
  /** Each URL's deliveries, for the operator (GET /api/admin/webhooks). */
  private readonly targets: Array<{ url: URL; id: string; status: DeliveryStatus }>;

  constructor(
    private readonly options: WebhookOptions,
    private readonly stats: Stats,
    log: FastifyBaseLogger,
  ) {
    this.queue = new DeliveryQueue(
      options,
      {
        attempt: (retry) => {
          stats.webhookAttempts += 1;
          if (retry) stats.webhookRetries += 1;
        },
        ended: (outcome) => {
          if (outcome === 'delivered') stats.webhookDelivered += 1;
          else if (outcome === 'refused') stats.webhookRefused += 1;
          else stats.webhookFailed += 1;
        },
        droppedFull: () => (stats.webhookDroppedFull += 1),
        held: (count) => (stats.webhookQueued = count),
      },
      log,
      'webhook',
    );
    this.targets = options.urls.map((url) => ({ url, id: urlId(url), status: new DeliveryStatus() }));
  }

  posted(draft: MessageDraft, id: string): void {
    this.emit(messageEvent(draft, id));
  }

  changed(draft: ChangeDraft, eventId: string): void {
    const event = changeEvent(draft, eventId);
    if (event !== undefined) this.emit(event);
  }

  joined(room: string, user: User, count: number): void {
    for (const event of presenceEvents('join', room, user, count)) this.emit(event);
  }

  left(room: string, user: User, count: number): void {
    for (const event of presenceEvents('leave', room, user, count)) this.emit(event);
  }

  /** What this instance delivered to each URL, for the operator. */
  report(): TargetReport[] {
    const events = [...this.options.events];
    return this.targets.map(({ url, id, status }) =>
      status.report({ id, kind: 'webhook', url: redactUrl(url), events }),
    );
  }

  /** Stops, after at most `drainMs` for the deliveries queued or in flight (see DeliveryQueue.close). */
  close(drainMs = 0): Promise<void> {
    return this.queue.close(drainMs);
  }

  private emit(event: WebhookEvent): void {
    if (!this.options.events.has(event.event)) return;
    const body = JSON.stringify(event);
    if (Buffer.byteLength(body) > this.options.maxBodyBytes) {
      this.stats.webhookDroppedTooLarge += this.targets.length;
      for (const { status } of this.targets) status.counts.dropped += 1;
      return;
    }
    for (const { url, status } of this.targets)
      this.queue.enqueue({
        url,
        event: event.event,
        id: event.deliveryId,
        body,
        secret: this.options.secret,
        status,
        maxAnswerBytes: 0,
      });
  }
}

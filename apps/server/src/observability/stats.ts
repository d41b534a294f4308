import type { ErrorCode } from '@parley/protocol';
import { Histogram } from 'prom-client';

/**
 * What a call of the before-publish hook came to: its three answers, and the ways it can fail
 * (no answer in time, an answer over the size bound, no connection or a status other than 200,
 * an answer that is not one of the three or a replacement text that breaks the text rules) or
 * not be made (as many calls in flight as BEFORE_PUBLISH_CONCURRENCY allows).
 */
export const BEFORE_PUBLISH_OUTCOMES = [
  'accept',
  'replace',
  'reject',
  'timeout',
  'too_large',
  'error',
  'bad_answer',
  'overloaded',
] as const;
export type BeforePublishOutcome = (typeof BEFORE_PUBLISH_OUTCOMES)[number];

/**
 * Counters updated on hot paths as plain numbers (no map lookups or labels per frame); the
 * metrics endpoint reads them when it is scraped.
 */
export class Stats {
  /** Open sockets by protocol. */
  readonly open = { reference: 0, 'parley.v1': 0 };
  /** Chat messages accepted from clients and stored. */
  messagesIn = 0;
  /** Edits, deletions and reactions accepted from clients. */
  changesIn = 0;
  /** Moderation actions accepted from clients. */
  moderationIn = 0;
  /** Chat message frames written to sockets. */
  messagesOut = 0;
  /** Frames and bytes written to sockets (all kinds). */
  framesOut = 0;
  bytesOut = 0;
  /** Socket writes: frames going to one socket together (a batch, an ack with its echo) share one. */
  socketWrites = 0;
  /** Frames and bytes read from sockets. */
  framesIn = 0;
  bytesIn = 0;
  /** Sockets closed because their send buffer was full. */
  slowConsumerCloses = 0;
  /** Frames dropped because their connection or address was over its frame rate. */
  framesDropped = 0;
  /** Sockets closed for breaking the protocol's rules (1008). */
  policyCloses = 0;
  /** Upgrades and API requests refused by a per-address or total limit (HTTP 429/503). */
  refusedRequests = 0;
  /** Of those, TCP connections answered 429 as soon as accepted (a flooding address: see shed-at-accept.ts). */
  shedConnections = 0;
  /** Of those, TCP connections closed unanswered as soon as accepted (past SHED_ANSWERS_PER_SECOND). */
  droppedConnections = 0;
  /** History reads asked of the engine, and reads that shared an identical one already in flight. */
  historyReads = 0;
  historyReadsMerged = 0;
  /** Gaps in pub/sub found and read back from the log, and the messages recovered. */
  backfills = 0;
  backfilledMessages = 0;
  /** Read-backs that failed or found the log behind, to be tried again (a failover shows here). */
  backfillRetries = 0;
  /** Before-publish hook calls, by outcome. */
  readonly beforePublishCalls = new Map<BeforePublishOutcome, number>();
  /** Messages and edits the hook could not judge, posted unchecked (fail-open) or refused (fail-closed). */
  beforePublishFailedOpen = 0;
  beforePublishFailedClosed = 0;
  /** Webhook deliveries: delivered (a 2xx), given up (attempts used up, or a status not worth retrying), refused (the address policy). */
  webhookDelivered = 0;
  webhookFailed = 0;
  webhookRefused = 0;
  /** Webhook POSTs made, retries among them. */
  webhookAttempts = 0;
  webhookRetries = 0;
  /** Webhook deliveries never queued: the queue was full, or the body over WEBHOOK_MAX_BODY_BYTES. */
  webhookDroppedFull = 0;
  webhookDroppedTooLarge = 0;
  /** Webhook deliveries queued, in flight or waiting to retry, now. */
  webhookQueued = 0;
  /** Deliveries of mentions to bots' webhook URLs that ended, by outcome (as webhooks'). */
  readonly botDeliveries = { delivered: 0, failed: 0, refused: 0 };
  /** Bots' answers to mentions, by what became of them: posted, a repeat of one posted (duplicate), refused by the room. */
  readonly botReplies = { posted: 0, duplicate: 0, refused: 0 };
  /**
   * Mention deliveries never queued: the queue was full (queue_full), the sender's address held
   * its share (address_share), the body was too large (too_large).
   */
  readonly botDeliveriesDropped = { queue_full: 0, address_share: 0, too_large: 0 };
  /** Mention deliveries held now. */
  botDeliveriesQueued = 0;
  /** Deliveries to rooms' webhooks that ended, by outcome (as webhooks'). */
  readonly roomWebhookDeliveries = { delivered: 0, failed: 0, refused: 0 };
  /**
   * Room webhook deliveries never queued: the queue was full (queue_full), the room held its
   * share (room_share), the body was too large (too_large), the room's webhook could not be read
   * (unavailable).
   */
  readonly roomWebhookDropped = { queue_full: 0, room_share: 0, too_large: 0, unavailable: 0 };
  /** Room webhook deliveries held now. */
  roomWebhookQueued = 0;
  /** `error` frames sent, by code. */
  readonly errors = new Map<ErrorCode, number>();
  /**
   * How long writing one batch of a room's events to every socket of the room here took (the
   * fan-out: one write per socket). Observed once a batch, not a frame, so a histogram is cheap
   * enough; the metrics route registers it (see routes/metrics.ts).
   */
  readonly broadcastSeconds = new Histogram({
    name: 'parley_room_broadcast_seconds',
    help: "Time to write one batch of a room's events to every socket of the room on this instance",
    buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
    registers: [],
  });

  beforePublish(outcome: BeforePublishOutcome): void {
    this.beforePublishCalls.set(outcome, (this.beforePublishCalls.get(outcome) ?? 0) + 1);
  }

  error(code: ErrorCode): void {
    this.errors.set(code, (this.errors.get(code) ?? 0) + 1);
  }
}

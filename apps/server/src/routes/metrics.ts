import type { FastifyPluginAsync } from 'fastify';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { ERROR_CODES } from '@parley/protocol';
import { bearerMatches, bearerRequired } from '../http/bearer.ts';
import { BEFORE_PUBLISH_OUTCOMES } from '../observability/stats.ts';

/**
 * `GET /metrics` in Prometheus text format. Counters are read from the app's Stats when
 * scraped (hot paths only bump plain numbers); the registry is per app, so several apps in one
 * process (tests) do not share metrics. Node's defaults include event-loop lag and memory.
 */
const metricsRoutes: FastifyPluginAsync<{ token?: string | undefined }> = async (fastify, { token }) => {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'parley_process_' });
  const { stats, roomHub, engine } = fastify;

  const counter = (name: string, help: string, read: () => number) =>
    new Counter({
      name,
      help,
      registers: [registry],
      collect() {
        this.reset();
        this.inc(read());
      },
    });
  /** A counter with one label: `read` gives the count of each of its values. */
  const counterBy = (name: string, help: string, label: string, read: () => Readonly<Record<string, number>>) =>
    new Counter({
      name,
      help,
      labelNames: [label],
      registers: [registry],
      collect() {
        this.reset();
        for (const [value, count] of Object.entries(read())) this.inc({ [label]: value }, count);
      },
    });

  new Gauge({
    name: 'parley_connections',
    help: 'Open WebSocket connections, by protocol',
    labelNames: ['protocol'],
    registers: [registry],
    collect() {
      for (const [protocol, open] of Object.entries(stats.open)) this.set({ protocol }, open);
    },
  });
  new Gauge({
    name: 'parley_rooms',
    help: 'Rooms with sockets on this instance',
    registers: [registry],
    collect() {
      this.set(roomHub.roomCount);
    },
  });
  new Gauge({
    name: 'parley_bus_degraded',
    help: '1 while the message bus (Redis) is unreachable',
    registers: [registry],
    collect() {
      this.set(roomHub.isDegraded ? 1 : 0);
    },
  });
  counter('parley_messages_in_total', 'Chat messages accepted from clients', () => stats.messagesIn);
  counter('parley_changes_in_total', 'Edits, deletions and reactions accepted from clients', () => stats.changesIn);
  counter(
    'parley_moderation_in_total',
    'Moderation actions (kick, ban, mute, roles) and settings changes accepted from clients',
    () => stats.moderationIn,
  );
  counter('parley_messages_out_total', 'Chat message frames written to sockets', () => stats.messagesOut);
  counter('parley_frames_in_total', 'Frames read from sockets', () => stats.framesIn);
  counter('parley_frames_out_total', 'Frames written to sockets', () => stats.framesOut);
  counter(
    'parley_socket_writes_total',
    'Writes to sockets; frames for one socket at the same moment share one (frames out / writes = batching)',
    () => stats.socketWrites,
  );
  counter('parley_bytes_in_total', 'Bytes read from sockets', () => stats.bytesIn);
  counter(
    'parley_bytes_out_total',
    'Bytes written to sockets (UTF-8 payloads, without frame headers)',
    () => stats.bytesOut,
  );
  counter(
    'parley_send_buffer_drops_total',
    'Sockets closed because their send buffer was full (slow consumers)',
    () => stats.slowConsumerCloses,
  );
  counter(
    'parley_frames_dropped_total',
    'Frames dropped because their connection or address was over its frame rate',
    () => stats.framesDropped,
  );
  counter(
    'parley_policy_closes_total',
    'Sockets closed for breaking the protocol rules (1008)',
    () => stats.policyCloses,
  );
  counter(
    'parley_refused_requests_total',
    'Upgrades and API requests refused by a per-address or total limit (HTTP 429/503)',
    () => stats.refusedRequests,
  );
  counter(
    'parley_shed_connections_total',
    'Of the refused, TCP connections answered 429 as soon as accepted, their request never read (a flooding address)',
    () => stats.shedConnections,
  );
  counter(
    'parley_dropped_connections_total',
    'Of the refused, TCP connections closed unanswered as soon as accepted (a flooding address past SHED_ANSWERS_PER_SECOND)',
    () => stats.droppedConnections,
  );
  counter(
    'parley_history_reads_total',
    'History pages read from the engine (welcomes, recoveries, pages)',
    () => stats.historyReads,
  );
  counter(
    'parley_history_reads_merged_total',
    'History reads that shared an identical read already in flight instead of reading the log again',
    () => stats.historyReadsMerged,
  );
  counter(
    'parley_presence_entered_total',
    'People entered into rooms (each socket that joined, each re-entry)',
    () => engine.presenceCalls.entered,
  );
  counter(
    'parley_presence_enter_calls_total',
    'Engine calls that entered them: on Redis, arrivals in a room while one of its calls is in flight go together',
    () => engine.presenceCalls.calls,
  );
  counter('parley_backfills_total', 'Times the log was read back after pub/sub lost messages', () => stats.backfills);
  counter(
    'parley_backfilled_messages_total',
    'Messages recovered from the log after a pub/sub gap',
    () => stats.backfilledMessages,
  );
  counter(
    'parley_backfill_retries_total',
    'Read-backs that failed or found the log behind what was delivered, tried again shortly',
    () => stats.backfillRetries,
  );
  counterBy('parley_errors_total', 'Error frames sent to clients, by code', 'code', () =>
    Object.fromEntries(ERROR_CODES.map((code) => [code, stats.errors.get(code) ?? 0])),
  );

  counterBy(
    'parley_before_publish_calls_total',
    'Messages and edits the before-publish hook was asked about, by outcome (accept, replace, reject; or timeout, too_large, error, bad_answer, overloaded: no verdict)',
    'outcome',
    () =>
      Object.fromEntries(
        BEFORE_PUBLISH_OUTCOMES.map((outcome) => [outcome, stats.beforePublishCalls.get(outcome) ?? 0]),
      ),
  );
  counterBy(
    'parley_before_publish_failures_total',
    'Messages and edits the before-publish hook gave no verdict on, by what BEFORE_PUBLISH_FAILURE made of them (open: posted unchecked; closed: refused)',
    'policy',
    () => ({ open: stats.beforePublishFailedOpen, closed: stats.beforePublishFailedClosed }),
  );

  counterBy(
    'parley_webhook_deliveries_total',
    'Webhook deliveries (one event to one URL) that ended: delivered (a 2xx), failed (attempts used up, or a status not worth retrying), refused (not a public address)',
    'outcome',
    () => ({ delivered: stats.webhookDelivered, failed: stats.webhookFailed, refused: stats.webhookRefused }),
  );
  counter('parley_webhook_attempts_total', 'Webhook POSTs made, retries included', () => stats.webhookAttempts);
  counter('parley_webhook_retries_total', 'Webhook POSTs that were retries', () => stats.webhookRetries);
  counterBy(
    'parley_webhook_dropped_total',
    'Webhook deliveries never queued: the queue held WEBHOOK_QUEUE_MAX (queue_full), or the body was over WEBHOOK_MAX_BODY_BYTES (too_large)',
    'reason',
    () => ({ queue_full: stats.webhookDroppedFull, too_large: stats.webhookDroppedTooLarge }),
  );
  new Gauge({
    name: 'parley_webhook_queue',
    help: 'Webhook deliveries held by this instance: queued, in flight or waiting to retry',
    registers: [registry],
    collect() {
      this.set(stats.webhookQueued);
    },
  });

  counterBy(
    'parley_bot_mention_deliveries_total',
    'Deliveries of mentions to bots’ webhook URLs that ended: delivered (a 2xx with a usable answer), failed, refused (not a public address)',
    'outcome',
    () => stats.botDeliveries,
  );
  counterBy(
    'parley_bot_mention_replies_total',
    'Bots’ answers to mentions with a text: posted, duplicate (posted already: a repeated delivery), refused (by the room, the bot’s rate or the before-publish hook)',
    'outcome',
    () => stats.botReplies,
  );
  counterBy(
    'parley_bot_mention_dropped_total',
    'Mention deliveries never queued: the queue held WEBHOOK_QUEUE_MAX (queue_full), the sender’s address BOT_MENTION_QUEUE_PER_ADDRESS (address_share), the body was over WEBHOOK_MAX_BODY_BYTES (too_large)',
    'reason',
    () => stats.botDeliveriesDropped,
  );
  new Gauge({
    name: 'parley_bot_mention_queue',
    help: 'Mention deliveries held by this instance: queued, in flight or waiting to retry',
    registers: [registry],
    collect() {
      this.set(stats.botDeliveriesQueued);
    },
  });

  counterBy(
    'parley_room_webhook_deliveries_total',
    'Deliveries to rooms’ webhooks (set by their owners) that ended: delivered (a 2xx), failed, refused (not a public address)',
    'outcome',
    () => stats.roomWebhookDeliveries,
  );
  counterBy(
    'parley_room_webhook_dropped_total',
    'Room webhook deliveries never queued: the queue held WEBHOOK_QUEUE_MAX (queue_full), the room ROOM_WEBHOOK_QUEUE_PER_ROOM (room_share), the body was over WEBHOOK_MAX_BODY_BYTES (too_large), the room’s webhook could not be read (unavailable)',
    'reason',
    () => stats.roomWebhookDropped,
  );
  new Gauge({
    name: 'parley_room_webhook_queue',
    help: 'Room webhook deliveries held by this instance: queued, in flight or waiting to retry',
    registers: [registry],
    collect() {
      this.set(stats.roomWebhookQueued);
    },
  });

  registry.registerMetric(stats.broadcastSeconds);

  // The engine's round trip, measured when scraped (a PING for Redis), not on the message path.
  const roundTrip = new Histogram({
    name: 'parley_bus_roundtrip_seconds',
    help: 'Round-trip time to the message bus, sampled at each scrape',
    labelNames: ['engine'],
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
    registers: [registry],
  });

  // With METRICS_TOKEN set, only the scraper that presents it may read the server's internals.
  fastify.get('/metrics', async (request, reply) => {
    if (token !== undefined && !bearerMatches(request.headers.authorization, token))
      throw bearerRequired('This endpoint needs Authorization: Bearer <METRICS_TOKEN>.');
    const started = process.hrtime.bigint();
    const health = await engine.health().catch((err: unknown) => ({ ok: false, detail: String(err) }));
    if (health.ok) roundTrip.observe({ engine: engine.kind }, Number(process.hrtime.bigint() - started) / 1e9);
    reply.header('content-type', registry.contentType);
    return registry.metrics();
  });
};

export default metricsRoutes;

import { createHash } from 'node:crypto';
import type { FastifyBaseLogger } from 'fastify';
import {
  DEFAULT_ROOM_WEBHOOK_EVENTS,
  type RoomWebhook,
  type RoomWebhookDeliveries,
  type User,
  type WebhookEvent,
} from '@parley/protocol';
import type {
  ChangeDraft,
  ChatEngine,
  MessageDraft,
  StoredRoomWebhook,
  WebhookDraft,
  WebhookResult,
} from '../engine/engine.ts';
import type { Stats } from '../observability/stats.ts';
import { newWebhookSecret } from '../operator/bot-keys.ts';
import type { TargetReport } from '../operator/operator-store.ts';
import type { RoomActivity, RoomWebhookControl, WebhookAnswer, WebhookRequest } from '../rooms/room-hub.ts';
import { addressProblem } from './address-policy.ts';
import { DeliveryQueue, type QueueOptions } from './delivery-queue.ts';
import { QueueShares } from './queue-shares.ts';
import { DeliveryStatus, FAILURES_KEPT } from './delivery-status.ts';
import { redactUrl } from './redact-url.ts';
import { changeEvent, messageEvent, presenceEvents } from './webhook-events.ts';

/** The rooms' webhooks' settings: the webhooks' delivery bounds (WEBHOOK_*), in a queue of their own, and theirs. */
export interface RoomWebhookOptions extends QueueOptions {
  maxBodyBytes: number;
  /** MAX_ROOM_WEBHOOKS. */
  maxRoomWebhooks: number;
  /** ROOM_WEBHOOKS_PER_ADDRESS: rooms' webhooks one address (key) may have set at once; 0: no such bound. */
  perAddress: number;
  /** ROOM_WEBHOOK_QUEUE_PER_ROOM: deliveries one room may have held at once. */
  queuePerRoom: number;
}

/** Reads the other instances' reports of their deliveries (set by the operator plugin). */
export type ReportReader = () => Promise<TargetReport[]>;

/** One room's webhook as this instance delivers to it: its counts for the owner and the operator. */
interface Target {
  room: string;
  /** Of the room and the URL: a new URL starts new counts. */
  id: string;
  url: URL;
  events: readonly string[];
  status: DeliveryStatus;
}

/** A room's webhook as read from the engine, and when; `settled` once the read answered (null: none). */
interface Known {
  at: number;
  webhook: Promise<StoredRoomWebhook | undefined>;
  settled?: StoredRoomWebhook | null;
}

/**
 * A room's webhook read from the engine is used this long before it is read again: the version
 * (checked every BAN_REFRESH_MS) says sooner when any changed, and this bounds what an instance
 * that missed nothing may still hold of a room that expired.
 */
const KNOWN_FOR_MS = 30_000;
/** Rooms whose webhook (or its absence) this instance keeps at hand, the least recently used dropped first. */
const KNOWN_MAX = 10_000;
/** Rooms' delivery counts kept (the least recently used dropped first: their counts start again). */
const TARGETS_MAX = 1000;
/** POSTs in flight to one room's webhook at most: a slow receiver leaves the other slots to other rooms. */
const PER_ROOM_CONCURRENCY = 2;
/** How long the check of a new URL waits for its name to resolve. */
const RESOLVE_TIMEOUT_MS = 2000;

/**
 * Rooms' webhooks, set by their owners (`webhook` frames, through the hub): each room's events of
 * the owner's choosing, POSTed to the owner's URL, signed with that webhook's own secret, with
 * the instance-wide webhooks' bodies, headers, delivery ids, timeout, retries and body bound.
 *
 * - **Once per cluster**, as the instance-wide ones (RoomActivity: only the instance whose call
 *   made the event is told). The room's webhook is read from the engine at the first event of a
 *   room and kept at hand (KNOWN_FOR_MS, and until the engine's webhooks version changes).
 * - **Owners are anyone** (a room's first poster), so the server's network is always out of
 *   reach unless the operator says otherwise (ROOM_WEBHOOK_ALLOW_PRIVATE, apart from
 *   WEBHOOK_ALLOW_PRIVATE): a URL is checked when it is set (an IP literal, `localhost`, a name
 *   resolving to any non-public address: `webhook_url_refused`) and at every connection.
 * - **Bounded**: a queue of their own (WEBHOOK_QUEUE_MAX, WEBHOOK_CONCURRENCY), so rooms cannot
 *   starve the operator's webhooks; within it each room holds at most
 *   ROOM_WEBHOOK_QUEUE_PER_ROOM deliveries and has PER_ROOM_CONCURRENCY in flight, so one busy
 *   or failing room cannot starve the others. MAX_ROOM_WEBHOOKS rooms have one at most, and one
 *   address (the owner's, when setting it) sets ROOM_WEBHOOKS_PER_ADDRESS of them at most, so
 *   that one client cannot take every room's webhook for rooms it opened.
 * - **Never disabled behind the owner's back**: a webhook that keeps failing stays until its
 *   owner removes it (or the room expires); each delivery gives up after its attempts, and the
 *   owner sees the counts and the last failures when asking (the operator, on /admin).
 */
export class RoomWebhooks implements RoomActivity, RoomWebhookControl {
  private readonly queue: DeliveryQueue;
  private readonly known = new Map<string, Known>();
  private readonly targets = new Map<string, Target>();
  /** Deliveries held (queued, in flight or waiting to retry) per room, whatever its webhook's URL (see enqueue). */
  private readonly shares: QueueShares;
  private version: string | undefined;
  private refreshing: Promise<void> | undefined;
  private readReports: ReportReader = async () => [];

  constructor(
    private readonly options: RoomWebhookOptions,
    private readonly engine: ChatEngine,
    private readonly stats: Stats,
    log: FastifyBaseLogger,
  ) {
    this.shares = new QueueShares(options.queuePerRoom);
    this.queue = new DeliveryQueue(
      { ...options, privateFlag: undefined, perTargetConcurrency: PER_ROOM_CONCURRENCY },
      {
        attempt: () => {},
        ended: (outcome) => (stats.roomWebhookDeliveries[outcome] += 1),
        droppedFull: () => (stats.roomWebhookDropped.queue_full += 1),
        held: (count) => (stats.roomWebhookQueued = count),
      },
      log,
      'room webhook',
    );
  }

  /** Where the other instances' delivery reports are read (for the owner's view of the counts). */
  connectReports(read: ReportReader): void {
    this.readReports = read;
  }

  // Most rooms have no webhook: each event is made (a hash for its delivery id) only for a room
  // that has one, known at once when the room's webhook was read already.

  posted(draft: MessageDraft, id: string): void {
    this.deliver(draft.room, () => [messageEvent(draft, id)]);
  }

  changed(draft: ChangeDraft, eventId: string): void {
    if (draft.op !== 'edit' && draft.op !== 'delete') return;
    this.deliver(draft.room, () => [changeEvent(draft, eventId)].filter((event) => event !== undefined));
  }

  joined(room: string, user: User, count: number): void {
    const ts = Date.now();
    this.deliver(room, () => presenceEvents('join', room, user, count, ts));
  }

  left(room: string, user: User, count: number): void {
    const ts = Date.now();
    this.deliver(room, () => presenceEvents('leave', room, user, count, ts));
  }

  async request(room: string, by: User, address: string, request: WebhookRequest): Promise<WebhookAnswer> {
    // Only the owner, before anything else is done for the request (a name resolved, a read).
    const { role } = await this.engine.standing(room, by.id, '');
    if (role !== 'owner') return refused('forbidden', REFUSALS.forbidden);
    if (request.url === undefined && request.events === undefined) return this.describe(room);
    let change: WebhookDraft['change'];
    if (request.url === null) change = { op: 'clear' };
    else if (request.url === undefined) change = { op: 'events', events: request.events! };
    else {
      const url = URL.canParse(request.url) ? new URL(request.url) : undefined;
      if (url === undefined) return refused('bad_frame', 'url: not a URL.');
      const problem = this.options.allowPrivate ? undefined : await addressProblem(url, RESOLVE_TIMEOUT_MS);
      if (problem !== undefined)
        return refused(
          'webhook_url_refused',
          `The webhook URL is refused: ${problem}. This server calls public addresses only.`,
        );
      const events = request.events ?? [...DEFAULT_ROOM_WEBHOOK_EVENTS];
      change = { op: 'set', webhook: { url: url.href, events, secret: newWebhookSecret(), setAt: Date.now() } };
    }
    const result = await this.engine.setWebhook({
      room,
      by,
      change,
      max: this.options.maxRoomWebhooks,
      address,
      maxPerAddress: this.options.perAddress,
    });
    if (result.outcome !== 'refused') this.known.delete(room);
    return answerOf(result, change.op === 'set');
  }

  /** Re-reads the rooms' webhooks this instance keeps when any changed anywhere (one GET when none did). */
  refresh(): Promise<void> {
    this.refreshing ??= this.engine
      .webhooksVersion()
      .then((version) => {
        if (version !== this.version) this.known.clear();
        this.version = version;
      })
      .finally(() => {
        this.refreshing = undefined;
      });
    return this.refreshing;
  }

  /** What this instance delivered to rooms' webhooks, for the operator: the `limit` delivered to last. */
  report(limit: number): TargetReport[] {
    return [...this.targets.values()]
      .map(({ room, id, url, events, status }) =>
        status.report({ id, kind: 'room', url: redactUrl(url), events: [...events], room }),
      )
      .filter((target) => target.last !== undefined || target.dropped > 0 || target.queued > 0)
      .sort((a, b) => (b.last?.at ?? 0) - (a.last?.at ?? 0))
      .slice(0, limit);
  }

  /** Stops, after at most `drainMs` for the deliveries queued or in flight (see DeliveryQueue.close). */
  close(drainMs = 0): Promise<void> {
    return this.queue.close(drainMs);
  }

  /** The room's webhook for its owner: where, which events, and how every instance's deliveries went. */
  private async describe(room: string): Promise<WebhookAnswer> {
    const webhook = await this.engine.webhook(room);
    if (webhook === undefined) return { outcome: 'done', webhook: null, changed: false };
    const url = new URL(webhook.url);
    const id = targetId(room, url);
    const reported = (await this.readReports().catch(() => [])).filter((target) => target.id === id);
    const own = this.targets.get(id)?.status.report({ id, kind: 'room', url: '', events: [] });
    return {
      outcome: 'done',
      changed: false,
      webhook: {
        events: [...webhook.events],
        url: redactUrl(url),
        deliveries: summed(own === undefined ? reported : [own, ...reported]),
      },
    };
  }

  /** Hands a room's events (made by `make`) to its webhook, if it has one that takes them. */
  private deliver(room: string, make: () => WebhookEvent[]): void {
    const handOver = (webhook: StoredRoomWebhook | undefined | null) => {
      if (webhook === undefined || webhook === null) return;
      for (const event of make())
        if ((webhook.events as string[]).includes(event.event)) this.enqueue(room, webhook, event);
    };
    const known = this.webhookOf(room);
    if (known.settled !== undefined) handOver(known.settled);
    else known.webhook.then(handOver, () => (this.stats.roomWebhookDropped.unavailable += 1));
  }

  private enqueue(room: string, webhook: StoredRoomWebhook, event: WebhookEvent): void {
    const target = this.targetOf(room, webhook);
    if (target === undefined) return;
    const body = JSON.stringify(event);
    if (Buffer.byteLength(body) > this.options.maxBodyBytes) {
      this.stats.roomWebhookDropped.too_large += 1;
      target.status.counts.dropped += 1;
      return;
    }
    // The room's share of the queue: a busy room (or a receiver that is down) waits for its own.
    // Counted per room, whatever the URL: a new URL must not start a fresh share while the old
    // one's deliveries still wait.
    const outcome = this.shares.enqueue(this.queue, room, {
      url: target.url,
      event: event.event,
      id: event.deliveryId,
      body,
      secret: webhook.secret,
      status: target.status,
      maxAnswerBytes: 0,
    });
    if (outcome === 'over_share') {
      this.stats.roomWebhookDropped.room_share += 1;
      target.status.counts.dropped += 1;
    }
  }

  /** The room's webhook, read from the engine at most every KNOWN_FOR_MS (sooner when the version changed). */
  private webhookOf(room: string): Known {
    const now = Date.now();
    const known = this.known.get(room);
    if (known !== undefined && now - known.at < KNOWN_FOR_MS) return known;
    const fresh: Known = { at: now, webhook: this.engine.webhook(room) };
    this.known.delete(room);
    this.known.set(room, fresh);
    if (this.known.size > KNOWN_MAX) this.known.delete(this.known.keys().next().value!);
    fresh.webhook.then(
      (webhook) => (fresh.settled = webhook ?? null),
      // A read that failed is not kept: the next event reads again.
      () => {
        if (this.known.get(room) === fresh) this.known.delete(room);
      },
    );
    return fresh;
  }

  /** The counts of the room's webhook at its URL now (kept for the TARGETS_MAX rooms delivered to last). */
  private targetOf(room: string, webhook: StoredRoomWebhook): Target | undefined {
    if (!URL.canParse(webhook.url)) return undefined;
    const url = new URL(webhook.url);
    const id = targetId(room, url);
    const target = this.targets.get(id) ?? { room, id, url, events: webhook.events, status: new DeliveryStatus() };
    target.events = webhook.events;
    this.targets.delete(id);
    this.targets.set(id, target);
    if (this.targets.size > TARGETS_MAX) this.targets.delete(this.targets.keys().next().value!);
    return target;
  }
}

/** A room webhook's id for the operator's list and the reports: of the room and the URL, telling nothing of the URL's secrets. */
function targetId(room: string, url: URL): string {
  return `r_${createHash('sha256').update(`${room}\n${url.href}`).digest('base64url').slice(0, 12)}`;
}

function refused(code: Extract<WebhookAnswer, { outcome: 'refused' }>['code'], message: string): WebhookAnswer {
  return { outcome: 'refused', code, message };
}

/** What the owner is told of the engine's refusals. */
const REFUSALS: Record<Extract<WebhookResult, { outcome: 'refused' }>['code'], string> = {
  forbidden: 'Only the room’s owner can see or change its webhook.',
  not_found: 'This room has no webhook: set one with a URL first.',
  too_many_webhooks: 'This server has as many room webhooks as it keeps; try again later.',
};

/** `too_many_webhooks` when the bound hit is the address's (ROOM_WEBHOOKS_PER_ADDRESS), not the server's. */
const TOO_MANY_FROM_ADDRESS =
  'Your address has set as many room webhooks as this server allows one address; remove one of them first.';

/** The owner's answer to a change. */
function answerOf(result: WebhookResult, withSecret: boolean): WebhookAnswer {
  switch (result.outcome) {
    case 'refused':
      return refused(result.code, result.bound === 'address' ? TOO_MANY_FROM_ADDRESS : REFUSALS[result.code]);
    case 'cleared':
      return { outcome: 'done', webhook: null, changed: result.had };
    case 'stored': {
      const { url, events, secret } = result.webhook;
      const webhook: RoomWebhook = { events: [...events], url: redactUrl(new URL(url)) };
      if (withSecret) webhook.secret = secret;
      return { outcome: 'done', webhook, changed: true };
    }
  }
}

/** Every instance's counts of one target added up: the newest last attempt, the newest failures. */
function summed(reports: TargetReport[]): RoomWebhookDeliveries {
  const total: RoomWebhookDeliveries = { delivered: 0, failed: 0, retried: 0, dropped: 0, queued: 0, failures: [] };
  for (const report of reports) {
    total.delivered += report.delivered;
    total.failed += report.failed;
    total.retried += report.retried;
    total.dropped += report.dropped;
    total.queued += report.queued;
    if (report.last !== undefined && (total.last === undefined || report.last.at > total.last.at))
      total.last = report.last;
    total.failures.push(...report.failures);
  }
  total.failures = total.failures.sort((a, b) => b.at - a.at).slice(0, FAILURES_KEPT);
  return total;
}

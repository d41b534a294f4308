import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import type { FastifyBaseLogger } from 'fastify';
import type { RoomSummary, User } from '@parley/protocol';
import {
  EngineUnavailableError,
  idTime,
  type BusEvent,
  type BusListener,
  type ChatEngine,
  type EngineHealth,
  type EngineOptions,
  type HistoryQuery,
  type HistoryResult,
  type MembersJson,
  type MessageDraft,
  type PostResult,
  type StoredMessage,
} from './engine.ts';
import { sinceIsRecoverable } from './history-window.ts';
import { byActivity } from './memory-engine.ts';
import { ROOM_INDEX_KEY, SECRET_KEY, roomChannel, roomKeys, roomOfChannel, sentKey } from './redis-keys.ts';
import { COUNT_PRESENT, ENTER, EXIT, POST_MESSAGE, REFRESH } from './redis-scripts.ts';

/** How long start-up waits for Redis before going on unready (the connection keeps retrying). */
const CONNECT_WAIT_MS = 5000;
const PING_TIMEOUT_MS = 1000;
/** A retry of the same clientMsgId is recognised for this long. */
const RETRY_WINDOW_MS = 24 * 60 * 60 * 1000;
/** A room's last activity in the room list is refreshed at most this often per instance. */
const INDEX_INTERVAL_MS = 1000;

type ScriptCommands = {
  postMessage(log: string, sent: string, seq: string, body: string, maxLen: number, ttl: number, channel: string, retryTtl: number, hasId: string): Promise<[string, number]>;
  enterRoom(presence: string, tabs: string, people: string, now: number, channel: string, room: string, member: string, userId: string, user: string, expiry: number, ttl: number, wantPeople: string): Promise<string>;
  exitRoom(presence: string, tabs: string, people: string, now: number, channel: string, room: string, member: string): Promise<number>;
  countPresent(presence: string, tabs: string, people: string, now: number, channel: string, room: string): Promise<number>;
  refreshPresence(presence: string, tabs: string, people: string, now: number, channel: string, room: string, expiry: number, ttl: number, ...members: string[]): Promise<string[]>;
};

/** The heartbeat refreshes at most this many people of a room per call (Redis runs a script alone). */
const REFRESH_CHUNK = 500;

/**
 * The scaled-out engine. Messages are appended to a Redis Stream per room and published on the
 * room's channel by one Lua script; presence lives in per-room keys refreshed by heartbeats.
 * One connection sends commands; a second one, in subscriber mode, holds one subscription per
 * room that has local sockets.
 */
export class RedisEngine implements ChatEngine {
  readonly kind = 'redis' as const;
  /** Names this instance's presence entries, so another instance can tell them apart. */
  private readonly instanceId = randomUUID();
  private readonly commands: Redis & ScriptCommands;
  private readonly subscriber: Redis;
  private listener: BusListener | undefined;
  /** Channels this instance wants; restored by hand after a reconnect (see `onSubscriberReady`). */
  private readonly channels = new Set<string>();
  private subscriberWasReady = false;
  /** When each room's entry in the room list was last refreshed by this instance. */
  private readonly indexedAt = new Map<string, number>();
  private up = false;
  /** room → userId → user, for every person present through this instance; refreshed by heartbeat. */
  private readonly present = new Map<string, Map<string, User>>();
  private readonly heartbeat: NodeJS.Timeout;

  constructor(
    url: string,
    private readonly options: EngineOptions,
    private readonly log: FastifyBaseLogger,
  ) {
    // Reconnect fast at first (50 ms), backing off to every 2 s while Redis stays away.
    const retryStrategy = (attempt: number): number => Math.min(50 * 2 ** Math.min(attempt - 1, 6), 2000);
    this.commands = new Redis(url, {
      lazyConnect: true,
      // Without a queue, a command during an outage fails at once and the sender is told to
      // resend; ioredis' default queue is unbounded and would grow for as long as Redis is away.
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      connectTimeout: 2000,
      retryStrategy,
      connectionName: 'parley-commands',
      // Each command is written at once. Auto-pipelining (commands of one tick sharing a write)
      // was measured with the benchmark: no less CPU at any load, and a p99 two to three times
      // higher (a command waits for the pipeline to be flushed).
      enableAutoPipelining: false,
    }) as Redis & ScriptCommands;
    this.commands.defineCommand('postMessage', { numberOfKeys: 3, lua: POST_MESSAGE });
    this.commands.defineCommand('enterRoom', { numberOfKeys: 3, lua: ENTER });
    this.commands.defineCommand('exitRoom', { numberOfKeys: 3, lua: EXIT });
    this.commands.defineCommand('countPresent', { numberOfKeys: 3, lua: COUNT_PRESENT });
    this.commands.defineCommand('refreshPresence', { numberOfKeys: 3, lua: REFRESH });

    // A connection that subscribes can run no other command, so the subscriber is separate.
    // Its queue holds only (un)subscribe calls, at most two per room, and ioredis resubscribes
    // every channel by itself after a reconnect.
    this.subscriber = new Redis(url, {
      lazyConnect: true,
      maxRetriesPerRequest: null,
      // We resubscribe ourselves, so we know when the subscriptions are back and can read what
      // pub/sub dropped meanwhile from the log.
      autoResubscribe: false,
      connectTimeout: 2000,
      retryStrategy,
      connectionName: 'parley-subscriber',
    });
    this.subscriber.on('message', (channel: string, payload: string) => this.dispatch(channel, payload));
    this.subscriber.on('ready', () => this.onSubscriberReady());
    for (const [role, conn] of [['commands', this.commands], ['subscriber', this.subscriber]] as const) {
      conn.on('error', (err: Error) => this.log.warn({ redis: role, err: err.message }, 'redis connection error'));
      conn.on('reconnecting', () => this.log.warn({ redis: role }, 'redis reconnecting'));
      conn.on('ready', () => this.log.info({ redis: role }, 'redis ready'));
      for (const event of ['ready', 'close', 'end']) conn.on(event, () => this.updateAvailability());
    }
    // Refresh at a third of the expiry, so two missed beats still keep people present.
    this.heartbeat = setInterval(() => this.refreshPresence(), Math.max(250, Math.floor(options.presenceTtlMs / 3))).unref();
  }

  /** Connects both connections, waiting a few seconds at most; the server starts unready otherwise. */
  async connect(): Promise<void> {
    const connectOne = (conn: Redis) => conn.connect().catch(() => {});
    const ready = Promise.all([connectOne(this.commands), connectOne(this.subscriber)]);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, CONNECT_WAIT_MS);
    });
    await Promise.race([ready, timeout]);
    clearTimeout(timer);
    if (this.commands.status !== 'ready') {
      this.log.error({ status: this.commands.status }, 'redis not reachable yet; serving unready and retrying');
    }
  }

  setListener(listener: BusListener): void {
    this.listener = listener;
  }

  async subscribe(room: string): Promise<void> {
    this.channels.add(roomChannel(room));
    await this.subscriber.subscribe(roomChannel(room));
  }

  async unsubscribe(room: string): Promise<void> {
    this.channels.delete(roomChannel(room));
    await this.subscriber.unsubscribe(roomChannel(room));
  }

  async post(draft: MessageDraft): Promise<PostResult> {
    const keys = roomKeys(draft.room);
    const body = JSON.stringify({ room: draft.room, user: draft.user, text: draft.text, clientMsgId: draft.clientMsgId });
    const sent = draft.clientMsgId === undefined ? keys.log : sentKey(draft.room, draft.user.id, draft.clientMsgId);
    const [id, duplicate] = await this.unavailableOnError(() =>
      this.commands.postMessage(
        keys.log, sent, keys.seq, body, this.options.historyLength, this.options.roomTtlMs, roomChannel(draft.room),
        RETRY_WINDOW_MS, draft.clientMsgId === undefined ? '0' : '1',
      ),
    );
    if (!duplicate) this.touchRoom(draft.room, idTime(id));
    return { id, duplicate: duplicate === 1 };
  }

  async history(room: string, query: HistoryQuery): Promise<HistoryResult> {
    const { log } = roomKeys(room);
    return this.unavailableOnError(async () => {
      if (query.since !== undefined) {
        const bounds = await this.streamBounds(log);
        // Trimming drops the oldest entries, so with a trimmed log only a since at or after the
        // first retained entry is certain to have nothing missing after it.
        if (sinceIsRecoverable(query.since, bounds.trimmed ? bounds.firstId : undefined, bounds.lastId)) {
          const entries = (await this.commands.xrange(log, `(${query.since}`, '+')) as StreamEntry[];
          const olderExists = bounds.trimmed || (bounds.firstId !== undefined && bounds.firstId !== entries[0]?.[0]);
          return { messages: entries.map(toMessage), recovered: true, hasMore: olderExists, lastSeq: seqOf(entries.at(-1)) };
        }
      }
      const end = query.before === undefined ? '+' : `(${query.before}`;
      // One more than asked tells whether older messages exist.
      const entries = (await this.commands.xrevrange(log, end, '-', 'COUNT', query.limit + 1)) as StreamEntry[];
      const hasMore = entries.length > query.limit;
      const page = entries.slice(0, query.limit).reverse();
      return { messages: page.map(toMessage), recovered: false, hasMore, lastSeq: seqOf(page.at(-1)) };
    });
  }

  async enter(room: string, user: User): Promise<MembersJson> {
    let local = this.present.get(room);
    if (local === undefined) this.present.set(room, (local = new Map()));
    local.set(user.id, user);
    // The script joins the stored user JSON into one array: one string to read, nothing to parse.
    const people = await this.unavailableOnError(() => this.runEnter(room, user, true));
    this.touchRoom(room, Date.now());
    return people as MembersJson;
  }

  async exit(room: string, user: User): Promise<void> {
    const local = this.present.get(room);
    local?.delete(user.id);
    if (local?.size === 0) this.present.delete(room);
    const keys = roomKeys(room);
    await this.unavailableOnError(() =>
      this.commands.exitRoom(keys.presence, keys.tabs, keys.people, Date.now(), roomChannel(room), JSON.stringify(room), this.presenceMember(user.id)),
    );
  }

  async typing(room: string, user: User): Promise<void> {
    const event: BusEvent = { kind: 'typing', room, user };
    await this.unavailableOnError(() => this.commands.publish(roomChannel(room), JSON.stringify(event)));
  }

  async activeRooms(limit: number): Promise<RoomSummary[]> {
    return this.unavailableOnError(async () => {
      const now = Date.now();
      // Rooms idle past their lifetime leave the index for good.
      await this.commands.zremrangebyscore(ROOM_INDEX_KEY, '-inf', now - this.options.roomTtlMs);
      const scored = await this.commands.zrevrange(ROOM_INDEX_KEY, 0, 199, 'WITHSCORES');
      const rooms: RoomSummary[] = [];
      for (let i = 0; i < scored.length; i += 2) {
        const room = scored[i]!;
        const keys = roomKeys(room);
        const members = await this.commands.countPresent(keys.presence, keys.tabs, keys.people, now, roomChannel(room), JSON.stringify(room));
        const lastActivity = Number(scored[i + 1]);
        if (members > 0 || lastActivity >= now - this.options.activeWindowMs) rooms.push({ room, members, lastActivity });
      }
      return rooms.sort(byActivity).slice(0, limit);
    });
  }

  async sharedSecret(candidate: string): Promise<string> {
    return this.unavailableOnError(async () => {
      await this.commands.set(SECRET_KEY, candidate, 'NX');
      return (await this.commands.get(SECRET_KEY)) ?? candidate;
    });
  }

  async health(): Promise<EngineHealth> {
    const started = process.hrtime.bigint();
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        this.commands.ping(),
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(new Error(`no reply within ${PING_TIMEOUT_MS} ms`)), PING_TIMEOUT_MS);
        }),
      ]);
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      return { ok: this.subscriber.status === 'ready', detail: `redis up (${ms.toFixed(1)} ms), subscriber ${this.subscriber.status}` };
    } catch (err) {
      return { ok: false, detail: `redis down: ${(err as Error).message}` };
    } finally {
      clearTimeout(timer);
    }
  }

  async close(): Promise<void> {
    clearInterval(this.heartbeat);
    // quit() waits for replies in flight; disconnect() is the fallback when Redis is gone.
    await Promise.all(
      [this.commands, this.subscriber].map((conn) =>
        conn.status === 'ready' ? conn.quit().catch(() => conn.disconnect()) : conn.disconnect(),
      ),
    );
  }

  /**
   * Records a room's last activity in the room list. The list is one key for all rooms (another
   * slot on a cluster), so it cannot join the message script; and a busy room updates it at
   * most once a second, so messages stay at one Redis command each.
   */
  private touchRoom(room: string, at: number): void {
    const last = this.indexedAt.get(room);
    if (last !== undefined && at - last < INDEX_INTERVAL_MS) return;
    this.indexedAt.set(room, at);
    if (this.indexedAt.size > 10_000) this.indexedAt.clear(); // a bound; the worst case is an extra ZADD
    this.commands.zadd(ROOM_INDEX_KEY, at, room).catch(() => {});
  }

  private onSubscriberReady(): void {
    if (!this.subscriberWasReady) {
      this.subscriberWasReady = true;
      return;
    }
    // A reconnect: subscribe again, and once Redis has confirmed, tell the hub so it can read
    // back from the log whatever was published while the subscriber was away.
    const channels = [...this.channels];
    const restored = channels.length === 0 ? Promise.resolve() : this.subscriber.subscribe(...channels);
    restored.then(
      () => {
        this.log.info({ channels: channels.length }, 'redis subscriptions restored');
        this.listener?.resubscribed();
      },
      (err: Error) => this.log.error({ err: err.message }, 'resubscribe failed'),
    );
  }

  private updateAvailability(): void {
    const up = this.commands.status === 'ready' && this.subscriber.status === 'ready';
    if (up === this.up) return;
    this.up = up;
    this.listener?.availability(up);
  }

  private runEnter(room: string, user: User, wantPeople: boolean): Promise<string> {
    const keys = roomKeys(room);
    const now = Date.now();
    return this.commands.enterRoom(
      keys.presence, keys.tabs, keys.people, now, roomChannel(room), JSON.stringify(room), this.presenceMember(user.id),
      user.id, JSON.stringify(user), now + this.options.presenceTtlMs, this.options.roomTtlMs, wantPeople ? '1' : '0',
    );
  }

  /** This instance's entry for a person in a room's presence set: `userId|instanceId` (see {@link userOfPresenceMember}). */
  private presenceMember(userId: string): string {
    return `${userId}|${this.instanceId}`;
  }

  private refreshPresence(): void {
    if (this.commands.status !== 'ready') return;
    const now = Date.now();
    for (const [room, people] of this.present) {
      const keys = roomKeys(room);
      const members = [...people.keys()].map((userId) => this.presenceMember(userId));
      for (let i = 0; i < members.length; i += REFRESH_CHUNK) {
        this.commands
          .refreshPresence(keys.presence, keys.tabs, keys.people, now, roomChannel(room), JSON.stringify(room), now + this.options.presenceTtlMs, this.options.roomTtlMs, ...members.slice(i, i + REFRESH_CHUNK))
          .then((missing) => {
            // Entries that expired while this instance could not reach Redis: enter them again.
            for (const member of missing) {
              const user = this.present.get(room)?.get(userOfPresenceMember(member));
              if (user !== undefined) void this.runEnter(room, user, false).catch((err: Error) => this.log.warn({ room, err: err.message }, 'presence refresh failed'));
            }
          })
          .catch((err: Error) => this.log.warn({ room, err: err.message }, 'presence refresh failed'));
      }
    }
  }

  /** First and last ids of a room's log, and whether entries were ever trimmed from it. */
  private async streamBounds(log: string): Promise<{ firstId?: string; lastId?: string; trimmed: boolean }> {
    let info: unknown[];
    try {
      info = (await this.commands.call('XINFO', 'STREAM', log)) as unknown[];
    } catch {
      return { trimmed: false }; // no such key: the room has no history (or it expired)
    }
    const field = (name: string) => info[info.indexOf(name) + 1];
    const first = field('first-entry') as StreamEntry | null;
    return {
      firstId: first?.[0],
      lastId: String(field('last-generated-id')),
      trimmed: Number(field('entries-added')) > Number(field('length')),
    };
  }

  private async unavailableOnError<T>(operation: () => Promise<T>): Promise<T> {
    try {
      return await operation();
    } catch (err) {
      throw new EngineUnavailableError('Redis is unavailable', { cause: err });
    }
  }

  private dispatch(channel: string, payload: string): void {
    const room = roomOfChannel(channel);
    if (room === undefined) return;
    let event: BusEvent;
    try {
      event = JSON.parse(payload) as BusEvent;
    } catch {
      // Someone else published on our channel; never let it reach clients or crash the process.
      this.log.warn({ channel }, 'dropped a malformed bus event');
      return;
    }
    if (!isBusEvent(event, room)) {
      this.log.warn({ channel }, 'dropped a bus event of the wrong shape');
      return;
    }
    this.listener?.event(room, event);
  }
}

type StreamEntry = [id: string, fields: string[]];

function field(fields: string[], name: string): string | undefined {
  for (let i = 0; i < fields.length; i += 2) if (fields[i] === name) return fields[i + 1];
  return undefined;
}

function toMessage([id, fields]: StreamEntry): StoredMessage {
  const body = JSON.parse(field(fields, 'b') ?? '{}') as Omit<StoredMessage, 'type' | 'id' | 'ts'>;
  return { type: 'message', id, ts: idTime(id), ...body };
}

function seqOf(entry: StreamEntry | undefined): number | undefined {
  const seq = entry === undefined ? undefined : field(entry[1], 's');
  return seq === undefined ? undefined : Number(seq);
}

/** The user id of a presence entry (`userId|instanceId`; the SWEEP script splits it the same way). */
function userOfPresenceMember(member: string): string {
  return member.slice(0, member.lastIndexOf('|'));
}

function isBusEvent(event: unknown, room: string): event is BusEvent {
  if (typeof event !== 'object' || event === null) return false;
  const e = event as Record<string, any>;
  if (e.kind === 'message') return typeof e.message?.id === 'string' && e.message.room === room && typeof e.message.text === 'string';
  if (e.kind === 'join' || e.kind === 'leave' || e.kind === 'typing') return e.room === room && typeof e.user?.id === 'string';
  return false;
}

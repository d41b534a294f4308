import { randomUUID } from 'node:crypto';
import { Cluster, Redis } from 'ioredis';
import type { FastifyBaseLogger } from 'fastify';
import {
  compareMessageIds,
  EVERYONE_USER,
  isWebhookEventName,
  OPERATOR_USER,
  roleOf,
  type RoomRoles,
  type RoomSummary,
  type User,
} from '@parley/protocol';
import {
  EngineUnavailableError,
  idTime,
  messageWireBytes,
  type BusListener,
  type ChatEngine,
  type EngineHealth,
  type EngineOptions,
  type HistoryQuery,
  type AdmitResult,
  type HistoryResult,
  type Entered,
  type Exited,
  type MemberList,
  type MembersJson,
  type ChangeDraft,
  type ChangeRefusal,
  type MessageDraft,
  type ModerationDraft,
  type PostResult,
  type PurgeDraft,
  type PurgeResult,
  type RoomFacts,
  type SettingsDraft,
  type StoredMessage,
  type StoredRoomWebhook,
  type WebhookDraft,
  type WebhookResult,
  webhookActionOf,
} from './engine.ts';
import { sinceIsRecoverable } from './history-window.ts';
import { memberEntry } from './member-entry.ts';
import {
  OCCUPIED_INDEX_KEY,
  ROOM_INDEX_KEY,
  ROOM_WEBHOOK_SETTERS_KEY,
  ROOM_WEBHOOKS_KEY,
  ROOM_WEBHOOKS_VERSION_KEY,
  SECRET_KEY,
  quotaKey,
  roomChannel,
  roomKeys,
  roomOfChannel,
  sentKey,
  slowKey,
  UNLISTED_KEY,
} from './redis-keys.ts';
import {
  addLatestRoomEntry,
  addRoomEntry,
  ChangeCollector,
  changeWireBytes,
  moderationFingerprint,
  moderationUntil,
  purgeDraftOf,
  purgeFingerprint,
  retryFingerprint,
  settingsFingerprint,
  type RoomEntryLists,
} from './message-state.ts';
import { holds, MAX_MODERATORS, type Standing } from './room-standing.ts';
import {
  changeRecord,
  decodeBusFrame,
  messageRecord,
  moderationRecord,
  purgeDeletePrefix,
  personOf,
  presencePayload,
  settingsRecord,
  storedSettings,
  recordOfItem,
  seqOfEntry,
  typingBusFrame,
  webhookRecord,
  type LogItem,
} from './redis-records.ts';
import {
  ADMIT,
  CHANGE_MESSAGE,
  CONFIGURE,
  CONFIRM,
  ENTER,
  EXIT,
  MEMBERS_PAGE,
  MODERATE,
  PURGE,
  POST_MESSAGE,
  READ_LOG,
  REFRESH,
  SET_WEBHOOK,
  SWEEP_ROOM,
} from './redis-scripts.ts';
import { byActivity } from './room-index.ts';
import { RedisOperatorStore, type OperatorStore } from '../operator/operator-store.ts';

/** How long start-up waits for Redis before going on unready (the connection keeps retrying). */
const CONNECT_WAIT_MS = 5000;
const PING_TIMEOUT_MS = 1000;
/** A retry of the same clientMsgId is recognised for this long. */
const RETRY_WINDOW_MS = 24 * 60 * 60 * 1000;
/** Redis Cluster: how often the slot map is read again (failovers and slot moves are learnt this fast). */
const SLOTS_REFRESH_MS = 1000;
/**
 * Redis Cluster: asks each connection for the slot map every SLOTS_REFRESH_MS (a primary that
 * died does not answer MOVED; its replica's promotion is learnt from the others), on a timer of
 * our own. ioredis' `slotsRefreshInterval` can outlive quit(): a refresh still in flight when it
 * is stopped schedules the next round, and so on for ever, so a process that closed its engine
 * while the cluster was unreachable never exited (seen in the failover test).
 */
function refreshSlotsEvery(clusters: Cluster[]): NodeJS.Timeout {
  return setInterval(() => {
    // As ioredis' own timer did, also while a connection is being re-made (a failover): the map
    // must move off a primary that died, and off one that came back empty, as soon as it can.
    for (const cluster of clusters)
      if (cluster.status !== 'wait' && cluster.status !== 'end') cluster.refreshSlotsCache();
  }, SLOTS_REFRESH_MS).unref();
}

/** People entered by one script call at most (Redis runs a script alone: keep each one short). */
const ENTER_BATCH_MAX = 200;

/** A person waiting to enter a room (see enterTogether). */
interface PendingEnter {
  user: User;
  /** The address key they enter from ('' for none). */
  address: string;
  listLimit: number;
  resolve: (entered: Entered) => void;
  reject: (err: unknown) => void;
}

/** A room's last activity in the room list is refreshed at most this often per instance. */
const INDEX_INTERVAL_MS = 1000;

/** Where Redis is: one server (REDIS_URL), or the seed nodes of a Redis Cluster (REDIS_CLUSTER_NODES). */
export type RedisTarget = { url: string } | { clusterNodes: Array<{ host: string; port: number }> };

/** The keys of a room the log scripts take, in their order (see LOG_HELPERS in redis-scripts.ts). */
type LogKeys = [
  log: string,
  sent: string,
  seq: string,
  trimmed: string,
  texts: string,
  edited: string,
  reactions: string,
  moderation: string,
  confirmed: string,
];

/** The keys of a room the presence scripts take, in their order (see SWEEP in redis-scripts.ts). */
type PresenceKeys = [
  presence: string,
  tabs: string,
  people: string,
  addresses: string,
  gone: string,
  log: string,
  looks: string,
];

/** A script's answer: the log id (or ''), the outcome, then the frame to publish (DEFER_PUBLISH) or when a ban or mute ends. */
type ScriptReply<Outcome extends number> = [string, Outcome, (DeferredFrame | string)?];

/** With REDIS_WAIT_REPLICAS, the frame a log script left for the server to publish (see `replicated`). */
type DeferredFrame = string | null;

/**
 * The purge script's answer: stored, with every frame it left to publish (DEFER_PUBLISH) and how
 * many messages it deleted; or a retry's, or a refusal, as the other scripts answer.
 */
type PurgeReply = [string, 0, string[], number] | ScriptReply<1 | 2 | 4>;

type ScriptCommands = {
  postMessage(
    ...args: [
      ...keys: LogKeys,
      slow: string,
      record: string,
      maxLen: number,
      ttl: number,
      channel: string,
      retryTtl: number,
      hasId: string,
      contentHash: string,
      text: string,
      authorId: string,
      replyTo: string,
      address: string,
    ]
  ): Promise<ScriptReply<0 | 1 | 2 | 3 | 7 | 8 | 10 | 11>>;
  configure(
    ...args: [
      ...keys: LogKeys,
      people: string,
      ownerId: string,
      record: string,
      maxLen: number,
      ttl: number,
      channel: string,
      retryTtl: number,
      contentHash: string,
      settings: string,
      slowModeSeconds: number,
      readOnly: string,
      inviteOnly: string,
    ]
  ): Promise<ScriptReply<0 | 1 | 2 | 4>>;
  changeMessage(
    ...args: [
      ...keys: LogKeys,
      op: string,
      id: string,
      record: string,
      maxLen: number,
      ttl: number,
      channel: string,
      retryTtl: number,
      contentHash: string,
      userId: string,
      editWindowMs: number,
      textOrEmoji: string,
      maxEmoji: number,
      maxReactions: number,
      address: string,
    ]
  ): Promise<ScriptReply<0 | 1 | 2 | 3 | 4 | 5 | 6 | 7 | 8>>;
  moderate(
    ...args: [
      ...keys: LogKeys,
      people: string,
      addresses: string,
      action: string,
      by: string,
      target: string,
      record: string,
      maxLen: number,
      ttl: number,
      channel: string,
      retryTtl: number,
      contentHash: string,
      until: number,
      targetUser: string,
      maxModerators: number,
    ]
  ): Promise<ScriptReply<0 | 1 | 2 | 4 | 9>>;
  purge(
    ...args: [
      ...keys: LogKeys,
      by: string,
      target: string,
      record: string,
      deletePrefix: string,
      maxLen: number,
      ttl: number,
      channel: string,
      retryTtl: number,
      contentHash: string,
      windowMs: number,
      maxMessages: number,
    ]
  ): Promise<PurgeReply>;
  enterRoom(
    ...args: [
      ...keys: PresenceKeys,
      moderation: string,
      now: number,
      channel: string,
      expiry: number,
      ttl: number,
      listLimit: number,
      ...entering: string[], // member, userId, entry JSON, address, look keys per person
    ]
  ): Promise<[count: number, joined: string, swept: string[], ...members: string[]]>;
  exitRoom(
    ...args: [...keys: PresenceKeys, now: number, channel: string, member: string]
  ): Promise<[count: number, left: 0 | 1, swept: string[]]>;
  refreshPresence(
    ...args: [...keys: PresenceKeys, now: number, channel: string, expiry: number, ttl: number, ...members: string[]]
  ): Promise<[missing: string[], swept: string[]]>;
  sweepRoom(...args: [...keys: PresenceKeys, now: number, channel: string]): Promise<[count: number, swept: string[]]>;
  admit(moderation: string, userId: string, max: number): Promise<0 | 1>;
  setWebhook(
    ...args: [
      ...keys: LogKeys,
      owner: string,
      op: WebhookDraft['change']['op'],
      hook: string,
      events: string,
      record: string,
      maxLen: number,
      ttl: number,
      channel: string,
    ]
  ): Promise<[id: string, outcome: 0 | 2 | 3 | 4, frame?: DeferredFrame, hook?: string]>;
};

type ReaderCommands = {
  readLog(
    log: string,
    texts: string,
    edited: string,
    reactions: string,
    confirmed: string,
    direction: 'f' | 'b',
    start: string,
    count: number,
    confirmedOnly: '0' | '1',
  ): Promise<LogItem[]>;
  membersPage(
    people: string,
    moderation: string,
    looks: string,
    cursor: string,
    limit: number,
  ): Promise<[cursor: string, count: number, ...members: string[]]>;
};

/** What the log scripts' outcomes 3 and up mean. */
const REFUSALS: Record<number, ChangeRefusal> = {
  3: 'not_found',
  4: 'forbidden',
  5: 'edit_window_closed',
  6: 'too_many_reactions',
  7: 'banned',
  8: 'muted',
  9: 'not_present',
  10: 'slow_mode',
  11: 'read_only',
};

/** A script's refusal as a result (`banned` and `muted` with when they end), or undefined. */
function refusalOf(reply: ScriptReply<number>): PostResult | undefined {
  const code = REFUSALS[reply[1]];
  if (code === undefined) return undefined;
  if (code === 'banned' || code === 'muted') return { outcome: 'refused', code, until: Number(reply[2] ?? 0) };
  if (code === 'slow_mode') return { outcome: 'refused', code, retryAfterMs: Number(reply[2] ?? 0) };
  return { outcome: 'refused', code };
}

/** The bounds of one page of the log and where it stands (see readPage). */
interface LogPage extends RoomEntryLists {
  messages: StoredMessage[];
  changes: ChangeCollector;
  lastEventId: string | undefined;
  lastSeq: number | undefined;
  more: boolean;
}

/**
 * Rooms swept per beat of the abandoned-room sweep at most (see sweepAbandonedRooms), one script
 * each. (Exported for its test.)
 */
export const ABANDONED_ROOMS_PER_SWEEP = 50;

/** The heartbeat refreshes at most this many people of a room per call (Redis runs a script alone; the script unpacks them into one command, which takes a few thousand at most). */
export const REFRESH_CHUNK = 500;
/** The heartbeat's refresh calls at Redis at once at most (see refreshPresence). (Exported for its test.) */
export const REFRESH_IN_FLIGHT = 4;
/** Daily quota counts expire this long after their day began. */
const QUOTA_TTL_SECONDS = 2 * 24 * 3600;
/** Log entries read at a time when looking for how the room last named someone (see lastKnown). */
const LAST_KNOWN_CHUNK = 100;
/** The most entries one read of a history page asks for at first. */
const MAX_READ_CHUNK = 64;
/** The largest id Redis can store: a `since` or `after` at it has nothing after it. */
const MAX_STREAM_ID = '18446744073709551615-18446744073709551615';

/**
 * The scaled-out engine. Messages are appended to a Redis Stream per room and published on the
 * room's channel by one Lua script; presence lives in per-room keys refreshed by heartbeats.
 * One connection sends commands, a second reads history, and a third, in subscriber mode,
 * holds one subscription per room that has local sockets.
 */
export class RedisEngine implements ChatEngine {
  readonly kind = 'redis' as const;
  readonly presenceCalls = { entered: 0, calls: 0 };
  /** Names this instance's presence entries, so another instance can tell them apart. */
  private readonly instanceId = randomUUID();
  /** Redis Cluster (sharded pub/sub, a client that follows the slots) rather than one Redis. */
  private readonly cluster: boolean;
  private readonly commands: (Redis | Cluster) & ScriptCommands;
  /** '1' with REDIS_WAIT_REPLICAS: the log is read only up to its confirmed entry (see CONFIRM). */
  private readonly confirmedOnly: '0' | '1';
  /** Reads (history pages, the room list), so that posts never wait behind them (see the constructor). */
  private readonly reader: (Redis | Cluster) & ReaderCommands;
  private readonly subscriber: Redis | Cluster;
  private listener: BusListener | undefined;
  /** Channels this instance wants; restored by hand after a reconnect (see `onSubscriberReady`). */
  private readonly channels = new Set<string>();
  private subscriberWasReady = false;
  /** When each room's entry in the room list was last refreshed by this instance. */
  private readonly indexedAt = new Map<string, number>();
  private up = false;
  /**
   * room → userId → the user and the address key they last entered from, for every person
   * present through this instance; refreshed by heartbeat.
   */
  private readonly present = new Map<string, Map<string, { user: User; address: string }>>();
  private readonly heartbeat: NodeJS.Timeout;
  private readonly abandonedSweep: NodeJS.Timeout;
  private sweeping = false;
  /** A presence heartbeat is running (see refreshPresence). */
  private refreshing = false;
  /** Redis Cluster: the second read-back after the subscriptions moved (see the subscribersReady handler). */
  private settledBackfill: NodeJS.Timeout | undefined;
  /** Enters waiting for their room's enter call in flight to return (see enterTogether). */
  private readonly waitingEnters = new Map<string, PendingEnter[]>();
  /** Rooms with an enter call in flight. */
  private readonly entering = new Set<string>();
  /** Redis Cluster: reads the slot map every second (see refreshSlotsEvery). */
  private slotsRefresh: NodeJS.Timeout | undefined;
  readonly operator: OperatorStore;

  constructor(
    target: RedisTarget,
    private readonly options: EngineOptions,
    private readonly log: FastifyBaseLogger,
  ) {
    this.cluster = 'clusterNodes' in target;
    // Reconnect fast at first (50 ms), backing off to every 2 s while Redis stays away.
    const retryStrategy = (attempt: number): number => Math.min(50 * 2 ** Math.min(attempt - 1, 6), 2000);
    const connectionOptions = (connectionName: string) => ({
      connectTimeout: 2000,
      connectionName,
      // A Redis that stalls without closing the connection (paused, partitioned, a slow script)
      // must not leave a sender waiting: the command fails and the client is told to resend.
      commandTimeout: options.commandTimeoutMs,
      // Each command is written at once. Auto-pipelining (commands of one tick sharing a write)
      // was measured with the benchmark: no less CPU at any load, and a p99 two to three times
      // higher (a command waits for the pipeline to be flushed).
      enableAutoPipelining: false,
    });
    const commandConnection = (connectionName: string): Redis | Cluster =>
      'clusterNodes' in target
        ? new Cluster(target.clusterNodes, {
            lazyConnect: true,
            // As below: during a failover or a slot move, a command fails at once (the sender is
            // told to resend) instead of waiting in a queue that grows for as long as it lasts.
            enableOfflineQueue: false,
            clusterRetryStrategy: retryStrategy,
            // The slot map is read again every second by `refreshSlotsEvery` (not ioredis'
            // slotsRefreshInterval: see there).
            // Primaries only: a replica may not have the newest entries yet, and a reconnect's
            // `since` would then look like a gap.
            scaleReads: 'master',
            redisOptions: { ...connectionOptions(connectionName), maxRetriesPerRequest: 1 },
          })
        : new Redis(target.url, {
            ...connectionOptions(connectionName),
            lazyConnect: true,
            // Without a queue, a command during an outage fails at once and the sender is told to
            // resend; ioredis' default queue is unbounded and would grow for as long as Redis is away.
            enableOfflineQueue: false,
            maxRetriesPerRequest: 1,
            retryStrategy,
          });
    this.commands = commandConnection('parley-commands') as (Redis | Cluster) & ScriptCommands;
    // History pages (welcomes, scroll-back, recovery pages) and the room list are read on a
    // connection of their own: Redis answers a connection's commands in order, so a post's reply
    // would otherwise wait behind a 256 KiB page read for someone else (measured with pnpm
    // attack: the acks of a room's messages slowed by a flood of big reconnects).
    this.reader = commandConnection('parley-reader') as (Redis | Cluster) & ReaderCommands;
    this.operator = new RedisOperatorStore(this.commands);
    // On a cluster the scripts publish on the room's shard channel (same slot as its keys).
    // With REDIS_WAIT_REPLICAS, the log scripts leave their frame to the server, which publishes
    // it once the replicas have the entry (see `replicated`).
    const script = (lua: string) => {
      const sharded = this.cluster ? lua.replaceAll("redis.call('PUBLISH'", "redis.call('SPUBLISH'") : lua;
      return options.waitReplicas > 0
        ? sharded.replace('local DEFER_PUBLISH = false', 'local DEFER_PUBLISH = true')
        : sharded;
    };
    this.reader.defineCommand('readLog', { numberOfKeys: 5, lua: READ_LOG });
    this.reader.defineCommand('membersPage', { numberOfKeys: 3, lua: MEMBERS_PAGE });
    this.confirmedOnly = options.waitReplicas > 0 ? '1' : '0';
    this.commands.defineCommand('confirm', { numberOfKeys: 1, lua: CONFIRM });
    this.commands.defineCommand('postMessage', { numberOfKeys: 10, lua: script(POST_MESSAGE) });
    this.commands.defineCommand('configure', { numberOfKeys: 10, lua: script(CONFIGURE) });
    this.commands.defineCommand('changeMessage', { numberOfKeys: 9, lua: script(CHANGE_MESSAGE) });
    this.commands.defineCommand('moderate', { numberOfKeys: 11, lua: script(MODERATE) });
    this.commands.defineCommand('purge', { numberOfKeys: 9, lua: script(PURGE) });
    this.commands.defineCommand('enterRoom', { numberOfKeys: 8, lua: script(ENTER) });
    this.commands.defineCommand('exitRoom', { numberOfKeys: 7, lua: script(EXIT) });
    this.commands.defineCommand('refreshPresence', { numberOfKeys: 7, lua: script(REFRESH) });
    this.commands.defineCommand('sweepRoom', { numberOfKeys: 7, lua: script(SWEEP_ROOM) });
    this.commands.defineCommand('setWebhook', { numberOfKeys: 9, lua: script(SET_WEBHOOK) });
    this.commands.defineCommand('admit', { numberOfKeys: 1, lua: ADMIT });

    if ('clusterNodes' in target) {
      // Sharded pub/sub: one subscriber connection per primary (ioredis' subscriber group),
      // which follows the slots through failovers and resharding and subscribes again on the
      // node that now serves a room. Each time it has, messages published meanwhile are read
      // back from the logs (`subscribersReady`).
      this.subscriber = new Cluster(target.clusterNodes, {
        lazyConnect: true,
        shardedSubscribers: true,
        clusterRetryStrategy: retryStrategy,
        redisOptions: { connectTimeout: 2000, connectionName: 'parley-subscriber' },
      });
      this.subscriber.on('smessage', (channel: string, payload: string) => this.dispatch(channel, payload));
      this.subscriber.on('subscribersReady', () => {
        if (this.channels.size === 0) return;
        this.log.info({ channels: this.channels.size }, 'redis cluster subscriptions ready');
        this.listener?.resubscribed();
        // ioredis says "ready" once it has *sent* the new SSUBSCRIBEs, not once the node has
        // taken them: a room's last message published in between would be missed by the read
        // above, and no later message would reveal the gap. So read back once more, later.
        clearTimeout(this.settledBackfill);
        this.settledBackfill = setTimeout(() => this.listener?.resubscribed(), SLOTS_REFRESH_MS).unref();
      });
    } else {
      // A connection that subscribes can run no other command, so the subscriber is separate.
      // Its queue holds only (un)subscribe calls, at most two per room.
      this.subscriber = new Redis(target.url, {
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
    }
    for (const [role, conn] of [
      ['commands', this.commands],
      ['reader', this.reader],
      ['subscriber', this.subscriber],
    ] as const) {
      // (Both kinds of client are event emitters with these events.)
      const events = conn as unknown as NodeJS.EventEmitter;
      events.on('error', (err: Error) => this.log.warn({ redis: role, err: err.message }, 'redis connection error'));
      events.on('reconnecting', () => this.log.warn({ redis: role }, 'redis reconnecting'));
      events.on('ready', () => this.log.info({ redis: role }, 'redis ready'));
      for (const event of ['ready', 'close', 'end']) events.on(event, () => this.updateAvailability());
    }
    if (this.cluster) this.slotsRefresh = refreshSlotsEvery([this.commands, this.reader, this.subscriber] as Cluster[]);
    // Refresh at a third of the expiry, so two missed beats still keep people present.
    this.heartbeat = setInterval(
      () => void this.refreshPresence(),
      Math.max(250, Math.floor(options.presenceTtlMs / 3)),
    ).unref();
    this.abandonedSweep = setInterval(
      () => void this.sweepAbandonedRooms(),
      Math.max(250, options.presenceTtlMs),
    ).unref();
  }

  /**
   * Sweeps the rooms no instance confirms as occupied any more: their instance died, or a deploy
   * let their people's presence expire and nobody came back. Presence scripts drop expired
   * entries in passing, but in such a room nobody is left to run one: without this sweep its
   * people would stay listed until the keys expire, and nobody would hear that they left or that
   * the room was vacated. Every instance sweeps (a bounded batch each beat); the script drops an
   * entry once, so only the instance whose call dropped a person reports the leave (to the room
   * hub's listener: webhooks, `room.vacated`); the leave frames go out on the bus as usual.
   *
   * One beat, run by the abandonedSweep timer; public so a test can run beats itself, with a
   * `now` as late as the presence expiry it wants lapsed. Returns how many rooms it swept (0
   * when a beat is already running or Redis is away).
   */
  async sweepAbandonedRooms(now = Date.now()): Promise<number> {
    if (this.sweeping || !this.up) return 0;
    this.sweeping = true;
    let swept = 0;
    try {
      const rooms = await this.reader.zrangebyscore(
        OCCUPIED_INDEX_KEY,
        '-inf',
        now - this.options.presenceTtlMs,
        'LIMIT',
        0,
        ABANDONED_ROOMS_PER_SWEEP,
      );
      for (const room of rooms) {
        // (A room with people here is confirmed by this instance's heartbeat: not abandoned.)
        if (this.present.has(room)) continue;
        const [present, leaves] = await this.commands.sweepRoom(...presenceKeys(room), now, roomChannel(room));
        swept += 1;
        this.reportSwept(room, leaves);
        if (Number(present) === 0) await this.commands.zrem(OCCUPIED_INDEX_KEY, room);
      }
    } catch (err) {
      this.log.warn({ err: (err as Error).message }, 'sweeping abandoned rooms failed');
    } finally {
      this.sweeping = false;
    }
    return swept;
  }

  /**
   * Tells the hub of the people whose expired presence a script of this instance dropped (its
   * leaves are on the bus already): `swept` as the presence scripts return it, (count after,
   * user id, stored entry) for each.
   */
  private reportSwept(room: string, swept: readonly string[]): void {
    for (let i = 0; i + 2 < swept.length; i += 3) {
      this.listener?.expired?.(room, personOf(swept[i + 2]!, swept[i + 1]!), Number(swept[i]));
    }
  }

  /** Connects the three connections, waiting a few seconds at most; the server starts unready otherwise. */
  async connect(): Promise<void> {
    const connectOne = (conn: Redis | Cluster) => conn.connect().catch(() => {});
    const ready = Promise.all([connectOne(this.commands), connectOne(this.reader), connectOne(this.subscriber)]);
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
    // The subscriber connection queues commands while Redis is away (it must, to resubscribe);
    // a set-up waiting on it must still end, with `unavailable`.
    const channel = roomChannel(room);
    await this.unavailableOnError(() =>
      withTimeout(
        this.cluster ? this.subscriber.ssubscribe(channel) : this.subscriber.subscribe(channel),
        this.options.commandTimeoutMs,
        'subscribe',
      ),
    );
  }

  async unsubscribe(room: string): Promise<void> {
    const channel = roomChannel(room);
    this.channels.delete(channel);
    await (this.cluster ? this.subscriber.sunsubscribe(channel) : this.subscriber.unsubscribe(channel));
  }

  async post(draft: MessageDraft): Promise<PostResult> {
    const keys = roomKeys(draft.room);
    const sent = draft.clientMsgId === undefined ? keys.log : sentKey(draft.room, draft.user.id, draft.clientMsgId);
    return this.unavailableOnError(async () => {
      // A reply names the author of the message it answers (a message's author never changes);
      // the script then checks, with the append, that the message is still there.
      let answered: { id: string; user: User } | undefined;
      if (draft.replyTo !== undefined) {
        const [item] = await this.reader.readLog(
          keys.log,
          keys.texts,
          keys.edited,
          keys.reactions,
          keys.confirmed,
          'f',
          draft.replyTo,
          1,
          this.confirmedOnly,
        );
        const record = item === undefined || item[0] !== draft.replyTo ? undefined : recordOfItem(item);
        if (record?.kind !== 'message' || record.message.deleted === true)
          return { outcome: 'refused', code: 'not_found' };
        answered = { id: record.message.id, user: record.message.user };
      }
      const reply = await this.replicated(
        'postMessage',
        [
          ...this.logKeys(draft.room, sent),
          slowKey(draft.room, draft.user.id),
          messageRecord(draft, answered),
          this.options.historyLength,
          this.options.roomTtlMs,
          roomChannel(draft.room),
          RETRY_WINDOW_MS,
          draft.clientMsgId === undefined ? '0' : '1',
          retryFingerprint(draft),
          draft.text,
          draft.user.id,
          draft.replyTo ?? '',
          draft.address ?? '',
        ],
        draft.room,
      );
      return this.resultOf(draft.room, reply);
    });
  }

  async change(draft: ChangeDraft): Promise<PostResult> {
    const reply = await this.unavailableOnError(() =>
      this.replicated(
        'changeMessage',
        [
          ...this.logKeys(draft.room, sentKey(draft.room, draft.user.id, draft.clientMsgId)),
          draft.op,
          draft.id,
          changeRecord(draft),
          this.options.historyLength,
          this.options.roomTtlMs,
          roomChannel(draft.room),
          RETRY_WINDOW_MS,
          retryFingerprint(draft),
          draft.user.id,
          this.options.editWindowMs,
          draft.op === 'edit' ? (draft.text ?? '') : (draft.emoji ?? ''),
          this.options.maxReactionEmoji,
          this.options.maxReactionsPerMessage,
          draft.address ?? '',
        ],
        draft.room,
      ),
    );
    return this.resultOf(draft.room, reply);
  }

  async moderate(draft: ModerationDraft): Promise<PostResult> {
    if (draft.action === 'purge') return this.purge(purgeDraftOf(draft));
    return this.unavailableOnError(async () => {
      const keys = roomKeys(draft.room);
      // The person as the room knows them: present, or banned or muted before (then absent).
      const present = await this.commands.hget(keys.people, draft.userId);
      const known = present ?? (await this.commands.hget(keys.moderation, `who:${draft.userId}`));
      const user = personOf(known, draft.userId);
      const until = moderationUntil(draft);
      const reply = await this.replicated(
        'moderate',
        [
          ...this.logKeys(draft.room, sentKey(draft.room, draft.by.id, draft.clientMsgId)),
          keys.people,
          keys.addresses,
          draft.action,
          draft.by.id,
          draft.userId,
          moderationRecord(draft, user, until),
          this.options.historyLength,
          this.options.roomTtlMs,
          roomChannel(draft.room),
          RETRY_WINDOW_MS,
          moderationFingerprint(draft),
          until,
          presencePayload(user),
          MAX_MODERATORS,
        ],
        draft.room,
      );
      return this.resultOf(draft.room, reply);
    });
  }

  async purge(draft: PurgeDraft): Promise<PurgeResult> {
    return this.unavailableOnError(async () => {
      // Only the owner and moderators purge (the script checks that again, atomically, with the
      // rest): a member's attempt costs no read of the log to name the person.
      const [owner, mods] = await this.commands.hmget(roomKeys(draft.room).moderation, 'owner', 'mods');
      const moderators = (mods ?? '').split(' ');
      const operator = draft.by.id === OPERATOR_USER.id;
      if (!operator && owner !== draft.by.id && !moderators.includes(draft.by.id))
        return { outcome: 'refused', code: 'forbidden' };
      const user = draft.userId === EVERYONE_USER.id ? EVERYONE_USER : await this.lastKnown(draft.room, draft.userId);
      const reply = await this.replicated(
        'purge',
        [
          ...this.logKeys(draft.room, sentKey(draft.room, draft.by.id, draft.clientMsgId)),
          draft.by.id,
          draft.userId,
          moderationRecord({ ...draft, action: 'purge' }, user, 0),
          purgeDeletePrefix(draft.room, draft.by),
          this.options.historyLength,
          this.options.roomTtlMs,
          roomChannel(draft.room),
          RETRY_WINDOW_MS,
          purgeFingerprint(draft),
          draft.windowSeconds * 1000,
          draft.maxMessages,
        ],
        draft.room,
      );
      const result = this.resultOf(draft.room, reply as unknown as ScriptReply<number>);
      return result.outcome === 'stored' ? { ...result, count: Number(reply[3]) } : result;
    });
  }

  /**
   * A person as the room last knew them, to name them in a moderation event (as the memory
   * engine does): present, banned or muted before, else the author of their newest retained
   * message or the person of the newest action about them; by id alone when none is left. Reads
   * the log newest first, a chunk at a time, at most the history length.
   */
  private async lastKnown(room: string, userId: string): Promise<User> {
    const keys = roomKeys(room);
    const known =
      (await this.commands.hget(keys.people, userId)) ?? (await this.commands.hget(keys.moderation, `who:${userId}`));
    if (known !== null) return personOf(known, userId);
    let end = '+';
    for (let read = 0; read < this.options.historyLength;) {
      const entries = (await this.reader.xrevrange(keys.log, end, '-', 'COUNT', LAST_KNOWN_CHUNK)) as StreamEntry[];
      for (const [, fields] of entries) {
        const about = fieldOf(fields, 'a') ?? fieldOf(fields, 'm');
        if (about !== userId) continue;
        const record = safeJson(fieldOf(fields, 'r')) as { user?: unknown } | undefined;
        const person = personOf(record?.user === undefined ? null : JSON.stringify(record.user), userId);
        if (person.name !== '') return person;
      }
      if (entries.length < LAST_KNOWN_CHUNK) break;
      read += entries.length;
      end = `(${entries.at(-1)![0]}`;
    }
    return { id: userId, name: '' };
  }

  /** What a log script's reply means for the caller; a stored entry also refreshes the room's place in the room list. */
  private resultOf(room: string, reply: ScriptReply<number>): PostResult {
    const [id, outcome] = reply;
    const refused = refusalOf(reply);
    if (refused !== undefined) return refused;
    if (outcome === 2) return { outcome: 'reused' };
    if (outcome === 1) return { outcome: 'duplicate', id };
    this.touchRoom(room, idTime(id));
    return { outcome: 'stored', id };
  }

  async configure(draft: SettingsDraft): Promise<PostResult> {
    return this.unavailableOnError(async () => {
      const keys = roomKeys(draft.room);
      // Merged here, written by the script only if the sender owns the room (a concurrent change
      // of other fields by the owner's other tab is overwritten: the last one wins).
      const settings = { ...storedSettings(await this.commands.hget(keys.moderation, 'settings')), ...draft.changes };
      const reply = await this.replicated(
        'configure',
        [
          ...this.logKeys(draft.room, sentKey(draft.room, draft.by.id, draft.clientMsgId)),
          keys.people,
          draft.by.id,
          settingsRecord(draft, settings),
          this.options.historyLength,
          this.options.roomTtlMs,
          roomChannel(draft.room),
          RETRY_WINDOW_MS,
          settingsFingerprint(draft),
          JSON.stringify(settings),
          settings.slowModeSeconds,
          settings.readOnly ? '1' : '0',
          settings.inviteOnly ? '1' : '0',
        ],
        draft.room,
      );
      const result = this.resultOf(draft.room, reply);
      if (result.outcome === 'stored')
        await (settings.unlisted
          ? this.commands.sadd(UNLISTED_KEY, draft.room)
          : this.commands.srem(UNLISTED_KEY, draft.room));
      return result;
    });
  }

  async setWebhook(draft: WebhookDraft): Promise<WebhookResult> {
    const { room, by, change } = draft;
    const keys = roomKeys(room);
    return this.unavailableOnError(async () => {
      // The bounds are counted apart from the room (their own slot on a cluster), not atomically
      // with the set: two owners setting their rooms' first webhook at the same moment (or one
      // address in two rooms) may pass either by one, which it can afford. Only a room that has no
      // webhook gets a new one: a new URL for a room's webhook counts for neither bound.
      if (change.op === 'set' && (await this.commands.hexists(keys.moderation, 'hook')) === 0) {
        if (!(await this.roomForWebhook(draft.max)))
          return { outcome: 'refused', code: 'too_many_webhooks', bound: 'total' };
        if (
          draft.maxPerAddress > 0 &&
          (await this.webhooksSetBy(draft.address, draft.maxPerAddress)) >= draft.maxPerAddress
        )
          return { outcome: 'refused', code: 'too_many_webhooks', bound: 'address' };
      }
      const events = change.op === 'set' ? change.webhook.events : change.op === 'events' ? change.events : null;
      const hook =
        change.op === 'set'
          ? JSON.stringify({ url: change.webhook.url, secret: change.webhook.secret, setAt: change.webhook.setAt })
          : '';
      // The change is an entry of the room's log, appended in the same script (see configure).
      const [id, outcome, , stored = ''] = await this.replicated(
        'setWebhook',
        [
          ...this.logKeys(room, keys.log),
          by.id,
          change.op,
          hook,
          (events ?? []).join(' '),
          webhookRecord(room, by, events, webhookActionOf(change.op)),
          this.options.historyLength,
          this.options.roomTtlMs,
          roomChannel(room),
        ],
        room,
      );
      if (outcome === 4) return { outcome: 'refused', code: 'forbidden' };
      if (outcome === 3) return { outcome: 'refused', code: 'not_found' };
      if (outcome === 2) return { outcome: 'cleared', had: false };
      this.touchRoom(room, idTime(id));
      const removed = change.op === 'clear';
      await (removed ? this.commands.srem(ROOM_WEBHOOKS_KEY, room) : this.commands.sadd(ROOM_WEBHOOKS_KEY, room));
      // Who set it (a new URL: its new setter), for ROOM_WEBHOOKS_PER_ADDRESS; removed: nobody.
      if (removed) await this.commands.hdel(ROOM_WEBHOOK_SETTERS_KEY, room);
      else if (change.op === 'set') await this.commands.hset(ROOM_WEBHOOK_SETTERS_KEY, room, draft.address);
      await this.commands.incr(ROOM_WEBHOOKS_VERSION_KEY);
      if (removed) return { outcome: 'cleared', had: true };
      const webhook = storedWebhook(stored, events!.join(' '));
      if (webhook === undefined) throw new Error('the stored webhook could not be read back');
      return { outcome: 'stored', webhook };
    });
  }

  /**
   * Whether one more room may get a webhook: fewer than `max` are listed, or are once the rooms
   * whose webhook expired with them are dropped from the list (read only when it is full).
   */
  private async roomForWebhook(max: number): Promise<boolean> {
    if ((await this.commands.scard(ROOM_WEBHOOKS_KEY)) < max) return true;
    const listed = await this.commands.smembers(ROOM_WEBHOOKS_KEY);
    const gone = await this.webhooksGone(listed);
    if (gone.length > 0) {
      await this.commands.srem(ROOM_WEBHOOKS_KEY, ...gone);
      await this.commands.hdel(ROOM_WEBHOOK_SETTERS_KEY, ...gone);
    }
    return listed.length - gone.length < max;
  }

  /**
   * How many rooms' webhooks an address key set (ROOM_WEBHOOK_SETTERS_KEY: at most
   * MAX_ROOM_WEBHOOKS entries). Once it reaches `max`, its rooms whose webhook expired with them
   * are dropped from the hash and not counted (read only then).
   */
  private async webhooksSetBy(address: string, max: number): Promise<number> {
    const setters = await this.commands.hgetall(ROOM_WEBHOOK_SETTERS_KEY);
    const rooms = Object.keys(setters).filter((room) => setters[room] === address);
    if (rooms.length < max) return rooms.length;
    const gone = await this.webhooksGone(rooms);
    if (gone.length > 0) await this.commands.hdel(ROOM_WEBHOOK_SETTERS_KEY, ...gone);
    return rooms.length - gone.length;
  }

  /** Of these rooms, those whose webhook is gone (expired with the room's other state). */
  private async webhooksGone(rooms: string[]): Promise<string[]> {
    const held = await Promise.all(rooms.map((room) => this.commands.hexists(roomKeys(room).moderation, 'hook')));
    return rooms.filter((_, i) => held[i] === 0);
  }

  async webhook(room: string): Promise<StoredRoomWebhook | undefined> {
    const [hook, events] = await this.unavailableOnError(() =>
      this.reader.hmget(roomKeys(room).moderation, 'hook', 'hookev'),
    );
    return hook === null || hook === undefined ? undefined : storedWebhook(hook, events ?? '');
  }

  async webhooksVersion(): Promise<string> {
    return (await this.unavailableOnError(() => this.reader.get(ROOM_WEBHOOKS_VERSION_KEY))) ?? '0';
  }

  async standing(room: string, userId: string, address: string): Promise<Standing> {
    const [owner, mods, ban, byAddress, mute, settings, admitted, hookEvents] = await this.unavailableOnError(() =>
      this.reader.hmget(
        roomKeys(room).moderation,
        'owner',
        'mods',
        `ban:${userId}`,
        `addr:${address}`,
        `mute:${userId}`,
        'settings',
        `in:${userId}`,
        'hookev',
      ),
    );
    const roles: RoomRoles = { moderators: (mods ?? '').split(' ').filter((id) => id !== '') };
    if (owner !== null && owner !== undefined) roles.owner = owner;
    const standing: Standing = {
      roles,
      role: roleOf(roles, userId),
      settings: storedSettings(settings ?? null),
      admitted: admitted === '1',
    };
    const now = Date.now();
    const banned = ban === null || ban === undefined ? undefined : Number(ban);
    const addressBanned = byAddress === null || byAddress === undefined ? undefined : Number(byAddress.split('|')[0]);
    if (holds(banned, now)) standing.bannedUntil = banned;
    else if (holds(addressBanned, now) && standing.role === 'member') standing.bannedUntil = addressBanned;
    const muted = mute === null || mute === undefined ? undefined : Number(mute);
    if (holds(muted, now)) standing.mutedUntil = muted;
    if (hookEvents !== null && hookEvents !== undefined) standing.webhookEvents = webhookEventsOf(hookEvents);
    return standing;
  }

  async admit(room: string, userId: string): Promise<AdmitResult> {
    const admitted = await this.unavailableOnError(() =>
      this.commands.admit(roomKeys(room).moderation, userId, this.options.admittedMax),
    );
    return admitted === 1 ? { outcome: 'admitted' } : { outcome: 'refused', code: 'room_full' };
  }

  async banAddress(room: string, address: string, until: number, userId: string): Promise<void> {
    const keys = roomKeys(room);
    await this.unavailableOnError(() => this.commands.hset(keys.moderation, `addr:${address}`, `${until}|${userId}`));
  }
  async addressesOf(room: string, userId: string): Promise<string[]> {
    const kept = await this.unavailableOnError(() => this.reader.hget(roomKeys(room).addresses, userId));
    return kept === null ? [] : kept.split(' ').filter((address) => address !== '');
  }

  async history(room: string, query: HistoryQuery): Promise<HistoryResult> {
    return this.unavailableOnError(async () => {
      const from = query.since ?? query.after;
      if (from !== undefined) {
        const bounds = await this.streamBounds(room);
        const recovered = sinceIsRecoverable(from, bounds.oldestRecoverable, bounds.lastId, bounds.firstId);
        if (recovered || query.after !== undefined) {
          // Not recoverable (after): what follows the trimmed stretch, from the oldest kept.
          const start = !recovered ? '-' : from === MAX_STREAM_ID ? undefined : `(${from}`;
          if (start === undefined)
            return {
              messages: [],
              changes: [],
              moderation: [],
              settings: [],
              webhooks: [],
              recovered,
              hasMore: bounds.firstId !== undefined,
              hasNewer: false,
            };
          const page = await this.readPage(room, 'forward', start, query, recovered ? from : undefined);
          const olderExists = bounds.firstId !== undefined && bounds.firstId !== page.messages[0]?.id;
          return {
            messages: page.messages,
            changes: page.changes.list(),
            moderation: page.moderation,
            settings: page.settings,
            webhooks: page.webhooks,
            recovered,
            hasMore: olderExists,
            hasNewer: page.more,
            lastEventId: page.lastEventId,
            lastSeq: page.lastSeq,
          };
        }
      }
      // `(0-0` is no id Redis accepts as an exclusive end: nothing is before 0-0.
      if (query.before === '0-0')
        return {
          messages: [],
          changes: [],
          moderation: [],
          settings: [],
          webhooks: [],
          recovered: false,
          hasMore: false,
          hasNewer: false,
        };
      const page = await this.readPage(room, 'backward', query.before === undefined ? '+' : `(${query.before}`, query);
      return {
        messages: page.messages.reverse(),
        changes: [],
        // The latest page's entries about the room: the moderation log reads the same after a
        // reload (what every member was sent live; bounded by count, see addLatestRoomEntry).
        moderation: query.before === undefined ? page.moderation.reverse() : [],
        settings: query.before === undefined ? page.settings.reverse() : [],
        webhooks: query.before === undefined ? page.webhooks.reverse() : [],
        recovered: false,
        hasMore: page.more,
        hasNewer: false,
        // The latest page shows the state of every message as of its newest entry.
        lastEventId: query.before === undefined ? page.lastEventId : undefined,
        lastSeq: page.lastSeq,
      };
    });
  }

  /**
   * Reads a page of a room's log from `start`, in chunks sized by what the page can still hold
   * (reading `limit + 1` entries at once would make Redis send, and ioredis parse, hundreds of
   * large entries for a page that holds a few dozen: a 256 KiB page of 4 KiB messages fetched
   * 800 KiB).
   *
   * Forward (oldest first, a since/after page): messages in their latest state, and changes to
   * messages older than `from` (a change to a message of the page is in its state already).
   * Backward (newest first, the latest page or scroll-back): messages, and the entries about the
   * room read on the way (moderation, settings and webhook changes; not counted against the
   * page's bounds: bounded by count instead, the newest of each kind up to its bound, see
   * addLatestRoomEntry; history() keeps them for the latest page only). At most `limit`
   * messages and about `maxBytes` (at least one entry). `more`: messages (backward) or entries
   * (forward) follow the page. `lastEventId` and `lastSeq`: the newest entry read (forward: the
   * last one taken; backward: the first one read).
   */
  private async readPage(
    room: string,
    direction: 'forward' | 'backward',
    start: string,
    { limit, maxBytes }: { limit: number; maxBytes: number },
    from?: string,
  ): Promise<LogPage> {
    const keys = roomKeys(room);
    const page: LogPage = {
      messages: [],
      changes: new ChangeCollector(),
      moderation: [],
      settings: [],
      webhooks: [],
      lastEventId: undefined,
      lastSeq: undefined,
      more: false,
    };
    let taken = 0;
    let bytes = 0;
    let cursor = start;
    // A first guess of 4 KiB an entry (the largest text), then what the entries so far weigh.
    let chunk = Math.max(2, Math.min(MAX_READ_CHUNK, Math.ceil(maxBytes / 4096) + 1));
    for (;;) {
      const want = Math.max(1, Math.min(chunk, MAX_READ_CHUNK * 4));
      const items = await this.reader.readLog(
        keys.log,
        keys.texts,
        keys.edited,
        keys.reactions,
        keys.confirmed,
        direction === 'forward' ? 'f' : 'b',
        cursor,
        want,
        this.confirmedOnly,
      );
      for (const item of items) {
        if (direction === 'backward' && page.lastEventId === undefined) {
          page.lastEventId = item[0];
          page.lastSeq = seqOfEntry(item);
        }
        const record = recordOfItem(item);
        if (record === undefined) continue;
        if (record.kind === 'moderation' || record.kind === 'settings' || record.kind === 'webhook') {
          if (direction === 'backward') {
            addLatestRoomEntry(page, record);
            continue;
          }
          const size = changeWireBytes(record.frame);
          if (taken > 0 && bytes + size > maxBytes) return { ...page, more: true };
          addRoomEntry(page, record);
          bytes += size;
        } else if (record.kind === 'change') {
          if (direction === 'backward' || record.frame === undefined) continue;
          if (from !== undefined && compareMessageIds(record.target, from) > 0) continue;
          const size = changeWireBytes(record.frame);
          if (taken > 0 && bytes + size > maxBytes) return { ...page, more: true };
          page.changes.add(record.frame);
          bytes += size;
        } else {
          const size = messageWireBytes(record.message);
          if (page.messages.length === limit || (taken > 0 && bytes + size > maxBytes)) return { ...page, more: true };
          page.messages.push(record.message);
          bytes += size;
        }
        taken += 1;
        if (direction === 'forward') {
          page.lastEventId = item[0];
          page.lastSeq = seqOfEntry(item);
        }
      }
      if (items.length < want) return page;
      cursor = `(${items.at(-1)![0]}`;
      const average = bytes / Math.max(1, taken);
      chunk = Math.ceil((maxBytes - bytes) / Math.max(1, average)) + 1;
    }
  }

  /**
   * Runs a log script and, with REDIS_WAIT_REPLICAS set, `WAIT` right behind it on the same
   * connection (one pipeline: on a cluster, the same primary): the answer counts only once that
   * many replicas have the entry, so a failover cannot lose what was acked. Fewer replicas in
   * time: EngineUnavailableError (the entry may be stored; a resend with the same clientMsgId is
   * stored once and waits again).
   *
   * In that mode the script does not publish: it returns its frame, published here only once the
   * replicas confirmed the entry. So no client ever sees an entry that a failover can still take
   * back (it would then hold a `since` the new primary does not know, and have to resync). A
   * resend of an entry whose publish never happened publishes it then; the hubs deliver an entry
   * once whatever the order of publishes (they compare log ids and read gaps back).
   */
  private async replicated<
    C extends 'postMessage' | 'changeMessage' | 'moderate' | 'configure' | 'purge' | 'setWebhook',
  >(script: C, args: Parameters<ScriptCommands[C]>, room: string): Promise<Awaited<ReturnType<ScriptCommands[C]>>> {
    // A pipeline as used here: the custom scripts and publish by name (their typings are not on
    // ioredis' Pipeline type), and WAIT.
    type LoosePipeline = Record<string, (...args: unknown[]) => unknown> & {
      wait(replicas: number, timeoutMs: number): unknown;
      exec(): Promise<Array<[Error | null, unknown]> | null>;
    };
    const run = this.commands[script] as (...args: unknown[]) => ReturnType<ScriptCommands[C]>;
    if (this.options.waitReplicas === 0)
      return (await run.apply(this.commands, args)) as Awaited<ReturnType<ScriptCommands[C]>>;
    const pipeline = this.commands.pipeline() as unknown as LoosePipeline;
    pipeline[script]!(...args);
    pipeline.wait(this.options.waitReplicas, this.options.waitTimeoutMs);
    const replies = (await pipeline.exec()) ?? [];
    const [scriptError, result] = replies[0] ?? [new Error('no reply')];
    if (scriptError !== null) throw scriptError;
    const [waitError, replicas] = replies[1] ?? [new Error('no reply')];
    if (waitError !== null) throw waitError;
    // (A purge leaves a list of frames, published in order.)
    const [, outcome, frame] = result as [string, number, (DeferredFrame | string[])?];
    // Only what was written needs replicas: a refusal stored nothing.
    if ((outcome === 0 || outcome === 1) && Number(replicas) < this.options.waitReplicas)
      throw new EngineUnavailableError(
        `only ${String(replicas)} of ${this.options.waitReplicas} replicas confirmed in time`,
      );
    if (outcome === 0 || outcome === 1) {
      // The entry is replicated: readers may see it now (its confirmation replicated too, so a
      // failover right after the ack cannot hide it from welcomes and read-backs behind an older
      // confirmed entry), then it goes out live.
      const [id] = result as [string];
      const confirm = this.commands.pipeline() as unknown as LoosePipeline;
      confirm.confirm!(roomKeys(room).confirmed, id, this.options.roomTtlMs);
      confirm.wait(this.options.waitReplicas, this.options.waitTimeoutMs);
      const confirmed = (await confirm.exec()) ?? [];
      for (const [err] of confirmed) if (err !== null) throw err;
      // The entry itself is on enough replicas: too few for its confirmation does not take the
      // ack back (a resend would be stored once and confirmed again anyway); it is logged.
      const confirmedOn = Number(confirmed[1]?.[1]);
      if (confirmedOn < this.options.waitReplicas)
        this.log.warn(
          { room, id, replicas: confirmedOn },
          'an entry’s confirmation reached fewer replicas than REDIS_WAIT_REPLICAS in time',
        );
      const frames = typeof frame === 'string' ? [frame] : Array.isArray(frame) ? frame : [];
      if (frames.length > 0) {
        const publish = this.commands.pipeline() as unknown as LoosePipeline;
        for (const published of frames) publish[this.cluster ? 'spublish' : 'publish']!(roomChannel(room), published);
        for (const [err] of (await publish.exec()) ?? []) if (err !== null) throw err;
      }
    }
    return result as Awaited<ReturnType<ScriptCommands[C]>>;
  }

  /** The keys the log scripts take (see LOG_HELPERS in redis-scripts.ts), with a retry guard. */
  private logKeys(room: string, sent: string): LogKeys {
    const keys = roomKeys(room);
    return [
      keys.log,
      sent,
      keys.seq,
      keys.trimmed,
      keys.texts,
      keys.edited,
      keys.reactions,
      keys.moderation,
      keys.confirmed,
    ];
  }

  async enter(room: string, user: User, listLimit: number, address = ''): Promise<Entered> {
    let local = this.present.get(room);
    if (local === undefined) this.present.set(room, (local = new Map()));
    local.set(user.id, { user, address });
    return this.unavailableOnError(() => this.enterTogether(room, user, address, listLimit));
  }

  async members(room: string, cursor: string | undefined, limit: number): Promise<MemberList> {
    const keys = roomKeys(room);
    const [next, count, ...members] = await this.unavailableOnError(() =>
      this.reader.membersPage(keys.people, keys.moderation, keys.looks, cursor ?? '0', limit),
    );
    return {
      json: `[${members.join(',')}]` as MembersJson,
      listed: members.length,
      count: Number(count),
      cursor: next === '0' ? undefined : next,
    };
  }

  async exit(room: string, user: User): Promise<Exited> {
    const local = this.present.get(room);
    local?.delete(user.id);
    if (local?.size === 0) this.present.delete(room);
    const [present, left, swept] = await this.unavailableOnError(() =>
      this.commands.exitRoom(...presenceKeys(room), Date.now(), roomChannel(room), this.presenceMember(user.id)),
    );
    this.reportSwept(room, swept);
    // The last person out takes the room off the occupied list (a room with no message and
    // nobody present leaves nothing behind; its presence keys are empty, so Redis dropped them).
    if (Number(present) === 0) this.commands.zrem(OCCUPIED_INDEX_KEY, room).catch(() => {});
    return { left: Number(left) === 1, count: Number(present) };
  }

  async typing(room: string, user: User): Promise<void> {
    const channel = roomChannel(room);
    const frame = typingBusFrame(user);
    await this.unavailableOnError(() =>
      this.cluster ? this.commands.spublish(channel, frame) : this.commands.publish(channel, frame),
    );
  }

  async activeRooms(limit: number, options: { includeUnlisted?: boolean } = {}): Promise<RoomSummary[]> {
    return this.unavailableOnError(async () => {
      const now = Date.now();
      const staleBefore = now - this.options.presenceTtlMs;
      // Rooms idle past their lifetime go. Rooms whose instances stopped confirming them are not
      // listed; the abandoned-room sweep takes them off once it has told who left.
      // (Commands one by one, not in a transaction or pipeline: on a cluster the two indexes
      // and each room live on slots of their own.)
      await this.reader.zremrangebyscore(ROOM_INDEX_KEY, '-inf', now - this.options.roomTtlMs);
      const [occupied, recent] = await Promise.all([
        this.reader.zrevrangebyscore(OCCUPIED_INDEX_KEY, '+inf', staleBefore, 'LIMIT', 0, this.options.roomIndexSize),
        this.reader.zrevrange(ROOM_INDEX_KEY, 0, limit - 1, 'WITHSCORES'),
      ]);
      const lastActivity = new Map<string, number>();
      for (let i = 0; i < recent.length; i += 2) lastActivity.set(recent[i]!, Number(recent[i + 1]));
      // Every occupied room's head count and last message, all asked at once.
      const replies = await Promise.all(
        occupied.map((room) =>
          Promise.all([this.reader.hlen(roomKeys(room).people), this.reader.zscore(ROOM_INDEX_KEY, room)]),
        ),
      );
      const rooms = new Map<string, RoomSummary>();
      occupied.forEach((room, i) => {
        const members = Number(replies[i]?.[0] ?? 0);
        const last = Number(replies[i]?.[1] ?? 0);
        if (members > 0) rooms.set(room, { room, members, lastActivity: last });
      });
      for (const [room, last] of lastActivity) {
        if (!rooms.has(room) && last >= now - this.options.activeWindowMs)
          rooms.set(room, { room, members: 0, lastActivity: last });
      }
      // Unlisted rooms never show (one command for every candidate).
      const candidates = [...rooms.keys()];
      if (candidates.length > 0 && options.includeUnlisted !== true) {
        const unlisted = await this.reader.smismember(UNLISTED_KEY, ...candidates);
        candidates.forEach((room, i) => {
          if (unlisted[i] === 1) rooms.delete(room);
        });
      }
      return [...rooms.values()].sort(byActivity).slice(0, limit);
    });
  }

  async addMessageCounts(day: string, counts: ReadonlyMap<string, number>): Promise<Map<string, number>> {
    const key = quotaKey(day);
    const batch = this.commands.pipeline();
    for (const [address, n] of counts) batch.hincrby(key, address, n);
    batch.expire(key, QUOTA_TTL_SECONDS);
    const replies = (await this.unavailableOnError(() => batch.exec())) ?? [];
    const totals = new Map<string, number>();
    [...counts.keys()].forEach((address, i) => {
      const [err, total] = replies[i] ?? [new Error('no reply')];
      if (err === null) totals.set(address, Number(total));
    });
    return totals;
  }

  async roomFacts(room: string): Promise<RoomFacts> {
    const keys = roomKeys(room);
    const [messages, [owner, mods, settings]] = await this.unavailableOnError(() =>
      Promise.all([
        // The log holds changes as well as messages; the texts hash holds one field per live message.
        this.reader.hlen(keys.texts),
        this.reader.hmget(keys.moderation, 'owner', 'mods', 'settings'),
      ]),
    );
    const roles: RoomRoles = { moderators: (mods ?? '').split(' ').filter((id) => id !== '') };
    if (owner !== null && owner !== undefined) roles.owner = owner;
    return { messages, roles, settings: storedSettings(settings ?? null) };
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
      return {
        ok: this.subscriber.status === 'ready',
        detail: `redis up (${ms.toFixed(1)} ms), subscriber ${this.subscriber.status}`,
      };
    } catch (err) {
      return { ok: false, detail: `redis down: ${(err as Error).message}` };
    } finally {
      clearTimeout(timer);
    }
  }

  async close(): Promise<void> {
    clearInterval(this.heartbeat);
    clearInterval(this.abandonedSweep);
    clearInterval(this.slotsRefresh);
    clearTimeout(this.settledBackfill);
    // quit() waits for replies in flight; disconnect() is the fallback when Redis is gone, or
    // does not answer within the command timeout (a cluster whose nodes died may never answer).
    await Promise.all(
      [this.commands, this.reader, this.subscriber].map(async (conn) => {
        if (conn.status !== 'ready') {
          conn.disconnect();
          return;
        }
        await withTimeout(conn.quit(), this.options.commandTimeoutMs, 'quit').catch(() => {});
        conn.disconnect();
      }),
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
    // The index keeps the ROOM_INDEX_SIZE most recently active rooms, whatever their number.
    this.commands
      .multi()
      .zadd(ROOM_INDEX_KEY, at, room)
      .zremrangebyrank(ROOM_INDEX_KEY, 0, -this.options.roomIndexSize - 1)
      .exec()
      .catch(() => {});
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
    const up = this.commands.status === 'ready' && this.reader.status === 'ready' && this.subscriber.status === 'ready';
    if (up === this.up) return;
    this.up = up;
    this.listener?.availability(up);
  }

  /**
   * Enters a person with whoever else is entering the room through this instance at the
   * moment: while one enter call for a room is in flight, the next ones wait and go together in
   * the following call (at most ENTER_BATCH_MAX a call). A quiet room enters at once; in a
   * storm, a room's arrivals cost one script call (and one read of its roles and member page)
   * per round trip instead of one each.
   */
  private enterTogether(room: string, user: User, address: string, listLimit: number): Promise<Entered> {
    return new Promise((resolve, reject) => {
      let waiting = this.waitingEnters.get(room);
      if (waiting === undefined) this.waitingEnters.set(room, (waiting = []));
      waiting.push({ user, address, listLimit, resolve, reject });
      if (!this.entering.has(room)) void this.runEnters(room);
    });
  }

  private async runEnters(room: string): Promise<void> {
    this.entering.add(room);
    try {
      for (let waiting = this.waitingEnters.get(room); waiting !== undefined; waiting = this.waitingEnters.get(room)) {
        const batch = waiting.splice(0, ENTER_BATCH_MAX);
        if (waiting.length === 0) this.waitingEnters.delete(room);
        try {
          const listLimit = Math.max(...batch.map((pending) => pending.listLimit));
          this.presenceCalls.calls += 1;
          this.presenceCalls.entered += batch.length;
          const [count, joined, swept, ...members] = await this.runEnter(room, batch, listLimit);
          this.reportSwept(room, swept);
          this.commands.zadd(OCCUPIED_INDEX_KEY, Date.now(), room).catch(() => {});
          // The JSON of each person listed (their stored entry and role), joined into one array
          // as it is: nothing to parse, and once for everyone of the batch who asked as many.
          const lists = new Map<number, MembersJson>();
          batch.forEach((pending, i) => {
            const listed = members.slice(0, pending.listLimit);
            let json = lists.get(listed.length);
            if (json === undefined) lists.set(listed.length, (json = `[${listed.join(',')}]` as MembersJson));
            pending.resolve({ json, listed: listed.length, count: Number(count), joined: joined[i] === '1' });
          });
        } catch (err) {
          for (const pending of batch) pending.reject(err);
        }
      }
    } finally {
      this.entering.delete(room);
    }
  }

  private runEnter(
    room: string,
    batch: readonly PendingEnter[],
    listLimit: number,
  ): Promise<[count: number, joined: string, swept: string[], ...members: string[]]> {
    const now = Date.now();
    return this.commands.enterRoom(
      ...presenceKeys(room),
      roomKeys(room).moderation,
      now,
      roomChannel(room),
      now + this.options.presenceTtlMs,
      this.options.roomTtlMs,
      listLimit,
      ...batch.flatMap(({ user, address }) => {
        const entry = memberEntry(user);
        return [this.presenceMember(user.id), user.id, JSON.stringify(entry), address, entry.look.join(' ')];
      }),
    );
  }

  /** This instance's entry for a person in a room's presence set: `userId|instanceId` (see {@link userOfPresenceMember}). */
  private presenceMember(userId: string): string {
    return `${userId}|${this.instanceId}`;
  }

  /**
   * One presence heartbeat: confirms this instance's rooms as occupied and pushes back the expiry
   * of its people, REFRESH_CHUNK people a script, at most REFRESH_IN_FLIGHT scripts at Redis at
   * once: Redis runs a script alone, and all of a big room's chunks sent together (20 for 10,000
   * people) would make every message posted meanwhile wait behind all of them. A beat still
   * running when the next is due lets that one pass.
   *
   * Run by the heartbeat timer; public so a test can run a beat itself.
   */
  async refreshPresence(): Promise<void> {
    if (this.refreshing || this.commands.status !== 'ready') return;
    this.refreshing = true;
    try {
      const now = Date.now();
      if (this.present.size > 0) {
        // Confirms this instance's rooms as occupied, in one command (entries of a dead instance age out).
        const scored = [...this.present.keys()].flatMap((room) => [now, room]);
        this.commands
          .zadd(OCCUPIED_INDEX_KEY, ...scored)
          .catch((err: Error) => this.log.warn({ err: err.message }, 'occupied-room index refresh failed'));
      }
      const chunks: Array<{ room: string; members: string[] }> = [];
      for (const [room, people] of this.present) {
        const members = [...people.keys()].map((userId) => this.presenceMember(userId));
        for (let i = 0; i < members.length; i += REFRESH_CHUNK)
          chunks.push({ room, members: members.slice(i, i + REFRESH_CHUNK) });
      }
      let next = 0;
      const worker = async () => {
        while (next < chunks.length) {
          const { room, members } = chunks[next++]!;
          await this.refreshChunk(room, members, now);
        }
      };
      await Promise.all(Array.from({ length: Math.min(REFRESH_IN_FLIGHT, chunks.length) }, worker));
    } finally {
      this.refreshing = false;
    }
  }

  /** Pushes back the expiry of some of this instance's people in a room (never rejects: a failure is logged). */
  private async refreshChunk(room: string, members: string[], now: number): Promise<void> {
    try {
      const [missing, swept] = await this.commands.refreshPresence(
        ...presenceKeys(room),
        now,
        roomChannel(room),
        now + this.options.presenceTtlMs,
        this.options.roomTtlMs,
        ...members,
      );
      this.reportSwept(room, swept);
      // Entries that expired while this instance could not reach Redis: enter them again.
      for (const member of missing) {
        const person = this.present.get(room)?.get(userOfPresenceMember(member));
        if (person !== undefined)
          void this.enterTogether(room, person.user, person.address, 0).catch((err: Error) =>
            this.log.warn({ room, err: err.message }, 'presence refresh failed'),
          );
      }
    } catch (err) {
      this.log.warn({ room, err: (err as Error).message }, 'presence refresh failed');
    }
  }

  /**
   * First and last ids of a room's log, and the smallest `since` with nothing trimmed after it:
   * none when nothing was ever trimmed, else the newest trimmed id (kept by the post script), or
   * for a log written before that was kept, its first retained id (one message stricter).
   */
  private async streamBounds(room: string): Promise<{ firstId?: string; lastId?: string; oldestRecoverable?: string }> {
    // (A pipeline of two keys of one room: one slot, so it works on a cluster too.)
    const keys = roomKeys(room);
    const [[infoError, info], [, trimmedId]] = (await this.reader
      .pipeline()
      .call('XINFO', 'STREAM', keys.log)
      .get(keys.trimmed)
      .exec()) as [[Error | null, unknown[]], [Error | null, string | null]];
    if (infoError !== null) {
      if (/no such key/i.test(infoError.message)) return {}; // the room has no history (or it expired)
      throw infoError;
    }
    const field = (name: string) => info[info.indexOf(name) + 1];
    const first = field('first-entry') as StreamEntry | null;
    const trimmed = Number(field('entries-added')) > Number(field('length'));
    return {
      firstId: first?.[0],
      lastId: String(field('last-generated-id')),
      oldestRecoverable: !trimmed ? undefined : (trimmedId ?? first?.[0]),
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
    const frame = decodeBusFrame(payload, room);
    if (typeof frame === 'string') {
      // Someone else published on our channel, or a bug: never let it reach clients or crash the process.
      this.log.warn({ channel, problem: frame }, 'dropped a bus frame');
      return;
    }
    this.listener?.event(room, frame.event, frame.seq);
  }
}

type StreamEntry = [id: string, fields: string[]];

/** A room's webhook from its moderation hash ('hook' JSON, 'hookev' events), or undefined when unreadable. */
function storedWebhook(hook: string, events: string): StoredRoomWebhook | undefined {
  try {
    const { url, secret, setAt } = JSON.parse(hook) as Partial<StoredRoomWebhook>;
    if (typeof url !== 'string' || typeof secret !== 'string') return undefined;
    return { url, secret, setAt: Number(setAt ?? 0), events: webhookEventsOf(events) };
  } catch {
    return undefined;
  }
}

/** The events of 'hookev' (space separated), the ones this release knows. */
function webhookEventsOf(stored: string): StoredRoomWebhook['events'] {
  return stored.split(' ').filter(isWebhookEventName);
}

/** A field of a stream entry (`[name, value, name, value…]`). */
function fieldOf(fields: string[], name: string): string | undefined {
  for (let i = 0; i < fields.length; i += 2) if (fields[i] === name) return fields[i + 1];
  return undefined;
}

/** JSON parsed without throwing (undefined when absent or malformed). */
function safeJson(json: string | undefined): unknown {
  if (json === undefined) return undefined;
  try {
    return JSON.parse(json) as unknown;
  } catch {
    return undefined;
  }
}

/** The messages of log entries, in order (an entry that cannot be read is skipped). */

/** Rejects with an error when `promise` has not settled within `ms`. */
function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** A room's keys as the presence scripts take them (see SWEEP in redis-scripts.ts). */
function presenceKeys(room: string): PresenceKeys {
  const keys = roomKeys(room);
  return [keys.presence, keys.tabs, keys.people, keys.addresses, keys.gone, keys.log, keys.looks];
}

/** The user id of a presence entry (`userId|instanceId`; the SWEEP script splits it the same way). */
function userOfPresenceMember(member: string): string {
  return member.slice(0, member.lastIndexOf('|'));
}

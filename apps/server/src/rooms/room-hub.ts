import type { FastifyBaseLogger } from 'fastify';
import {
  compareMessageIds,
  type BeforePublishRequest,
  type ErrorCode,
  type ModerationFrame,
  type RoomEvent,
  type RoomWebhook,
  type User,
  type WebhookEventName,
} from '@parley/protocol';
import type {
  ChangeDraft,
  AdmitResult,
  ChatEngine,
  HistoryQuery,
  HistoryResult,
  MemberList,
  MessageDraft,
  ModerationDraft,
  PostResult,
  SettingsDraft,
} from '../engine/engine.ts';
import type { Standing } from '../engine/room-standing.ts';
import type { Stats } from '../observability/stats.ts';
import { OutgoingBatch, OutgoingEvent } from './outgoing-event.ts';
import { batchWindow, logIdOf } from './room-events.ts';

/** A room event as it arrived from the bus, with the room's message count when known. */
interface Arrival {
  event: RoomEvent;
  seq?: number | undefined;
}

/** Something with frames waiting for the end of the turn (a socket's writer). */
export interface EndOfTurnWrites {
  writeWaiting(): void;
}

/**
 * How long presence and typing events of a room may wait to be written together. A reconnect
 * storm (a restarted instance's clients all coming back) would otherwise send every member a
 * frame per arrival, each its own system call; messages never wait for this.
 */
const PRESENCE_BATCH_MS = 25;

/**
 * Presence and typing alone reach a room's sockets at most this often: in a storm of arrivals
 * (or a join/leave flood) each socket gets a few writes a second, however many people come.
 * They still ride along with any message written sooner.
 */
const PRESENCE_INTERVAL_MS = 100;

/**
 * A busy room is written to its sockets at most this often: messages that arrive sooner after
 * the last write wait for the next one and go out together. Under load that turns k writes per
 * socket into one (a socket write costs far more than the bytes in it), at the price of at most
 * this much latency; a room with fewer than 1000 / FLUSH_INTERVAL_MS messages a second never
 * waits.
 */
const FLUSH_INTERVAL_MS = 5;

/**
 * In a room too big for a frame per join and leave, the count of people present reaches its
 * sockets at most this often (and only when it changed): n arrivals cost each socket a frame a
 * second, not n frames.
 */
const PRESENCE_COUNT_INTERVAL_MS = 1000;

/** Typing notices of one person in one room are passed on at most this often. */
const TYPING_INTERVAL_MS = 1000;

/** Pages of a read-back after a pub/sub gap: internal reads, so larger than a client's. */
const BACKFILL_PAGE = 1000;
const BACKFILL_PAGE_BYTES = 8 * 1024 * 1024;
/** A read-back that failed is tried again after this long. */
const BACKFILL_RETRY_MS = 1000;
/**
 * A read-back that finds the log behind what this room already delivered (no log, or none of
 * its entries as new) is tried again (every BACKFILL_RETRY_MS) for this long, counted from the
 * first read that found it so, before everyone is asked to resync: in a cluster failover, a
 * restarted primary can answer for its old slots, empty, for a moment before it learns it is a
 * replica now. (Time, not a number of reads: a failover's reconnects start read-backs of their
 * own, and five of them once ran out in 140 ms.)
 */
const LOG_BEHIND_GRACE_MS = 5000;

/**
 * A finished history read is handed to identical reads for this long, as long as the room has
 * delivered nothing new meanwhile (see RoomHub.history): a deploy's reconnects of one room,
 * spread over seconds by the clients' jitter, then cost one log read per room and moment
 * instead of one each. (The default of RoomHubOptions.historyReuseMs.)
 */
export const HISTORY_REUSE_MS = 1000;
/**
 * Finished reads kept for reuse at most, and their estimated bytes at most (the oldest go
 * first). (Exported for the tests of these bounds.)
 */
export const HISTORY_REUSE_MAX_READS = 256;
export const HISTORY_REUSE_MAX_BYTES = 32 * 1024 * 1024;

/** A person's join or leave (in a big room, counted instead: see isCountOnly). */
function isJoinOrLeave({ event }: OutgoingEvent): boolean {
  return event.kind === 'join' || event.kind === 'leave';
}

/**
 * What the check before publishing decided about a message or an edit: post it as sent, post
 * another text, refuse it with a reason for the sender, or refuse it because it could not be
 * checked (the operator posts nothing unchecked).
 */
export type PublishVerdict =
  | { action: 'accept' }
  | { action: 'replace'; text: string }
  | { action: 'reject'; reason: string }
  | { action: 'unavailable'; reason: string };

/** Asked before each new message and each edit is stored (integrations/before-publish.ts); never throws. */
export interface PublishCheck {
  check(request: BeforePublishRequest): Promise<PublishVerdict>;
}

/**
 * Told of what happened through this instance (integrations/: the webhooks, the bots'
 * mentions), each event by the one instance whose call to the engine made it, so the cluster
 * reports it once: a message stored (or found stored already, a resend: `id` is the first
 * one's), an edit or a deletion stored, a person's join or leave that this instance's enter or
 * exit published, with how many people were present after it (across instances, as the
 * engine's atomic step counted them). A listener implements what it needs. Never throws.
 */
export interface RoomActivity {
  posted?(draft: MessageDraft, id: string): void;
  changed?(draft: ChangeDraft, eventId: string): void;
  joined?(room: string, user: User, count: number): void;
  left?(room: string, user: User, count: number): void;
}

/** A room owner's `webhook` request (the protocol's ClientWebhookFrame, without its type and clientMsgId). */
export interface WebhookRequest {
  url?: string | null | undefined;
  events?: WebhookEventName[] | undefined;
}

/** The answer to a WebhookRequest: the room's webhook as its owner sees it (`null`: none), or why not. */
export type WebhookAnswer =
  | { outcome: 'done'; webhook: RoomWebhook | null; changed: boolean }
  | { outcome: 'refused'; code: ErrorCode; message: string };

/** Rooms' webhooks, set by their owners (integrations/room-webhooks.ts): the hub passes their requests on. Never throws but EngineUnavailableError. */
export interface RoomWebhookControl {
  /** `address`: the asking socket's address key (limits/address-key.ts), for ROOM_WEBHOOKS_PER_ADDRESS. */
  request(room: string, by: User, address: string, request: WebhookRequest): Promise<WebhookAnswer>;
}

/** How the hub treats big rooms (TYPING_MAX_MEMBERS and PRESENCE_COUNT_ONLY_MEMBERS), and what it checks before publishing. */
export interface RoomHubOptions {
  /** Above this many people present, typing notices are not passed on (best effort: the sender is not told). */
  typingMaxMembers: number;
  /**
   * Above this many people present, joins and leaves are not sent one by one: a `presence`
   * frame with the count goes out instead, at most once every PRESENCE_COUNT_INTERVAL_MS.
   */
  presenceCountOnlyMembers: number;
  /** The operator's before-publish hook (BEFORE_PUBLISH_URL), if any. */
  publishCheck?: PublishCheck | undefined;
  /** Told of what this instance's calls did: the operator's webhooks (WEBHOOK_URLS), the bots' mentions, rooms' webhooks. */
  activities?: readonly RoomActivity[] | undefined;
  /** Rooms' webhooks (unless MAX_ROOM_WEBHOOKS is 0). */
  roomWebhooks?: RoomWebhookControl | undefined;
  /**
   * How long a finished history read is handed to identical reads; HISTORY_REUSE_MS unless
   * set. Only tests set it: a long window keeps their reads however slow the machine, a short
   * one lets them see reads let go.
   */
  historyReuseMs?: number | undefined;
}

/** A local socket's side of a room: the hub hands it each event once, in batches, in order. */
export interface RoomMember {
  /** The person behind the socket, if it has one (their own presence and typing are not echoed to them). */
  readonly userId: string | undefined;
  deliver(batch: OutgoingBatch): void;
  /** The bus became unreachable (degraded) or reachable again. */
  busStatus(degraded: boolean): void;
  /** Messages were lost and could not be read back: the socket should reconnect and recover. */
  resync(): void;
  /** The person behind the socket was kicked or banned from the room (after the batch that said so). */
  removed(moderation: ModerationFrame): void;
  /** The limits key of the address the socket came from (IPv6 by /64). */
  readonly addressKey: string;
  /**
   * Someone else was banned with this socket's address among theirs: the socket checks its
   * standing again and closes if the address ban now keeps it out (owners and moderators stay).
   */
  addressBanned(): void;
  /** The instance-wide bans changed: a socket they now match closes. */
  enforceServerBan?(): void;
}

interface RoomState {
  members: Set<RoomMember>;
  subscribed: boolean;
  /** Subscribe/unsubscribe calls of one room run one after another, in this chain. */
  chain: Promise<void>;
  /** Local connections per person, so several tabs enter and leave presence once. */
  connections: Map<string, number>;
  /** When each person here last had a typing notice passed on (see {@link RoomHub.typing}). */
  typingAt: Map<string, number>;
  /**
   * How many people are present across instances, as the engine last said: in every join and
   * leave (their `count`), or at the first arrival here. Undefined until known.
   */
  memberCount: number | undefined;
  /** A big room's count as last sent to its sockets, when (performance.now()), and the timer of the next. */
  countSent: number | undefined;
  countSentAt: number;
  countTimer: NodeJS.Timeout | undefined;
  /** The newest log entry (message or change) delivered here, and its room sequence number when known. */
  lastId: string | undefined;
  lastSeq: number | undefined;
  /**
   * Where the room's log stood just before this instance subscribed ('0-0': it was empty): a
   * bus drop before anything was delivered here reads back from there. Without it, a quiet
   * room's sockets would never get what was posted while the bus was away.
   */
  subscribedFrom: string | undefined;
  /** While the log is being read back after a gap, live events wait here, in order. */
  held: Arrival[] | undefined;
  /** When a read-back first found the log behind lastId, of those in a row (see LOG_BEHIND_GRACE_MS). */
  logBehindSince: number | undefined;
  /**
   * Bumped whenever what this room delivered may have moved on (a log entry delivered, the
   * subscription made or dropped): a finished history read is reused only while it stays put.
   */
  deliveredVersion: number;
  /** Events on their way to the members, written at the next flush. */
  queued: OutgoingEvent[] | undefined;
  /** When the queued events are due to be written, and when the room was last written (performance.now()). */
  dueAt: number;
  lastWrittenAt: number;
}

/** A history read that callers share (see RoomHub.history): the one running, and the one waiting to start after it. */
interface SharedRead {
  running: Promise<HistoryResult>;
  next: Promise<HistoryResult> | undefined;
}

/** A finished history read kept for identical reads (see RoomHub.history). */
interface RecentRead {
  result: HistoryResult;
  /** The room's state and its deliveredVersion when the read started. */
  state: RoomState;
  version: number;
  finishedAt: number;
  bytes: number;
}

/**
 * Keeps the local sockets of each room: one bus subscription per room with local members
 * (subscribed when the first joins, unsubscribed when the last leaves), one presence entry per
 * person however many tabs they have open on this instance, and an unbroken, duplicate-free
 * message order even when pub/sub drops messages (they are read back from the room's log).
 * It is the sessions' one door to the engine: they post, read history, type, enter and leave
 * through it.
 */
export class RoomHub {
  private readonly rooms = new Map<string, RoomState>();
  private degraded = false;
  /** Set when the instance starts shutting down (see keepPresenceOnExit). */
  private keepingPresence = false;
  /** Rooms with queued events, and the one flush to come: at the end of this turn, or timed for the earliest due room. */
  private readonly roomsQueued = new Map<RoomState, string>();
  private endOfTurnFlush: NodeJS.Immediate | undefined;
  private timedFlush: NodeJS.Timeout | undefined;
  private timedFlushAt = Number.POSITIVE_INFINITY;
  /** Writers with frames of their own waiting for the end of this turn (see {@link writeAtEndOfTurn}). */
  private readonly waitingWriters = new Set<EndOfTurnWrites>();
  /** History reads in flight, by room and query (see {@link history}); at most one per distinct read. */
  private readonly historyReads = new Map<string, SharedRead>();
  /** Finished history reads kept for identical ones, oldest first (see {@link history}). */
  private readonly recentReads = new Map<string, RecentRead>();
  private recentReadBytes = 0;
  private recentReadsSweep: NodeJS.Timeout | undefined;
  /** How long a finished read is handed out (RoomHubOptions.historyReuseMs). */
  private readonly historyReuseMs: number;
  /**
   * With a publish check: per room and sender, the turn of their latest message or edit, which
   * ends once it is handed to the engine (see {@link checked}).
   */
  private readonly senderTurns = new Map<string, Promise<void>>();
  private readonly activities: readonly RoomActivity[];

  constructor(
    private readonly engine: ChatEngine,
    private readonly log: FastifyBaseLogger,
    private readonly stats: Stats,
    private readonly options: RoomHubOptions,
  ) {
    this.activities = options.activities ?? [];
    this.historyReuseMs = options.historyReuseMs ?? HISTORY_REUSE_MS;
    engine.setListener({
      event: (room, event, seq) => this.receive(room, { event, seq }),
      availability: (up) => this.setDegraded(!up),
      // Nobody here was in the room: its listeners hear of the leave as of any other.
      expired: (room, user, count) => {
        for (const activity of this.activities) activity.left?.(room, user, count);
      },
      resubscribed: () => {
        for (const [room, state] of this.rooms) if (state.subscribed) this.backfill(room, state);
      },
    });
  }

  /**
   * The finished history reads kept for reuse now, and their estimated bytes (see
   * keepRecentRead): what HISTORY_REUSE_MAX_READS and HISTORY_REUSE_MAX_BYTES bound.
   */
  get keptHistoryReads(): { reads: number; bytes: number } {
    return { reads: this.recentReads.size, bytes: this.recentReadBytes };
  }

  /** True while the bus is unreachable. */
  get isDegraded(): boolean {
    return this.degraded;
  }

  /**
   * Adds a member to a room. Resolves once the room's subscription is active, so whatever the
   * member publishes afterwards comes back to it too.
   */
  async join(room: string, member: RoomMember): Promise<void> {
    const state = this.state(room);
    state.members.add(member);
    await this.reconcile(room, state);
  }

  /** Removes a member; the room's subscription ends when it was the last one. */
  leave(room: string, member: RoomMember): void {
    const state = this.rooms.get(room);
    if (state === undefined || !state.members.delete(member)) return;
    this.reconcile(room, state).catch((err: unknown) => this.log.warn({ room, err }, 'unsubscribe failed'));
  }

  /**
   * Marks a person present (once per instance, however many tabs) and returns how many are
   * present and the first `listLimit` of them (see ChatEngine.enter; `address`: the address key
   * of the connection, which a ban of the person then also bans).
   */
  async enter(room: string, user: User, listLimit: number, address?: string): Promise<MemberList> {
    const state = this.state(room);
    state.connections.set(user.id, (state.connections.get(user.id) ?? 0) + 1);
    const members = await this.engine.enter(room, user, listLimit, address);
    // The joins and leaves of the bus come in the room's order, enter's answers in any order:
    // the latter only start the count.
    state.memberCount ??= members.count;
    if (members.joined) for (const activity of this.activities) activity.joined?.(room, user, members.count);
    return members;
  }

  /** A page of the people present in a room (see ChatEngine.members). */
  members(room: string, cursor: string | undefined, limit: number): Promise<MemberList> {
    return this.engine.members(room, cursor, limit);
  }

  /**
   * The instance is shutting down (a deploy): the sockets it closes from now on keep their
   * people's presence, which expires after PRESENCE_TTL_SECONDS as a crashed instance's does,
   * instead of leaving their rooms. Whoever reconnects through another instance meanwhile takes
   * it over silently: a deploy no longer sends every room a leave and then a join per person
   * (with 10,000 people in rooms of 100, two million frames). Those who do not come back leave
   * when their entry expires.
   */
  keepPresenceOnExit(): void {
    this.keepingPresence = true;
  }

  /** Ends one connection's presence; the person leaves when it was their last tab here. */
  exit(room: string, user: User): void {
    const state = this.rooms.get(room);
    const count = state?.connections.get(user.id);
    if (state === undefined || count === undefined) return;
    if (count > 1) {
      state.connections.set(user.id, count - 1);
      return;
    }
    state.connections.delete(user.id);
    state.typingAt.delete(user.id);
    if (this.keepingPresence) return;
    this.engine.exit(room, user).then(
      ({ left, count }) => {
        if (left) for (const activity of this.activities) activity.left?.(room, user, count);
      },
      (err: unknown) => this.log.warn({ room, err }, 'presence exit failed'),
    );
  }

  /**
   * Asks for `writer.writeWaiting()` at the end of this turn of the event loop, after the rooms
   * due by then are written: a frame for one socket (an ack) then shares the write of the room's
   * batch (the echo of the acked message, usually) instead of costing a write of its own.
   */
  writeAtEndOfTurn(writer: EndOfTurnWrites): void {
    this.waitingWriters.add(writer);
    this.endOfTurnFlush ??= setImmediate(this.flush);
  }

  /**
   * Stores and publishes a message (see ChatEngine.post); it comes back through the bus. Every
   * new message passes here (sockets of both protocols, bots), so the publish check asks about
   * each one here first.
   */
  post(draft: MessageDraft): Promise<PostResult> {
    const check = this.options.publishCheck;
    if (check === undefined) return this.store(draft);
    const { room, user, text, clientMsgId, replyTo } = draft;
    const request: BeforePublishRequest = {
      event: 'message',
      room,
      user,
      text,
      ...(clientMsgId !== undefined ? { clientMsgId } : {}),
      ...(replyTo !== undefined ? { replyTo } : {}),
    };
    return this.checked(check, draft, request, (checked) => this.store(checked));
  }

  /**
   * Checks, stores and publishes a change to a message (see ChatEngine.change); it comes back
   * through the bus. An edit's new text is checked like a new message's (or a message could be
   * posted harmless and edited into what the check refuses).
   */
  change(draft: ChangeDraft): Promise<PostResult> {
    const check = this.options.publishCheck;
    if (check === undefined || draft.op !== 'edit' || draft.text === undefined) return this.storeChange(draft);
    const { room, user, id, text, clientMsgId } = draft;
    const request: BeforePublishRequest = { event: 'edit', room, user, id, text, clientMsgId };
    return this.checked(check, draft, request, (checked) => this.storeChange(checked));
  }

  /** Hands a message to the engine, and its outcome to the activities' listeners. */
  private store(draft: MessageDraft): Promise<PostResult> {
    const result = this.engine.post(draft);
    if (this.activities.length > 0)
      result.then(
        (stored) => {
          // A resend of a stored message is told again, under the same id: a stored message
          // whose answer was lost (a timeout) is told once it is resent.
          if (stored.outcome === 'stored' || stored.outcome === 'duplicate')
            for (const activity of this.activities) activity.posted?.(draft, stored.id);
        },
        () => {},
      );
    return result;
  }

  /** Hands a change to the engine, and an edit or a deletion stored to the activities' listeners. */
  private storeChange(draft: ChangeDraft): Promise<PostResult> {
    const result = this.engine.change(draft);
    if (this.activities.length > 0 && (draft.op === 'edit' || draft.op === 'delete'))
      result.then(
        (stored) => {
          if (stored.outcome === 'stored') for (const activity of this.activities) activity.changed?.(draft, stored.id);
        },
        () => {},
      );
    return result;
  }

  /**
   * Asks the check about a message or an edit and stores it (or its replacement text) unless
   * refused. One sender's posts reach the engine in the order they were sent, whatever order
   * the check answers in: each waits for the turn of the one before (its own check runs
   * meanwhile), and its turn ends when it is handed to the engine, not when the engine answers.
   */
  private async checked<Draft extends MessageDraft | ChangeDraft>(
    check: PublishCheck,
    draft: Draft,
    request: BeforePublishRequest,
    store: (draft: Draft) => Promise<PostResult>,
  ): Promise<PostResult> {
    const key = `${draft.room}\n${draft.user.id}`;
    const previous = this.senderTurns.get(key);
    let endTurn!: () => void;
    const turn = new Promise<void>((resolve) => (endTurn = resolve));
    this.senderTurns.set(key, turn);
    let result: Promise<PostResult> | PostResult;
    try {
      const verdict = await check.check(request);
      await previous;
      switch (verdict.action) {
        case 'accept':
          result = store(draft);
          break;
        case 'replace':
          result = store({ ...draft, text: verdict.text });
          break;
        case 'reject':
          result = { outcome: 'refused', code: 'rejected', reason: verdict.reason };
          break;
        case 'unavailable':
          result = { outcome: 'refused', code: 'unavailable', reason: verdict.reason };
          break;
      }
    } finally {
      endTurn();
      if (this.senderTurns.get(key) === turn) this.senderTurns.delete(key);
    }
    return result;
  }

  /** Checks, stores and publishes a moderation action (see ChatEngine.moderate); it comes back through the bus. */
  moderate(draft: ModerationDraft): Promise<PostResult> {
    return this.engine.moderate(draft);
  }

  /** Changes a room's settings (see ChatEngine.configure); the change comes back through the bus. */
  configure(draft: SettingsDraft): Promise<PostResult> {
    return this.engine.configure(draft);
  }

  /**
   * A room owner's request about the room's webhook (see integrations/room-webhooks.ts): set,
   * change, remove or ask, from the address (key) of the socket asking. `forbidden` when this
   * server has no room webhooks.
   */
  webhook(room: string, by: User, address: string, request: WebhookRequest): Promise<WebhookAnswer> {
    const control = this.options.roomWebhooks;
    if (control === undefined)
      return Promise.resolve({
        outcome: 'refused',
        code: 'forbidden',
        message: 'This server does not send room webhooks.',
      });
    return control.request(room, by, address, request);
  }

  /** A person's standing in a room (see ChatEngine.standing). */
  standing(room: string, userId: string, address: string): Promise<Standing> {
    return this.engine.standing(room, userId, address);
  }

  /** Lets a person into an invite-only room (see ChatEngine.admit). */
  admit(room: string, userId: string): Promise<AdmitResult> {
    return this.engine.admit(room, userId);
  }

  /**
   * A ban keys on the banned person's addresses too, and keeps out whoever comes from them: the
   * sockets already here from one of them (another identity, a reference client, which has
   * none) check their standing and close if it keeps them out now. One read of the person's
   * addresses per instance and ban; a standing read only for sockets on those addresses.
   */
  private closeOthersOnBannedAddresses(room: string, state: RoomState, userId: string): void {
    this.engine
      .addressesOf(room, userId)
      .then((addresses) => {
        if (addresses.length === 0) return;
        const banned = new Set(addresses);
        for (const member of state.members)
          if (member.userId !== userId && banned.has(member.addressKey)) member.addressBanned();
      })
      .catch((err: unknown) => this.log.warn({ room, err }, 'could not read a banned person’s addresses'));
  }

  /** Extends a ban to the address a banned person's socket was on (see ChatEngine.banAddress). */
  banAddress(room: string, address: string, until: number, userId: string): Promise<void> {
    return this.engine.banAddress(room, address, until, userId);
  }

  /** Reads a page of a room's history (see ChatEngine.history). */
  history(room: string, query: HistoryQuery): Promise<HistoryResult> {
    // Identical reads share one (a deploy or a Redis restart reconnects a whole room at once,
    // every client with the same `since`). Never one already running: it may have read the log
    // before the caller joined the room, and an event in between would then be in neither the
    // page nor the caller's live stream. So callers that find a read running all wait for one
    // more, started when it ends: at most one running and one waiting per distinct read.
    // Callers only read the result, never change it.
    //
    // A read that finished is as good as a new one while the room has delivered nothing since
    // it started (and stayed subscribed): whatever the log gained after it reached no socket
    // here yet, so it comes to the caller live, as it would after a fresh read. It is then
    // handed out for historyReuseMs (HISTORY_REUSE_MS unless a test sets it).
    const key = `${room}\n${query.since ?? ''}\n${query.after ?? ''}\n${query.before ?? ''}\n${query.limit}\n${query.maxBytes}`;
    const recent = this.recentReads.get(key);
    if (recent !== undefined) {
      if (this.isReusable(room, recent)) {
        this.stats.historyReadsMerged += 1;
        return Promise.resolve(recent.result);
      }
      this.forgetRecentRead(key, recent);
    }
    const shared = this.historyReads.get(key);
    if (shared === undefined) {
      const fresh: SharedRead = { running: undefined!, next: undefined };
      this.historyReads.set(key, fresh);
      return this.startHistoryRead(key, fresh, room, query);
    }
    if (shared.next !== undefined) {
      this.stats.historyReadsMerged += 1;
      return shared.next;
    }
    const settled = () => {
      shared.next = undefined;
      return this.startHistoryRead(key, shared, room, query);
    };
    shared.next = shared.running.then(settled, settled);
    return shared.next;
  }

  /** Starts the read `shared` stands for, counted in parley_history_reads_total. */
  private startHistoryRead(key: string, shared: SharedRead, room: string, query: HistoryQuery): Promise<HistoryResult> {
    this.stats.historyReads += 1;
    const state = this.rooms.get(room);
    const version = state?.deliveredVersion;
    const reusable = state !== undefined && state.subscribed && !this.degraded;
    const read = this.engine.history(room, query);
    shared.running = read;
    const done = () => {
      // (A waiting read, if any, starts next and takes the entry over.)
      if (shared.running === read && shared.next === undefined) this.historyReads.delete(key);
    };
    read.then((result) => {
      done();
      if (reusable) {
        const recent = {
          result,
          state,
          version: version!,
          finishedAt: performance.now(),
          bytes: estimatedBytes(result),
        };
        this.keepRecentRead(room, key, recent);
      }
    }, done);
    return read;
  }

  private isReusable(room: string, recent: RecentRead): boolean {
    const { state } = recent;
    return (
      performance.now() - recent.finishedAt < this.historyReuseMs &&
      this.rooms.get(room) === state &&
      state.deliveredVersion === recent.version &&
      state.subscribed &&
      state.held === undefined &&
      !this.degraded
    );
  }

  private keepRecentRead(room: string, key: string, recent: RecentRead): void {
    // (Not when the room delivered something while the read ran: it may be in neither.)
    if (!this.isReusable(room, recent)) return;
    const old = this.recentReads.get(key);
    if (old !== undefined) this.forgetRecentRead(key, old);
    this.recentReads.set(key, recent);
    this.recentReadBytes += recent.bytes;
    // The oldest go first, past either bound.
    for (const [oldestKey, oldest] of this.recentReads) {
      if (this.recentReads.size <= HISTORY_REUSE_MAX_READS && this.recentReadBytes <= HISTORY_REUSE_MAX_BYTES) break;
      this.forgetRecentRead(oldestKey, oldest);
    }
    this.recentReadsSweep ??= setTimeout(this.forgetExpiredReads, this.historyReuseMs).unref();
  }

  /** Lets go of the kept reads that are too old to be handed out (an idle server keeps none). */
  private readonly forgetExpiredReads = (): void => {
    this.recentReadsSweep = undefined;
    const now = performance.now();
    for (const [key, recent] of this.recentReads) {
      if (now - recent.finishedAt < this.historyReuseMs) break; // (oldest first: the rest are newer)
      this.forgetRecentRead(key, recent);
    }
    if (this.recentReads.size > 0)
      this.recentReadsSweep = setTimeout(this.forgetExpiredReads, this.historyReuseMs).unref();
  };

  private forgetRecentRead(key: string, recent: RecentRead): void {
    this.recentReads.delete(key);
    this.recentReadBytes -= recent.bytes;
  }

  /**
   * Passes a typing notice on, at most one per TYPING_INTERVAL_MS per person and room on this
   * instance however many tabs they type in, and none in a room of more than TYPING_MAX_MEMBERS
   * people (as Zulip does: "… is typing" means nothing to thousands, and would cost each of
   * them a frame a second per typist); extra ones are dropped (a lost notice is harmless).
   */
  typing(room: string, user: User, now: number = Date.now()): void {
    const state = this.rooms.get(room);
    if (state === undefined || !state.connections.has(user.id) || this.isTooBigForTyping(state)) return;
    if (now - (state.typingAt.get(user.id) ?? Number.NEGATIVE_INFINITY) < TYPING_INTERVAL_MS) return;
    state.typingAt.set(user.id, now);
    this.engine.typing(room, user).catch(() => {
      // The next keystroke sends another.
    });
  }

  /** Number of rooms with local members. */
  get roomCount(): number {
    return this.rooms.size;
  }

  /** Number of local members of a room. */
  memberCount(room: string): number {
    return this.rooms.get(room)?.members.size ?? 0;
  }

  /** Every local member of every room (for shutdown). */
  allMembers(): RoomMember[] {
    return [...this.rooms.values()].flatMap((state) => [...state.members]);
  }

  /**
   * How big the room is for the big-room bounds: the count of the last presence event, or the
   * sockets here if there are more. (On Redis, events reach the hub a moment after their count
   * was taken: in a join storm hundreds more sockets may be here by then, and each per-person
   * frame goes to every one of them.)
   */
  private roomSize(state: RoomState): number {
    return Math.max(state.memberCount ?? 0, state.members.size);
  }

  /** Whether the room has more people than typing notices are passed on for. */
  private isTooBigForTyping(state: RoomState): boolean {
    return this.roomSize(state) > this.options.typingMaxMembers;
  }

  /** Whether the room is too big for a join or leave frame per person (see RoomHubOptions). */
  private isCountOnly(state: RoomState): boolean {
    return this.roomSize(state) > this.options.presenceCountOnlyMembers;
  }

  /**
   * A big room's count changed: its sockets get a `presence` frame with the count, at most once
   * every PRESENCE_COUNT_INTERVAL_MS, and none when it is back to what they were last sent. A
   * timer still waiting when the room shrinks below the bound sends the count all the same, so
   * the sockets have the right one when joins and leaves come one by one again.
   */
  private countChanged(room: string, state: RoomState): void {
    if (state.countTimer !== undefined) return;
    const wait = Math.max(0, state.countSentAt + PRESENCE_COUNT_INTERVAL_MS - performance.now());
    state.countTimer = setTimeout(() => {
      state.countTimer = undefined;
      const count = state.memberCount;
      if (this.rooms.get(room) !== state || count === undefined || count === state.countSent) return;
      state.countSent = count;
      state.countSentAt = performance.now();
      this.fanOut(room, state, { kind: 'presence', room, count });
    }, wait);
    state.countTimer.unref();
  }

  private state(room: string): RoomState {
    let state = this.rooms.get(room);
    if (state === undefined) {
      state = {
        members: new Set(),
        subscribed: false,
        chain: Promise.resolve(),
        connections: new Map(),
        typingAt: new Map(),
        memberCount: undefined,
        countSent: undefined,
        countSentAt: Number.NEGATIVE_INFINITY,
        countTimer: undefined,
        lastId: undefined,
        lastSeq: undefined,
        subscribedFrom: undefined,
        held: undefined,
        logBehindSince: undefined,
        deliveredVersion: 0,
        queued: undefined,
        dueAt: 0,
        lastWrittenAt: Number.NEGATIVE_INFINITY,
      };
      this.rooms.set(room, state);
    }
    return state;
  }

  // Brings the subscription in line with the member count. Calls are chained per room so a
  // leave-then-join never runs unsubscribe after the new subscribe.
  private reconcile(room: string, state: RoomState): Promise<void> {
    const step = state.chain.then(async () => {
      const wanted = state.members.size > 0;
      if (wanted && !state.subscribed) {
        // Read first: whatever is posted from here on is either after this point of the log or
        // delivered by the subscription (both, and the sockets' own since filters it).
        const from = await this.logPosition(room);
        await this.engine.subscribe(room);
        state.subscribed = true;
        state.subscribedFrom = from;
        state.deliveredVersion += 1;
        // What was posted between that read and the subscription taking effect reached no
        // socket here, and the sockets joining are open already: a reference client has no
        // `since` to ask for it. Read it back (usually an empty read) before anything live.
        this.backfill(room, state, [], 'subscribed');
      } else if (!wanted && state.subscribed) {
        state.deliveredVersion += 1;
        await this.engine.unsubscribe(room);
        state.subscribed = false;
        // Messages missed while unsubscribed are not ours to recover: start afresh next time.
        state.lastId = undefined;
        state.lastSeq = undefined;
        state.subscribedFrom = undefined;
      }
      if (
        state.members.size === 0 &&
        !state.subscribed &&
        state.connections.size === 0 &&
        this.rooms.get(room) === state
      ) {
        this.rooms.delete(room);
      }
    });
    // The chain goes on after a failure; the caller of this step still sees the error.
    state.chain = step.catch(() => {});
    return step;
  }

  private receive(room: string, arrival: Arrival): void {
    const state = this.rooms.get(room);
    if (state === undefined || state.members.size === 0) return;
    if (state.held !== undefined) {
      state.held.push(arrival);
      return;
    }
    const { event, seq } = arrival;
    if (event.kind === 'join' || event.kind === 'leave') {
      if (event.count !== undefined) state.memberCount = event.count;
      if (this.isCountOnly(state)) {
        this.countChanged(room, state);
        return;
      }
    }
    // (Another instance may not know yet that the room grew past the bound.)
    if (event.kind === 'typing' && this.isTooBigForTyping(state)) return;
    const logId = logIdOf(event);
    if (logId !== undefined) {
      if (state.lastId !== undefined && compareMessageIds(logId, state.lastId) <= 0) return; // already delivered
      if (seq !== undefined && state.lastSeq !== undefined && seq > state.lastSeq + 1) {
        // Pub/sub lost something between the last entry and this one: read it back first.
        this.log.warn(
          { room, expected: state.lastSeq + 1, got: seq },
          'gap in the message stream; reading back from the log',
        );
        this.backfill(room, state, [arrival]);
        return;
      }
      state.lastId = logId;
      state.lastSeq = seq;
      state.deliveredVersion += 1;
    }
    this.fanOut(room, state, event);
  }

  /**
   * Reads the room's log after the last delivered message and delivers what is missing, holding
   * live events meanwhile so the order stays the id order. Reads page by page (at most the
   * room's whole retained history, HISTORY_LENGTH messages). `why`: a gap (pub/sub lost
   * something, counted in parley_backfills_total), or a new subscription's catch-up (not counted).
   */
  private backfill(room: string, state: RoomState, held: Arrival[] = [], why: 'gap' | 'subscribed' = 'gap'): void {
    if (state.held !== undefined) {
      state.held.push(...held);
      return;
    }
    const since = state.lastId ?? state.subscribedFrom;
    if (since === undefined) {
      for (const arrival of held) this.receive(room, arrival);
      return;
    }
    state.held = held;
    this.readBack(room, state, since)
      .then((recovered) => {
        if (why === 'subscribed') {
          if (recovered > 0) this.log.debug({ room, recovered }, 'delivered what was posted while subscribing');
          return;
        }
        this.stats.backfills += 1;
        this.stats.backfilledMessages += recovered;
        if (recovered > 0) this.log.info({ room, recovered }, 'read back missed messages');
      })
      .catch((err: unknown) => {
        // (A failover or a slot move in progress, say.) Try again shortly while anyone is here:
        // an idle room would otherwise wait for its next message to notice the gap.
        this.stats.backfillRetries += 1;
        this.log.warn({ room, err }, 'reading back missed messages failed; trying again');
        setTimeout(() => {
          if (this.rooms.get(room) === state && state.subscribed) this.backfill(room, state);
        }, BACKFILL_RETRY_MS).unref();
      })
      .finally(() => {
        const waiting = state.held ?? [];
        state.held = undefined;
        for (const arrival of waiting) this.receive(room, arrival);
      });
  }

  /** The newest entry of the room's log ('0-0' when it has none): one latest page of one message. */
  private async logPosition(room: string): Promise<string> {
    const latest = await this.engine.history(room, { limit: 1, maxBytes: BACKFILL_PAGE_BYTES });
    return latest.lastEventId ?? '0-0';
  }

  /**
   * Delivers the log entries after `since`, page by page, in the log's order: messages in their
   * latest state, the changes to older messages, and the entries about the room (moderation,
   * settings, webhook changes). Returns how many entries were new here.
   */
  private async readBack(room: string, state: RoomState, since: string): Promise<number> {
    let recovered = 0;
    for (let from = since; ;) {
      const result = await this.engine.history(room, {
        since: from,
        limit: BACKFILL_PAGE,
        maxBytes: BACKFILL_PAGE_BYTES,
      });
      if (!result.recovered) {
        // The latest page's newest entry: older than what was delivered here, the log is behind
        // (a node that lost it, or answers for slots it no longer holds); newer, it was trimmed.
        const newest = result.lastEventId;
        // Nothing delivered here and nothing in the log (nobody has spoken in the room yet): there
        // is nothing to read back, and a log never written is not "recoverable" from anything.
        if (newest === undefined && compareMessageIds(from, '0-0') === 0) return recovered;
        const logBehind = newest === undefined || compareMessageIds(newest, from) < 0;
        if (logBehind) {
          const now = performance.now();
          state.logBehindSince ??= now;
          if (now - state.logBehindSince < LOG_BEHIND_GRACE_MS)
            throw new Error(`the log is behind this room (newest ${newest ?? 'none'}, delivered ${from})`);
        }
        state.logBehindSince = undefined;
        // Too much was missed to read back, or the log lost what was delivered: every socket
        // must start again from its own since.
        this.log.warn(
          { room, since: from, newest, logBehind },
          'could not recover missed messages; asking clients to resync',
        );
        for (const member of state.members) member.resync();
        return recovered;
      }
      state.logBehindSince = undefined;
      // What live delivery brought already is not delivered twice (the page's messages and
      // changes are two lists: both are checked against where delivery stood before the page).
      const delivered = state.lastId;
      const isNew = (id: string) => delivered === undefined || compareMessageIds(id, delivered) > 0;
      // In the room's one order, whichever list of the page each entry is in.
      const entries: Array<[id: string, event: RoomEvent]> = [
        ...result.messages.map((message): [string, RoomEvent] => [message.id, { kind: 'message', message }]),
        ...result.changes.map((change): [string, RoomEvent] => [change.eventId, { kind: 'change', room, change }]),
        ...result.moderation.map((moderation): [string, RoomEvent] => [
          moderation.eventId,
          { kind: 'moderation', room, moderation },
        ]),
        ...result.settings.map((settings): [string, RoomEvent] => [
          settings.eventId,
          { kind: 'settings', room, settings },
        ]),
        ...result.webhooks.map((webhook): [string, RoomEvent] => [webhook.eventId, { kind: 'webhook', room, webhook }]),
      ];
      entries.sort((a, b) => compareMessageIds(a[0], b[0]));
      for (const [id, event] of entries) {
        if (!isNew(id)) continue;
        this.fanOut(room, state, event);
        recovered += 1;
      }
      const last = result.lastEventId;
      if (last !== undefined && isNew(last)) state.lastId = last;
      state.deliveredVersion += 1;
      if (result.lastSeq !== undefined) state.lastSeq = result.lastSeq;
      if (!result.hasNewer || last === undefined) return recovered;
      from = last;
    }
  }

  /**
   * Queues an event for the room's members. Messages go out at the end of this turn of the event
   * loop (or, in a busy room, FLUSH_INTERVAL_MS after its last write), together with whatever
   * else arrived for the room meanwhile: one write per socket for the lot. Presence and typing
   * alone wait PRESENCE_BATCH_MS for company, and PRESENCE_INTERVAL_MS after the room's last
   * write (see room-events.ts, batchWindow).
   */
  private fanOut(room: string, state: RoomState, event: RoomEvent): void {
    const now = performance.now();
    const due =
      batchWindow(event) === 'messages'
        ? Math.max(now, state.lastWrittenAt + FLUSH_INTERVAL_MS)
        : Math.max(now + PRESENCE_BATCH_MS, state.lastWrittenAt + PRESENCE_INTERVAL_MS);
    if (state.queued === undefined) {
      state.queued = [];
      state.dueAt = due;
      this.roomsQueued.set(state, room);
    } else {
      state.dueAt = Math.min(state.dueAt, due);
    }
    state.queued.push(new OutgoingEvent(event));
    this.schedule(state.dueAt, now);
  }

  private schedule(due: number, now: number): void {
    if (due <= now) {
      this.endOfTurnFlush ??= setImmediate(this.flush);
    } else if (due < this.timedFlushAt) {
      if (this.timedFlush !== undefined) clearTimeout(this.timedFlush);
      this.timedFlushAt = due;
      this.timedFlush = setTimeout(this.flush, Math.max(1, Math.ceil(due - now)));
    }
  }

  /** Writes every room whose queued events are due, then every waiting writer, and times the next flush for the rest. */
  private readonly flush = (): void => {
    if (this.endOfTurnFlush !== undefined) clearImmediate(this.endOfTurnFlush);
    if (this.timedFlush !== undefined) clearTimeout(this.timedFlush);
    this.endOfTurnFlush = undefined;
    this.timedFlush = undefined;
    this.timedFlushAt = Number.POSITIVE_INFINITY;
    // Timers fire at millisecond granularity: anything due within half a millisecond goes now.
    const now = performance.now();
    let next = Number.POSITIVE_INFINITY;
    for (const [state, room] of this.roomsQueued) {
      if (state.dueAt > now + 0.5) {
        next = Math.min(next, state.dueAt);
        continue;
      }
      this.roomsQueued.delete(state);
      let events = state.queued!;
      state.queued = undefined;
      state.lastWrittenAt = now;
      if (state.members.size === 0) continue;
      if (this.isCountOnly(state) && events.some(isJoinOrLeave)) {
        // The room grew past the bound while these joins and leaves waited (a join storm): each
        // would go to every socket here now. A count goes out instead, as it does from here on.
        events = events.filter((outgoing) => !isJoinOrLeave(outgoing));
        this.countChanged(room, state);
        if (events.length === 0) continue;
      }
      const batch = new OutgoingBatch(events);
      const broadcastStarted = performance.now();
      for (const member of state.members) {
        try {
          member.deliver(batch);
        } catch (err) {
          // One broken socket must not stop delivery to the others.
          this.log.warn({ room, err }, 'delivery to a member failed');
        }
      }
      this.stats.broadcastSeconds.observe((performance.now() - broadcastStarted) / 1000);
      // The sockets of people just kicked or banned are closed, once they have the news.
      for (const { event } of events) {
        if (event.kind !== 'moderation') continue;
        const { action, user } = event.moderation;
        if (action !== 'kick' && action !== 'ban') continue;
        for (const member of state.members) if (member.userId === user.id) member.removed(event.moderation);
        if (action === 'ban') this.closeOthersOnBannedAddresses(room, state, user.id);
      }
    }
    // Whatever waited for a batch that did not come (or that a socket did not take whole).
    for (const writer of this.waitingWriters) {
      try {
        writer.writeWaiting();
      } catch (err) {
        this.log.warn({ err }, 'writing to a member failed');
      }
    }
    this.waitingWriters.clear();
    if (next !== Number.POSITIVE_INFINITY) this.schedule(next, performance.now());
  };

  private setDegraded(degraded: boolean): void {
    if (degraded === this.degraded) return;
    this.degraded = degraded;
    this.log.warn({ degraded }, degraded ? 'message bus unreachable: rooms degraded' : 'message bus reachable again');
    for (const member of this.allMembers()) member.busStatus(degraded);
  }
}

/**
 * A generous estimate of the memory a history result holds (UTF-16 texts at up to 3 bytes a
 * character in JSON, and a fixed allowance per entry), for the bound on reads kept for reuse.
 */
function estimatedBytes(result: HistoryResult): number {
  let bytes = 512;
  for (const message of result.messages) bytes += 512 + 3 * (message.text?.length ?? 0);
  bytes += 512 * (result.changes.length + result.moderation.length + result.settings.length + result.webhooks.length);
  return bytes;
}

/**
 * One chat room over `parley.v1`, as reactive state for the room view: the log (timeline), the
 * outbox of the reader's own messages, members, typing, and what the reader has seen. This class
 * is the shell: it owns the socket ({@link RoomSocket}, on @parley/client's ReconnectingSocket:
 * reconnects, backoff, final closes), the timers and the `$state`. What a frame from the server
 * does is decided by the pure {@link applyFrame} (apply-frame.ts), which returns the room's new
 * state and the effects for this class to run; the rest of the bookkeeping lives in plain
 * modules (timeline, outbox, members, typing) with unit tests, and in @parley/client (the
 * recovery's page loop). Frames are applied in batches, one per animation frame, so that a flood
 * of them re-renders the room at most once per frame painted.
 */
import {
  connectProtocols,
  MAX_RECOVERY_PAGES,
  recoverAfter,
  type BackoffOptions,
  type WebSocketConstructor,
} from '@parley/client';
import {
  CLOSE_CODES,
  checkMessageText,
  compareMessageIds,
  encodeFrame,
  LIMITS,
  roleOf,
  type ClientFrame,
  type ClientWebhookFrame,
  type ConnectParams,
  type HistoryPage,
  type Member,
  type MemberPage,
  type MessageFrame,
  type ModerationAction,
  type ReplyRef,
  type Role,
  type RoomRoles,
  type RoomSettings,
  type User,
  type WebhookEventName,
} from '@parley/protocol';
import type { ClientStorage } from '../app/client-storage.ts';
import { nextFrame } from '../ui/next-frame.ts';
import {
  applyFrame,
  applyRecoveryPage,
  decodeRoomFrame,
  type FrameContext,
  type FrameOutcome,
  type RoomEffect,
  type RoomState,
  type ServerProblem,
} from './apply-frame.ts';
import { FrameBatch, type Scheduler } from './frame-batch.ts';
import {
  addChange,
  addToOutbox,
  discard,
  markDisconnected,
  markFailed,
  markRetry,
  markSending,
  newClientMsgId,
  outboxFrame,
  timedOut,
  type MessageChange,
  type OutboxItem,
} from './outbox.ts';
import type { OutboxStorage } from './outbox-storage.ts';
import {
  failUnanswered,
  NO_REQUESTS,
  NO_ROLES,
  NONE,
  withoutRequest,
  withRequest,
  type Removal,
  type Requests,
  type Restrictions,
} from './moderation.ts';
import { mergeMembers, type Headcount } from './members.ts';
import { settingsOf } from './settings.ts';
import { RoomSocket, type ConnectionStatus } from './room-socket.svelte.ts';
import { countUnread, Timeline, type TimelineEntry } from './timeline.ts';
import { expireTypists, shouldSendTyping, type Typist } from './typing.ts';
import type { WebhookEvents } from './webhook.ts';

export type { ModerationRequest, ServerProblem } from './apply-frame.ts';
export type { ConnectionStatus } from './room-socket.svelte.ts';

/** A line for screen readers: something new happened while the reader was here. */
export interface Announcement {
  key: number;
  text: string;
}

/** The outcome of {@link RoomConnection.send}. */
export type SendResult = { ok: true } | { ok: false; message: string };

/** How long a ban or mute lasts (none: until lifted), and why. */
export interface ModerationOptions {
  durationSeconds?: number;
  reason?: string;
}

export interface RoomConnectionOptions {
  room: string;
  /** A valid display name (see `parseDisplayName`). */
  name: string;
  /** Where the token and the last seen message are kept. */
  storage: ClientStorage;
  /** Where unsent messages wait across a reload of the page (none kept when absent). */
  outboxStorage?: OutboxStorage;
  /**
   * The socket URL for one attempt (name and `since`; the token goes as a subprotocol), or why
   * none can be built (bad configuration).
   */
  socketUrl: (
    params: Pick<ConnectParams, 'name' | 'since'>,
  ) => { ok: true; url: string } | { ok: false; reason: string };
  // Each page is asked for with the identity token (undefined before the first welcome): an
  // invite-only room lets only its own people read it, over HTTP as over the socket.
  /** Fetches the page of messages before an id (scroll-back). */
  fetchOlder: (before: string, token: string | undefined) => Promise<HistoryPage>;
  /** Fetches a page of the people present (GET /api/rooms/<room>/members), from a cursor. */
  fetchMembers: (cursor: string | undefined, token: string | undefined) => Promise<MemberPage>;
  /** Fetches the page of messages after an id (the rest of a recovery the welcome cut short). */
  fetchNewer: (after: string, signal: AbortSignal, token: string | undefined) => Promise<HistoryPage>;
  /** Most pages one recovery fetches before it gives up and shows a gap. */
  maxRecoveryPages?: number;
  /** When to apply the frames received; the next animation frame unless given. */
  schedule?: Scheduler;
  /** The platform's unless given (tests). */
  WebSocket?: WebSocketConstructor;
  backoff?: BackoffOptions;
  /** A message on the wire this long without an ack is shown as failed (Retry is safe). */
  sendTimeoutMs?: number;
  /** A new message from someone else arrived (not history, not a duplicate). */
  onIncoming?: (message: MessageFrame) => void;
}

/** Why the connection closed for good, when the reader is out of the room. */
const REMOVED_REASONS: Record<Removal['kind'], string> = {
  kicked: 'A moderator removed you from this room.',
  banned: 'You are banned from this room.',
  invite_required: 'This room is invite-only.',
  room_full: 'This invite-only room has let in as many people as it can.',
};

/** Screen readers get the last few new things, not an ever-growing region. */
const MAX_ANNOUNCEMENTS = 5;

/** Member pages one "show everyone" loads at most (of up to 100 people each): the list stays renderable. */
const MAX_MEMBER_PAGES = 20;
/**
 * A long session in a busy room: past this many entries in the log, the oldest are forgotten
 * (while the reader is at the bottom) down to TIMELINE_KEEP_ENTRIES, so the page never holds
 * an ever longer log; scrolling back loads them again.
 */
export const TIMELINE_MAX_ENTRIES = 1_500;
export const TIMELINE_KEEP_ENTRIES = 1_000;

export class RoomConnection {
  /** The reader as the server knows them, from the latest welcome. */
  me = $state.raw<User | null>(null);
  members = $state.raw<readonly Member[]>([]);
  /** How many are present, and whether `members` holds them all (see members.ts, Headcount). */
  headcount = $state.raw<Headcount>({ count: 0, complete: true });
  loadingMembers = $state(false);
  membersProblem = $state<string | null>(null);
  #outbox = $state.raw<readonly OutboxItem[]>([]);
  typists = $state.raw<readonly Typist[]>([]);
  /** Older messages exist on the server before the oldest one held. */
  hasMore = $state(false);
  loadingOlder = $state(false);
  olderProblem = $state<string | null>(null);
  serverProblem = $state.raw<ServerProblem | null>(null);
  /** Set while the server says it cannot reach its message bus (sending may fail meanwhile). */
  degraded = $state<string | null>(null);
  /** Where the "new since your last visit" divider goes; fixed by the first welcome. */
  dividerBefore = $state<string | undefined>(undefined);
  /** The newest message the reader has seen; later ones from others count as unread. */
  readUpTo = $state<string | null>(null);
  announcements = $state.raw<readonly Announcement[]>([]);
  /** Who owns and moderates the room. */
  roles = $state.raw<RoomRoles>(NO_ROLES);
  /** Bans this client saw. */
  bans = $state.raw<Restrictions>(NONE);
  /** Mutes this client saw, the reader's own included. */
  mutes = $state.raw<Restrictions>(NONE);
  /** Set when a moderator removed or banned the reader (the connection is then closed). */
  removed = $state.raw<Removal | null>(null);
  /** The reader's moderation actions and settings changes, and the server's answers, by clientMsgId. */
  requests = $state.raw<Requests>(NO_REQUESTS);
  /** The room's settings (topic, slow mode, read-only, unlisted, invite-only). */
  settings = $state.raw<RoomSettings>(settingsOf(undefined));
  /** When the reader may post again after a `slow_mode` refusal (ms since the epoch), or `null`. */
  slowModeUntil = $state<number | null>(null);
  /** The events of the room that go to its owner's webhook (`null`: none): everyone is told. */
  webhook = $state.raw<WebhookEvents>(null);

  /** The reader's role in the room. */
  readonly role: Role = $derived(this.me === null ? 'member' : roleOf(this.roles, this.me.id));
  readonly unreadCount = $derived(countUnread(this.timeline, this.readUpTo, this.me?.id));

  readonly room: string;
  readonly name: string;
  /** The log, changed in place; {@link timeline} reads it and {@link #version} says it changed. */
  readonly #log = new Timeline();
  #version = $state(0);
  readonly #frames: FrameBatch<string>;
  readonly #storage: ClientStorage;
  readonly #outboxStorage: OutboxStorage | undefined;
  readonly #fetchOlder: RoomConnectionOptions['fetchOlder'];
  readonly #fetchMembers: RoomConnectionOptions['fetchMembers'];
  readonly #fetchNewer: RoomConnectionOptions['fetchNewer'];
  readonly #maxRecoveryPages: number;
  /** The parts of {@link RoomState} no view shows (see there). */
  #welcomedOnce = false;
  #askedSince: string | undefined;
  #contiguous: string | undefined;
  #recovery: AbortController | null = null;
  #olderLoad: Promise<void> | null = null;
  /** Reveals in progress (see {@link reveal}): the log is not trimmed meanwhile. */
  #revealing = 0;
  readonly #sendTimeoutMs: number;
  readonly #onIncoming: RoomConnectionOptions['onIncoming'];
  readonly #socket: RoomSocket;
  #clock: ReturnType<typeof setInterval> | null = null;
  #lastTypingSentAt: number | null = null;
  /** The room sends head counts instead of joins and leaves (a big room): the list is a snapshot. */
  #countsOnly = false;
  #nextAnnouncement = 1;
  #started = false;
  #disposed = false;

  constructor(options: RoomConnectionOptions) {
    this.room = options.room;
    this.name = options.name;
    this.#storage = options.storage;
    this.#outboxStorage = options.outboxStorage;
    // Messages a reload interrupted: shown at once, sent after the welcome like any pending one.
    this.#outbox = options.outboxStorage?.load(options.room) ?? [];
    this.#fetchOlder = options.fetchOlder;
    this.#fetchMembers = options.fetchMembers;
    this.#fetchNewer = options.fetchNewer;
    this.#maxRecoveryPages = options.maxRecoveryPages ?? MAX_RECOVERY_PAGES;
    this.#frames = new FrameBatch((frames) => this.#receiveAll(frames), options.schedule ?? nextFrame);
    this.#sendTimeoutMs = options.sendTimeoutMs ?? 10_000;
    this.#onIncoming = options.onIncoming;
    this.#socket = new RoomSocket({
      url: () => {
        const since = this.#contiguous ?? this.#log.cursor();
        this.#askedSince = since;
        const target = options.socketUrl({ name: this.name, since });
        return target.ok ? { ...target, protocols: connectProtocols(this.#token()) } : target;
      },
      onText: (data) => this.#frames.push(data),
      onLost: () => this.#lost(),
      onRefused: (event) => {
        // Removed by a moderator: the room shows why (the error frame before the close said
        // whether it is a ban); a close without it is read as a removal.
        if (event.code === CLOSE_CODES.removed) {
          this.removed ??= { kind: 'kicked' };
          this.serverProblem = null;
          return REMOVED_REASONS[this.removed.kind];
        }
        // A close for a broken rule says why itself; for a refused room or name, the error
        // frame just before the close does.
        const reason =
          event.code === CLOSE_CODES.policyViolation
            ? `The server closed the connection: ${(event.reason || 'this page sent what it does not allow').replace(/\.$/, '')}. Reload the page to try again.`
            : (this.serverProblem?.message ?? (event.reason || 'The server refused this room.'));
        this.serverProblem = null;
        return reason;
      },
      WebSocket: options.WebSocket,
      backoff: options.backoff,
    });
  }

  /** The log: messages, join/leave lines, gap markers. Read it in a reactive context to follow it. */
  get timeline(): readonly TimelineEntry[] {
    void this.#version;
    return this.#log.entries;
  }

  /** The reader's own messages not yet in the log, oldest first. */
  get outbox(): readonly OutboxItem[] {
    return this.#outbox;
  }

  get status(): ConnectionStatus {
    return this.#socket.status;
  }

  /** Why the connection is `closed`, for people. */
  get closeReason(): string | null {
    return this.#socket.closeReason;
  }

  /** Failed attempts since the last welcome. */
  get attempts(): number {
    return this.#socket.attempts;
  }

  /** Opens the connection. */
  start(): void {
    if (this.#started || this.#disposed) return;
    this.#started = true;
    // One clock for everything that expires: typing notices and unanswered sends.
    this.#clock = setInterval(() => this.#tick(), 1_000);
    this.#socket.start();
  }

  /** Closes the connection for good; call when the view goes away. */
  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    if (this.#clock !== null) clearInterval(this.#clock);
    this.#frames.clear();
    this.#recovery?.abort();
    this.#socket.dispose();
  }

  /** Reconnects now instead of waiting out the backoff. */
  retryNow(): void {
    this.#socket.retryNow();
  }

  /**
   * Sends a message now, or keeps it as pending until the next welcome. Either way it is shown
   * at once with its state.
   *
   * @param text What the user typed.
   * @returns Whether it was accepted, or why not (shown next to the message box).
   */
  send(text: string, replyTo?: string): SendResult {
    const checked = checkMessageText(text);
    if (!checked.ok) return { ok: false, message: checked.message };
    if (this.status === 'closed') return { ok: false, message: this.closeReason ?? 'The connection is closed.' };
    const clientMsgId = newClientMsgId();
    const reply = replyTo === undefined ? undefined : this.replyRef(replyTo);
    this.#setOutbox(addToOutbox(this.outbox, clientMsgId, checked.value, Date.now(), reply));
    this.#transmit([clientMsgId]);
    // The message ends "typing" on others' screens; the next keystroke may say so again at once.
    this.#lastTypingSentAt = null;
    return { ok: true };
  }

  /**
   * Replaces the text of one of the reader's messages. Like a message, the edit waits while
   * offline and is shown at once; the server may still refuse it (its edit window closed).
   */
  edit(id: string, text: string): SendResult {
    const checked = checkMessageText(text);
    if (!checked.ok) return { ok: false, message: checked.message };
    // Nothing changed: nothing to send.
    if (this.#log.message(id)?.text === checked.value) return { ok: true };
    return this.#change({ kind: 'edit', target: id }, checked.value);
  }

  /** Deletes one of the reader's messages (a tombstone stays in its place). */
  delete(id: string): SendResult {
    return this.#change({ kind: 'delete', target: id }, '');
  }

  /** Adds (`on`) or takes back the reader's reaction to a message. */
  react(id: string, emoji: string, on: boolean): SendResult {
    return this.#change({ kind: on ? 'react' : 'unreact', target: id, emoji }, '');
  }

  /**
   * Takes a moderation action against a person (see `MODERATION_ACTIONS`): sent at once, never
   * kept for later (an action should not land minutes after the moment it was meant for).
   *
   * @returns The action's clientMsgId, whose answer {@link requests} shows; or why it was not sent.
   */
  moderate(
    action: ModerationAction,
    userId: string,
    options: ModerationOptions = {},
  ): { ok: true; clientMsgId: string } | { ok: false; message: string } {
    if (this.status !== 'connected')
      return { ok: false, message: 'Not connected: try again when the connection is back.' };
    const clientMsgId = newClientMsgId();
    const reason = options.reason?.trim();
    const sent = this.#sendFrame({
      type: 'moderate',
      action,
      userId,
      clientMsgId,
      ...(options.durationSeconds === undefined ? {} : { durationSeconds: options.durationSeconds }),
      ...(reason === undefined || reason === '' ? {} : { reason }),
    });
    if (!sent) return { ok: false, message: 'Not connected: try again when the connection is back.' };
    this.requests = withRequest(this.requests, clientMsgId, { state: 'sending' });
    return { ok: true, clientMsgId };
  }

  /**
   * Changes the room's settings (the owner's): only the fields given are sent. Sent at once or
   * not at all, like a moderation action.
   *
   * @returns The change's clientMsgId, whose answer {@link requests} shows; or why it was not sent.
   */
  configure(changes: Partial<RoomSettings>): { ok: true; clientMsgId: string } | { ok: false; message: string } {
    const notConnected = { ok: false, message: 'Not connected: try again when the connection is back.' } as const;
    if (this.status !== 'connected') return notConnected;
    const clientMsgId = newClientMsgId();
    if (!this.#sendFrame({ type: 'settings', ...changes, clientMsgId })) return notConnected;
    this.requests = withRequest(this.requests, clientMsgId, { state: 'sending' });
    return { ok: true, clientMsgId };
  }

  /**
   * Asks for an invite link to this room (the owner's and moderators'), valid for this long. Sent
   * at once or not at all, like a moderation action.
   *
   * @returns The request's clientMsgId, whose answer {@link requests} shows (done with the
   *   invite, or refused); or why it was not sent.
   */
  invite(expiresInSeconds: number): { ok: true; clientMsgId: string } | { ok: false; message: string } {
    const notConnected = { ok: false, message: 'Not connected: try again when the connection is back.' } as const;
    if (this.status !== 'connected') return notConnected;
    const clientMsgId = newClientMsgId();
    if (!this.#sendFrame({ type: 'invite', expiresInSeconds, clientMsgId })) return notConnected;
    this.requests = withRequest(this.requests, clientMsgId, { state: 'sending' });
    return { ok: true, clientMsgId };
  }

  /**
   * The room's webhook (the owner's; the server refuses anyone else): `url` sets it (with
   * `events`, or the server's default) and the answer carries its new secret, once; `url: null`
   * removes it; `events` alone changes them; neither asks how it is and how deliveries went. Sent
   * at once or not at all, like a moderation action.
   *
   * @returns The request's clientMsgId, whose answer {@link requests} shows (done with the
   *   webhook as the owner sees it, or refused); or why it was not sent.
   */
  requestWebhook(
    change: { url?: string | null; events?: WebhookEventName[] } = {},
  ): { ok: true; clientMsgId: string } | { ok: false; message: string } {
    const notConnected = { ok: false, message: 'Not connected: try again when the connection is back.' } as const;
    if (this.status !== 'connected') return notConnected;
    const clientMsgId = newClientMsgId();
    const frame: ClientWebhookFrame = { type: 'webhook', clientMsgId };
    if (change.url !== undefined) frame.url = change.url;
    if (change.events !== undefined) frame.events = change.events;
    if (!this.#sendFrame(frame)) return notConnected;
    this.requests = withRequest(this.requests, clientMsgId, { state: 'sending' });
    return { ok: true, clientMsgId };
  }

  /** Forgets the answer to a moderation action, a settings change, an invite or webhook request (its view closed). */
  forgetRequest(clientMsgId: string): void {
    this.requests = withoutRequest(this.requests, clientMsgId);
  }

  /** Comes back to a room the reader was removed from (or whose ban ended or was lifted). */
  rejoin(): void {
    this.removed = null;
    this.#socket.restart();
  }

  /** A message of the log, if held. */
  message(id: string): MessageFrame | undefined {
    void this.#version;
    return this.#log.message(id);
  }

  /** The reader's newest message that can still be edited: what Up in an empty composer edits. */
  lastOwnMessage(): MessageFrame | undefined {
    const me = this.me;
    return me === null ? undefined : this.#log.lastMessageBy(me.id);
  }

  /** Someone's display name: a member's, or an author's in the log; `undefined` when unknown. */
  nameOf(userId: string): string | undefined {
    void this.#version;
    return this.members.find((m) => m.id === userId)?.name ?? this.#log.nameOf(userId);
  }

  /**
   * What a reply to a message shows of it, as the server will send it: its author and the first
   * characters of its text (none once deleted).
   */
  replyRef(id: string): ReplyRef | undefined {
    void this.#version;
    const message = this.#log.message(id);
    if (message === undefined) return undefined;
    const ref: ReplyRef = { id, user: message.user };
    if (message.text !== undefined && message.deleted !== true)
      ref.excerpt = [...message.text].slice(0, LIMITS.replyExcerptLength).join('');
    return ref;
  }

  /**
   * Loads older pages until the message with this id is held (to show the original of a reply),
   * at most `maxPages` of them.
   *
   * @returns Whether it is held now.
   */
  async reveal(id: string, maxPages = 10): Promise<boolean> {
    this.#revealing += 1;
    try {
      for (let pages = 0; !this.#log.hasMessage(id); pages++) {
        const oldest = this.#log.oldestMessageId();
        // Newer than the oldest held and not held: it is not in this log (a gap, or gone).
        if (pages === maxPages || !this.hasMore || oldest === undefined || compareMessageIds(id, oldest) > 0)
          return false;
        await this.loadOlder();
        if (this.#disposed || this.olderProblem !== null) return false;
      }
      return true;
    } finally {
      this.#revealing -= 1;
    }
  }

  /**
   * Forgets the oldest part of a log grown past TIMELINE_MAX_ENTRIES (see there). For the view
   * to call while the reader is at the bottom; never while older pages are being loaded for
   * the reader (scroll-back, or the original of a reply).
   */
  trimOlder(): void {
    if (this.#log.entries.length <= TIMELINE_MAX_ENTRIES || this.#olderLoad !== null || this.#revealing > 0) return;
    if (this.#log.trimOldest(TIMELINE_KEEP_ENTRIES) === 0) return;
    this.hasMore = true;
    this.#changed();
  }

  #change(change: MessageChange, text: string): SendResult {
    if (this.status === 'closed') return { ok: false, message: this.closeReason ?? 'The connection is closed.' };
    const clientMsgId = newClientMsgId();
    this.#setOutbox(addChange(this.outbox, clientMsgId, change, text, Date.now()));
    this.#transmit([clientMsgId]);
    return { ok: true };
  }

  /** Sends a failed message again, with its original clientMsgId (the server stores it once). */
  retry(clientMsgId: string): void {
    this.#setOutbox(markRetry(this.outbox, clientMsgId));
    this.#transmit([clientMsgId]);
  }

  /** Forgets a failed message. */
  discard(clientMsgId: string): void {
    this.#setOutbox(discard(this.outbox, clientMsgId));
  }

  /** The reader is typing; tells the room, at most once per interval. */
  notifyTyping(): void {
    const now = Date.now();
    if (this.status !== 'connected' || !shouldSendTyping(this.#lastTypingSentAt, now)) return;
    this.#lastTypingSentAt = now;
    this.#sendFrame({ type: 'typing' });
  }

  /** The reader has seen everything held (the log is at the bottom and visible): remember it. */
  markRead(): void {
    const newest = this.#log.newestMessageId();
    if (newest === undefined || (this.readUpTo !== null && compareMessageIds(newest, this.readUpTo) <= 0)) return;
    this.readUpTo = newest;
    this.#storage.setLastSeen(this.room, newest);
  }

  /** Loads the page of messages before the oldest one held (scroll-back); one page at a time. */
  loadOlder(): Promise<void> {
    if (this.#olderLoad !== null) return this.#olderLoad;
    const load = this.#loadOlderPage().finally(() => {
      this.#olderLoad = null;
    });
    this.#olderLoad = load;
    return load;
  }

  async #loadOlderPage(): Promise<void> {
    const before = this.#log.oldestMessageId();
    if (!this.hasMore || before === undefined) return;
    this.loadingOlder = true;
    this.olderProblem = null;
    try {
      const page = await this.#fetchOlder(before, this.#token());
      if (this.#disposed) return;
      if (this.#log.prependMessages(page.messages) > 0) this.#changed();
      this.hasMore = page.hasMore;
    } catch (error) {
      this.olderProblem = error instanceof Error ? error.message : String(error);
    } finally {
      this.loadingOlder = false;
    }
  }

  /**
   * Loads everyone present from the member pages (a big room's welcome lists only the first),
   * at most MAX_MEMBER_PAGES pages; the list is complete after it unless the room only sends
   * counts (then it is a snapshot, to be loaded again).
   */
  async loadAllMembers(): Promise<void> {
    if (this.loadingMembers) return;
    this.loadingMembers = true;
    this.membersProblem = null;
    try {
      let members: readonly Member[] = [];
      let cursor: string | undefined;
      let pages = 0;
      let count = this.headcount.count;
      do {
        const page = await this.#fetchMembers(cursor, this.#token());
        if (this.#disposed) return;
        members = mergeMembers(members, page.members);
        count = page.memberCount;
        cursor = page.cursor;
        pages += 1;
      } while (cursor !== undefined && pages < MAX_MEMBER_PAGES);
      this.members = members;
      // Complete when every page came, and joins and leaves keep it so (not a counts-only room).
      this.headcount = { count, complete: cursor === undefined && !this.#countsOnly };
    } catch (error) {
      this.membersProblem = error instanceof Error ? error.message : String(error);
    } finally {
      this.loadingMembers = false;
    }
  }

  /** Forgets the last server problem (the user dismissed it). */
  dismissProblem(): void {
    this.serverProblem = null;
  }

  /** Applies a batch of frames; the view re-renders once for all of them. */
  #receiveAll(frames: readonly string[]): void {
    for (const data of frames) {
      try {
        this.#receive(data);
      } catch (error) {
        // One frame this code cannot handle must not cost the others in the batch.
        console.error('[parley] a frame could not be applied', error);
      }
    }
  }

  #receive(data: string): void {
    const decoded = decodeRoomFrame(data);
    if (!decoded.ok) {
      console.warn(`[parley] ignored a frame: ${decoded.message}`);
      return;
    }
    const context: FrameContext = {
      now: Date.now(),
      lastSeen: () => this.#storage.lastSeen(this.room),
      newClientMsgId: () => newClientMsgId(),
    };
    if (decoded.value.type === 'presence') this.#countsOnly = true;
    else if (decoded.value.type === 'welcome') this.#countsOnly = false;
    this.#apply(applyFrame(this.#state(), decoded.value, context));
  }

  /** The identity token as last saved (each welcome gives a fresh one), if any yet. */
  #token(): string | undefined {
    return this.#storage.token() ?? undefined;
  }

  /** The room as {@link applyFrame} sees it: every field, read from the reactive ones. */
  #state(): RoomState {
    return {
      timeline: this.#log,
      me: this.me,
      members: this.members,
      headcount: this.headcount,
      typists: this.typists,
      outbox: this.#outbox,
      hasMore: this.hasMore,
      serverProblem: this.serverProblem,
      degraded: this.degraded,
      dividerBefore: this.dividerBefore,
      readUpTo: this.readUpTo,
      welcomedOnce: this.#welcomedOnce,
      askedSince: this.#askedSince,
      contiguous: this.#contiguous,
      roles: this.roles,
      bans: this.bans,
      mutes: this.mutes,
      removed: this.removed,
      requests: this.requests,
      settings: this.settings,
      slowModeUntil: this.slowModeUntil,
      webhook: this.webhook,
    };
  }

  /** Takes the room's new state; a field given its current value again wakes nothing. */
  #commit(state: RoomState): void {
    this.me = state.me;
    this.members = state.members;
    this.headcount = state.headcount;
    this.typists = state.typists;
    this.#setOutbox(state.outbox);
    this.hasMore = state.hasMore;
    this.serverProblem = state.serverProblem;
    this.degraded = state.degraded;
    this.dividerBefore = state.dividerBefore;
    this.readUpTo = state.readUpTo;
    this.#welcomedOnce = state.welcomedOnce;
    this.#askedSince = state.askedSince;
    this.#contiguous = state.contiguous;
    this.roles = state.roles;
    this.bans = state.bans;
    this.mutes = state.mutes;
    this.removed = state.removed;
    this.requests = state.requests;
    this.settings = state.settings;
    this.slowModeUntil = state.slowModeUntil;
    this.webhook = state.webhook;
  }

  /** Takes the outcome of a frame: the new state first, then the effects, in order. */
  #apply(outcome: FrameOutcome): void {
    this.#commit(outcome.state);
    if (outcome.timelineChanged) this.#changed();
    for (const effect of outcome.effects) this.#run(effect);
  }

  #run(effect: RoomEffect): void {
    switch (effect.kind) {
      case 'save-token':
        this.#storage.setToken(effect.token);
        break;
      case 'recover':
        this.#recover(effect.after);
        break;
      case 'welcomed':
        this.#socket.welcomed();
        break;
      case 'transmit':
        this.#transmit(effect.clientMsgIds);
        break;
      case 'announce':
        this.#announce(effect.text);
        break;
      case 'incoming':
        this.#onIncoming?.(effect.message);
        break;
      default: {
        // Every kind is handled above: a new one does not compile until it is.
        const unknown: never = effect;
        throw new Error(`no handler for the effect ${(unknown as { kind?: unknown }).kind}`);
      }
    }
  }

  /**
   * Fetches what the welcome left out, after `after`, merging each page in its place among the
   * live messages that keep arriving. Until it ends, a reconnect asks from the last id without a
   * hole before it (the welcome set it to `after`); if it cannot finish, a gap marker shows where
   * the hole stays.
   */
  #recover(after: string): void {
    this.#recovery?.abort();
    const controller = new AbortController();
    this.#recovery = controller;
    const onPage = (page: HistoryPage, cursor: string, from: string) => {
      this.#commit(applyRecoveryPage(this.#state(), page, from, cursor));
      this.#changed();
    };
    const fetchAfter = (cursor: string, signal: AbortSignal) => this.#fetchNewer(cursor, signal, this.#token());
    void recoverAfter(after, { fetchAfter, onPage }, controller.signal, this.#maxRecoveryPages).then((outcome) => {
      if (this.#recovery !== controller) return;
      this.#recovery = null;
      // Aborted: the socket dropped; the next welcome starts again from #contiguous.
      if (outcome.kind === 'aborted') return;
      if (outcome.kind === 'incomplete') {
        console.warn(`[parley] recovery stopped: ${outcome.reason}`);
        this.#log.insertGapAfter(outcome.cursor);
        this.#changed();
      }
      this.#contiguous = undefined;
    });
  }

  /** Puts outbox items on the wire if the connection is ready; otherwise they stay pending. */
  #transmit(clientMsgIds: readonly string[]): void {
    if (this.status !== 'connected' || clientMsgIds.length === 0) return;
    // A lookup for this loop, not reactive state.
    // eslint-disable-next-line svelte/prefer-svelte-reactivity
    const ids = new Set(clientMsgIds);
    const sent: string[] = [];
    for (const item of this.outbox) {
      if (!ids.has(item.clientMsgId) || (item.state !== 'pending' && item.state !== 'sending')) continue;
      if (!this.#sendFrame(outboxFrame(item))) break;
      sent.push(item.clientMsgId);
    }
    this.#setOutbox(markSending(this.outbox, sent, Date.now()));
  }

  #setOutbox(outbox: readonly OutboxItem[]): void {
    if (outbox === this.#outbox) return;
    this.#outbox = outbox;
    this.#outboxStorage?.save(this.room, outbox);
  }

  #sendFrame(frame: ClientFrame): boolean {
    return this.#socket.send(encodeFrame(frame));
  }

  #tick(): void {
    const now = Date.now();
    this.typists = expireTypists(this.typists, now);
    for (const clientMsgId of timedOut(this.outbox, now, this.#sendTimeoutMs)) {
      this.#setOutbox(markFailed(this.outbox, clientMsgId, 'The server did not confirm it in time.'));
    }
  }

  /** A line for screen readers, from the views (what an action of the reader did). */
  announce(text: string): void {
    this.#announce(text);
  }

  #announce(text: string): void {
    this.announcements = [...this.announcements, { key: this.#nextAnnouncement++, text }].slice(-MAX_ANNOUNCEMENTS);
  }

  /** The log changed: whatever reads {@link timeline} updates (once per batch of frames). */
  #changed(): void {
    this.#version += 1;
  }

  /** The socket is gone: unanswered messages wait for the next welcome. */
  #lost(): void {
    // The last frames before a close come first (the error frame that says why, say).
    this.#frames.flush();
    // Pages keep coming over HTTP, but the next welcome restarts the recovery from #contiguous.
    this.#recovery?.abort();
    this.#recovery = null;
    this.#setOutbox(markDisconnected(this.outbox));
    this.typists = [];
    this.degraded = null;
    // A moderation action unanswered when the socket went: whether it was applied is unknown,
    // and it is not sent again on its own (the moderation line will show if it was).
    this.requests = failUnanswered(this.requests, 'The connection dropped before the server answered.');
  }
}

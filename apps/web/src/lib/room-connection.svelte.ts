/**
 * One chat room over `parley.v1`, as reactive state for the room view: the log (timeline), the
 * outbox of the reader's own messages, members, typing, and what the reader has seen. The socket
 * and its reconnects are {@link RoomSocket}'s; the bookkeeping lives in plain modules (timeline,
 * outbox, members, typing) with unit tests; this class applies them to frames and events.
 */
import {
  checkMessageText,
  compareMessageIds,
  decodeServerFrame,
  encodeFrame,
  type ClientFrame,
  type ConnectParams,
  type HistoryPage,
  type MessageFrame,
  type User,
  type WelcomeFrame,
} from '@parley/protocol';
import type { BackoffOptions } from './backoff.ts';
import type { ClientStore } from './client-store.ts';
import type { OutboxStore } from './outbox-store.ts';
import { addMember, removeMember } from './members.ts';
import {
  addToOutbox,
  awaitingSend,
  discard,
  markAcked,
  markDisconnected,
  markFailed,
  markRetry,
  markSending,
  newClientMsgId,
  removeDelivered,
  timedOut,
  type OutboxItem,
} from './outbox.ts';
import { RoomSocket, type ConnectionStatus } from './room-socket.svelte.ts';
import {
  appendEntry,
  appendMessages,
  countUnread,
  firstUnread,
  hasMessage,
  newestMessageId,
  oldestMessageId,
  prependMessages,
  type TimelineEntry,
} from './timeline.ts';
import { expireTypists, noteTyping, shouldSendTyping, stopTyping, typingText, type Typist } from './typing.ts';

export type { ConnectionStatus } from './room-socket.svelte.ts';

/** A problem the server reported that concerns no particular message. */
export interface ServerProblem {
  code: string;
  message: string;
}

/** A line for screen readers: something new happened while the reader was here. */
export interface Announcement {
  key: number;
  text: string;
}

/** The outcome of {@link RoomConnection.send}. */
export type SendResult = { ok: true } | { ok: false; message: string };

export interface RoomConnectionOptions {
  room: string;
  /** A valid display name (see `parseDisplayName`). */
  name: string;
  /** Where the token and the last seen message are kept. */
  store: ClientStore;
  /** Where unsent messages wait across a reload of the page (none kept when absent). */
  outboxStore?: OutboxStore;
  /** The socket URL for one attempt, or why none can be built (bad configuration). */
  socketUrl: (params: ConnectParams) => { ok: true; url: string } | { ok: false; reason: string };
  /** Fetches the page of messages before an id (scroll-back). */
  fetchOlder: (before: string) => Promise<HistoryPage>;
  createSocket?: (url: string, protocols: string[]) => WebSocket;
  backoff?: BackoffOptions;
  /** A message on the wire this long without an ack is shown as failed (Retry is safe). */
  sendTimeoutMs?: number;
  /** A new message from someone else arrived (not history, not a duplicate). */
  onIncoming?: (message: MessageFrame) => void;
}

/** Screen readers get the last few new things, not an ever-growing region. */
const MAX_ANNOUNCEMENTS = 5;

export class RoomConnection {
  /** The reader as the server knows them, from the latest welcome. */
  me = $state.raw<User | null>(null);
  members = $state.raw<readonly User[]>([]);
  timeline = $state.raw<readonly TimelineEntry[]>([]);
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

  readonly unreadCount = $derived(countUnread(this.timeline, this.readUpTo, this.me?.id));
  readonly typingText = $derived(typingText(this.typists.map((t) => t.user.name)));

  readonly room: string;
  readonly name: string;
  readonly #store: ClientStore;
  readonly #outboxStore: OutboxStore | undefined;
  readonly #fetchOlder: RoomConnectionOptions['fetchOlder'];
  readonly #sendTimeoutMs: number;
  readonly #onIncoming: RoomConnectionOptions['onIncoming'];
  readonly #socket: RoomSocket;
  /** The `since` the current socket asked for: a welcome without recovery then means a gap. */
  #askedSince: string | undefined;
  #welcomedOnce = false;
  #clock: ReturnType<typeof setInterval> | null = null;
  #lastTypingSentAt: number | null = null;
  #nextKey = 1;
  #started = false;
  #disposed = false;

  constructor(options: RoomConnectionOptions) {
    this.room = options.room;
    this.name = options.name;
    this.#store = options.store;
    this.#outboxStore = options.outboxStore;
    // Messages a reload interrupted: shown at once, sent after the welcome like any pending one.
    this.#outbox = options.outboxStore?.load(options.room) ?? [];
    this.#fetchOlder = options.fetchOlder;
    this.#sendTimeoutMs = options.sendTimeoutMs ?? 10_000;
    this.#onIncoming = options.onIncoming;
    this.#socket = new RoomSocket({
      url: () => {
        const since = newestMessageId(this.timeline);
        this.#askedSince = since;
        return options.socketUrl({ name: this.name, token: this.#store.token() ?? undefined, since });
      },
      onText: (data) => this.#receive(data),
      onLost: () => this.#lost(),
      onRefused: (event) => {
        // The error frame just before the close says what was refused.
        const reason = this.serverProblem?.message ?? (event.reason || 'The server refused this room.');
        this.serverProblem = null;
        return reason;
      },
      createSocket: options.createSocket,
      backoff: options.backoff,
    });
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
  send(text: string): SendResult {
    const checked = checkMessageText(text);
    if (!checked.ok) return { ok: false, message: checked.message };
    if (this.status === 'closed') return { ok: false, message: this.closeReason ?? 'The connection is closed.' };
    const clientMsgId = newClientMsgId();
    this.#setOutbox(addToOutbox(this.outbox, clientMsgId, checked.value, Date.now()));
    this.#transmit([clientMsgId]);
    // The message ends "typing" on others' screens; the next keystroke may say so again at once.
    this.#lastTypingSentAt = null;
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
    const newest = newestMessageId(this.timeline);
    if (newest === undefined || (this.readUpTo !== null && compareMessageIds(newest, this.readUpTo) <= 0)) return;
    this.readUpTo = newest;
    this.#store.setLastSeen(this.room, newest);
  }

  /** Loads the page of messages before the oldest one held (scroll-back). */
  async loadOlder(): Promise<void> {
    const before = oldestMessageId(this.timeline);
    if (this.loadingOlder || !this.hasMore || before === undefined) return;
    this.loadingOlder = true;
    this.olderProblem = null;
    try {
      const page = await this.#fetchOlder(before);
      if (this.#disposed) return;
      this.timeline = prependMessages(this.timeline, page.messages);
      this.hasMore = page.hasMore;
    } catch (error) {
      this.olderProblem = error instanceof Error ? error.message : String(error);
    } finally {
      this.loadingOlder = false;
    }
  }

  /** Forgets the last server problem (the user dismissed it). */
  dismissProblem(): void {
    this.serverProblem = null;
  }

  #receive(data: string): void {
    const decoded = decodeServerFrame(data);
    if (!decoded.ok) {
      // A newer server may send an error code this build does not know yet; still show it.
      const loose = looseError(data);
      if (loose !== null) this.#onError(loose);
      else console.warn(`[parley] ignored a frame: ${decoded.message}`);
      return;
    }
    const frame = decoded.value;
    switch (frame.type) {
      case 'welcome':
        this.#onWelcome(frame);
        break;
      case 'message':
        this.#onMessage(frame);
        break;
      case 'join':
      case 'leave':
        this.members = frame.type === 'join' ? addMember(this.members, frame.user) : removeMember(this.members, frame.user.id);
        if (frame.type === 'leave') this.typists = stopTyping(this.typists, frame.user.id);
        this.timeline = appendEntry(this.timeline, { kind: 'presence', key: this.#key('p'), action: frame.type, user: frame.user, ts: frame.ts });
        break;
      case 'typing':
        if (frame.user.id !== this.me?.id) this.typists = noteTyping(this.typists, frame.user, Date.now());
        break;
      case 'ack':
        this.#setOutbox(markAcked(this.outbox, frame.clientMsgId, frame.id));
        // The message itself may have arrived first: then the outbox item is done.
        if (hasMessage(this.timeline, frame.id)) this.#setOutbox(this.outbox.filter((item) => item.id !== frame.id));
        break;
      case 'error':
        this.#onError(frame);
        break;
      case 'status':
        // The server's link to its message bus: sending may fail until it is back.
        this.degraded = frame.degraded ? frame.message || 'The server is having trouble; messages may be delayed.' : null;
        break;
    }
  }

  #onWelcome(welcome: WelcomeFrame): void {
    const first = !this.#welcomedOnce;
    this.#welcomedOnce = true;
    this.me = welcome.you;
    this.#store.setToken(welcome.token);
    this.members = welcome.members;
    // Typing notices from before the drop are stale; nobody replays them.
    this.typists = [];

    let timeline = this.timeline;
    if (this.#askedSince !== undefined && !welcome.recovered) {
      // What was said after our newest message is gone from the server: say so, rather than
      // quietly joining two stretches of history.
      timeline = appendEntry(timeline, { kind: 'gap', key: this.#key('gap') });
    }
    if (oldestMessageId(timeline) === undefined) this.hasMore = welcome.hasMore;
    this.timeline = appendMessages(timeline, welcome.history);
    this.#setOutbox(removeDelivered(this.outbox, welcome.history, welcome.you.id));

    if (first) {
      const lastSeen = this.#store.lastSeen(this.room);
      this.dividerBefore = firstUnread(this.timeline, lastSeen, welcome.you.id);
      // A first visit has no "new since": what the welcome shows counts as seen.
      this.readUpTo = lastSeen ?? newestMessageId(this.timeline) ?? null;
    }

    this.#socket.welcomed();
    // Everything typed offline or left unanswered by the last connection goes out now, with
    // its original clientMsgId, so the server stores each once even if it got it before.
    this.#transmit(awaitingSend(this.outbox).map((item) => item.clientMsgId));
  }

  #onMessage(message: MessageFrame): void {
    const before = this.timeline;
    this.timeline = appendMessages(before, [message]);
    this.#setOutbox(removeDelivered(this.outbox, [message], this.me?.id));
    this.typists = stopTyping(this.typists, message.user.id);
    if (this.timeline !== before && message.user.id !== this.me?.id) {
      this.#announce(`${message.user.name}: ${message.text}`);
      this.#onIncoming?.(message);
    }
  }

  #onError(frame: { code: string; message: string; clientMsgId?: string | undefined }): void {
    const item = frame.clientMsgId === undefined ? undefined : this.outbox.find((i) => i.clientMsgId === frame.clientMsgId);
    if (item !== undefined) {
      this.#setOutbox(markFailed(this.outbox, item.clientMsgId, frame.message));
      this.#announce(`Your message was not sent: ${frame.message}`);
    } else {
      this.serverProblem = { code: frame.code, message: frame.message };
    }
  }

  /** Puts outbox items on the wire if the connection is ready; otherwise they stay pending. */
  #transmit(clientMsgIds: readonly string[]): void {
    if (this.status !== 'connected' || clientMsgIds.length === 0) return;
    const ids = new Set(clientMsgIds);
    const sent: string[] = [];
    for (const item of this.outbox) {
      if (!ids.has(item.clientMsgId) || (item.state !== 'pending' && item.state !== 'sending')) continue;
      if (!this.#sendFrame({ type: 'message', text: item.text, clientMsgId: item.clientMsgId })) break;
      sent.push(item.clientMsgId);
    }
    this.#setOutbox(markSending(this.outbox, sent, Date.now()));
  }

  #setOutbox(outbox: readonly OutboxItem[]): void {
    if (outbox === this.#outbox) return;
    this.#outbox = outbox;
    this.#outboxStore?.save(this.room, outbox);
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

  #announce(text: string): void {
    this.announcements = [...this.announcements, { key: this.#nextKey++, text }].slice(-MAX_ANNOUNCEMENTS);
  }

  #key(prefix: string): string {
    return `${prefix}:${this.#nextKey++}`;
  }

  /** The socket is gone: unanswered messages wait for the next welcome. */
  #lost(): void {
    this.#setOutbox(markDisconnected(this.outbox));
    this.typists = [];
    this.degraded = null;
  }
}

function looseError(data: string): { code: string; message: string; clientMsgId?: string } | null {
  try {
    const value: unknown = JSON.parse(data);
    if (typeof value !== 'object' || value === null) return null;
    const v = value as Record<string, unknown>;
    if (v['type'] !== 'error' || typeof v['message'] !== 'string') return null;
    return {
      code: typeof v['code'] === 'string' ? v['code'] : 'unknown',
      message: v['message'],
      ...(typeof v['clientMsgId'] === 'string' ? { clientMsgId: v['clientMsgId'] } : {}),
    };
  } catch {
    return null;
  }
}

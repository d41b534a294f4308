/**
 * One chat room over `parley.v1`, as reactive state for the room view: the log (timeline), the
 * outbox of the reader's own messages, members, typing, and what the reader has seen. The socket
 * and its reconnects are {@link RoomSocket}'s; the bookkeeping lives in plain modules (timeline,
 * outbox, members, typing, recovery) with unit tests; this class applies them to frames and
 * events. Frames are applied in batches, one per animation frame, so that a flood of them
 * re-renders the room at most once per frame painted.
 */
import {
  CLOSE_CODES,
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
import type { BackoffOptions } from '../app/backoff.ts';
import type { ClientStorage } from '../app/client-storage.ts';
import { FrameBatch, type Scheduler } from './frame-batch.ts';
import { nextFrame } from '../ui/next-frame.ts';
import type { OutboxStorage } from './outbox-storage.ts';
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
  renewClientMsgId,
  timedOut,
  type OutboxItem,
} from './outbox.ts';
import { MAX_RECOVERY_PAGES, recoverNewer } from './recovery.ts';
import { RoomSocket, type ConnectionStatus } from './room-socket.svelte.ts';
import { connectProtocols } from '../app/server-url.ts';
import { countUnread, firstUnread, Timeline, type TimelineEntry } from './timeline.ts';
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
  storage: ClientStorage;
  /** Where unsent messages wait across a reload of the page (none kept when absent). */
  outboxStorage?: OutboxStorage;
  /**
   * The socket URL for one attempt (name and `since`; the token goes as a subprotocol), or why
   * none can be built (bad configuration).
   */
  socketUrl: (params: Pick<ConnectParams, 'name' | 'since'>) => { ok: true; url: string } | { ok: false; reason: string };
  /** Fetches the page of messages before an id (scroll-back). */
  fetchOlder: (before: string) => Promise<HistoryPage>;
  /** Fetches the page of messages after an id (the rest of a recovery the welcome cut short). */
  fetchNewer: (after: string, signal: AbortSignal) => Promise<HistoryPage>;
  /** Most pages one recovery fetches before it gives up and shows a gap. */
  maxRecoveryPages?: number;
  /** When to apply the frames received; the next animation frame unless given. */
  schedule?: Scheduler;
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
  /** The log, changed in place; {@link timeline} reads it and {@link #version} says it changed. */
  readonly #log = new Timeline();
  #version = $state(0);
  readonly #frames: FrameBatch<string>;
  readonly #storage: ClientStorage;
  readonly #outboxStorage: OutboxStorage | undefined;
  readonly #fetchOlder: RoomConnectionOptions['fetchOlder'];
  readonly #fetchNewer: RoomConnectionOptions['fetchNewer'];
  readonly #maxRecoveryPages: number;
  /**
   * While a recovery fetches pages: the last id held with no hole before it. A reconnect asks
   * for what follows it, not for what follows the newest (live messages came after the hole).
   */
  #contiguous: string | undefined;
  #recovery: AbortController | null = null;
  readonly #sendTimeoutMs: number;
  readonly #onIncoming: RoomConnectionOptions['onIncoming'];
  readonly #socket: RoomSocket;
  /** The `since` the current socket asked for: a welcome without recovery then means a gap. */
  #askedSince: string | undefined;
  #welcomedOnce = false;
  #clock: ReturnType<typeof setInterval> | null = null;
  #lastTypingSentAt: number | null = null;
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
    this.#fetchNewer = options.fetchNewer;
    this.#maxRecoveryPages = options.maxRecoveryPages ?? MAX_RECOVERY_PAGES;
    this.#frames = new FrameBatch((frames) => this.#receiveAll(frames), options.schedule ?? nextFrame);
    this.#sendTimeoutMs = options.sendTimeoutMs ?? 10_000;
    this.#onIncoming = options.onIncoming;
    this.#socket = new RoomSocket({
      url: () => {
        const since = this.#contiguous ?? this.#log.newestMessageId();
        this.#askedSince = since;
        const target = options.socketUrl({ name: this.name, since });
        return target.ok ? { ...target, protocols: connectProtocols(this.#storage.token() ?? undefined) } : target;
      },
      onText: (data) => this.#frames.push(data),
      onLost: () => this.#lost(),
      onRefused: (event) => {
        // A close for a broken rule says why itself; for a refused room or name, the error
        // frame just before the close does.
        const reason =
          event.code === CLOSE_CODES.policyViolation
            ? `The server closed the connection: ${(event.reason || 'this page sent what it does not allow').replace(/\.$/, '')}. Reload the page to try again.`
            : (this.serverProblem?.message ?? (event.reason || 'The server refused this room.'));
        this.serverProblem = null;
        return reason;
      },
      createSocket: options.createSocket,
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
    const newest = this.#log.newestMessageId();
    if (newest === undefined || (this.readUpTo !== null && compareMessageIds(newest, this.readUpTo) <= 0)) return;
    this.readUpTo = newest;
    this.#storage.setLastSeen(this.room, newest);
  }

  /** Loads the page of messages before the oldest one held (scroll-back). */
  async loadOlder(): Promise<void> {
    const before = this.#log.oldestMessageId();
    if (this.loadingOlder || !this.hasMore || before === undefined) return;
    this.loadingOlder = true;
    this.olderProblem = null;
    try {
      const page = await this.#fetchOlder(before);
      if (this.#disposed) return;
      if (this.#log.prependMessages(page.messages) > 0) this.#changed();
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
        this.#log.addPresence(frame.type, frame.user, frame.ts);
        this.#changed();
        break;
      case 'typing':
        if (frame.user.id !== this.me?.id) this.typists = noteTyping(this.typists, frame.user, Date.now());
        break;
      case 'ack':
        this.#setOutbox(markAcked(this.outbox, frame.clientMsgId, frame.id));
        // The message itself may have arrived first: then the outbox item is done.
        if (this.#log.hasMessage(frame.id)) this.#setOutbox(this.outbox.filter((item) => item.id !== frame.id));
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
    // A fresh token in every welcome (its expiry slides): keep the latest.
    this.#storage.setToken(welcome.token);
    this.members = welcome.members;
    // Typing notices from before the drop are stale; nobody replays them.
    this.typists = [];

    const asked = this.#askedSince;
    if (asked !== undefined && !welcome.recovered) {
      // What was said after our newest message is gone from the server: say so, rather than
      // quietly joining two stretches of history. If a recovery was under way, live messages
      // newer than its hole are held too: the hole (after `asked`) gets its own marker.
      if (this.#contiguous !== undefined) this.#log.insertGapAfter(asked);
      this.#log.appendGap();
    }
    if (this.#log.oldestMessageId() === undefined) this.hasMore = welcome.hasMore;
    this.#log.appendMessages(welcome.history);
    this.#changed();
    this.#setOutbox(removeDelivered(this.outbox, welcome.history, welcome.you.id));

    if (first) {
      const lastSeen = this.#storage.lastSeen(this.room);
      this.dividerBefore = firstUnread(this.#log.entries, lastSeen, welcome.you.id);
      // A first visit has no "new since": what the welcome shows counts as seen.
      this.readUpTo = lastSeen ?? this.#log.newestMessageId() ?? null;
    }

    // More was missed than one welcome carries: fetch the rest, page by page.
    this.#contiguous = undefined;
    const last = welcome.history.at(-1)?.id ?? asked;
    if (welcome.hasNewer === true && last !== undefined) this.#recover(last);

    this.#socket.welcomed();
    // Everything typed offline or left unanswered by the last connection goes out now, with
    // its original clientMsgId, so the server stores each once even if it got it before.
    this.#transmit(awaitingSend(this.outbox).map((item) => item.clientMsgId));
  }

  /**
   * Fetches what the welcome left out, after `after`, merging each page in its place among the
   * live messages that keep arriving. Until it ends, a reconnect asks from the last id without a
   * hole before it; if it cannot finish, a gap marker shows where the hole stays.
   */
  #recover(after: string): void {
    this.#recovery?.abort();
    const controller = new AbortController();
    this.#recovery = controller;
    this.#contiguous = after;
    const onPage = (page: HistoryPage, from: string, cursor: string) => {
      // The room moved on too far: what followed `from` is gone; the page starts after a hole.
      if (page.recovered === false) this.#log.insertGapAfter(from);
      this.#log.appendMessages(page.messages);
      this.#contiguous = cursor;
      this.#changed();
      this.#setOutbox(removeDelivered(this.outbox, page.messages, this.me?.id));
    };
    void recoverNewer(after, { fetchNewer: this.#fetchNewer, onPage }, controller.signal, this.#maxRecoveryPages).then((outcome) => {
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

  #onMessage(message: MessageFrame): void {
    const added = this.#log.appendMessages([message]).length > 0;
    if (added) this.#changed();
    this.#setOutbox(removeDelivered(this.outbox, [message], this.me?.id));
    this.typists = stopTyping(this.typists, message.user.id);
    if (added && message.user.id !== this.me?.id) {
      this.#announce(`${message.user.name}: ${message.text}`);
      this.#onIncoming?.(message);
    }
  }

  #onError(frame: { code: string; message: string; clientMsgId?: string | undefined }): void {
    const item = frame.clientMsgId === undefined ? undefined : this.outbox.find((i) => i.clientMsgId === frame.clientMsgId);
    if (item !== undefined) {
      this.#setOutbox(markFailed(this.outbox, item.clientMsgId, frame.message));
      // The server holds another text under this clientMsgId: a Retry must not reuse it.
      if (frame.code === 'client_msg_id_reused') this.#setOutbox(renewClientMsgId(this.outbox, item.clientMsgId, newClientMsgId()));
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

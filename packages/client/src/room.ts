/**
 * One chat room over `parley.v1`, kept open: {@link ParleyRoom} connects (the token as a
 * subprotocol, never in the URL), reconnects with jittered backoff and `since` = the newest log
 * id it delivered, fetches what a welcome could not carry page by page, delivers every log entry
 * once and in the room's order, and sends requests through an outbox that resends them, with
 * their clientMsgId, until the server answers. It gives up only when the server says trying again
 * is pointless: a bad room, name or `since` (4400), a broken rule (1008), or a removal (4403).
 * The socket itself (attempts, backoff, final closes, timeouts) is a {@link ReconnectingSocket}.
 */
import {
  checkMessageText,
  ClientFrameSchema,
  decodeJson,
  decodeServerFrame,
  decodeWith,
  encodeFrame,
  parseDisplayName,
  parseRoomName,
  PROTOCOL_V1,
  type AckFrame,
  type HistoryPage,
  type InviteFrame,
  type ModerationAction,
  type RoomSettings,
  type User,
  type WelcomeFrame,
} from '@parley/protocol';
import type { BackoffOptions } from './connection/backoff.ts';
import { DEFAULT_PACE, Pacer, type PacerOptions } from './connection/pacer.ts';
import { ReconnectingSocket, type SocketEnd, type SocketTarget } from './connection/reconnecting-socket.ts';
import type { WebSocketConstructor } from './connection/websocket.ts';
import { ParleyError, type LooseErrorFrame } from './errors.ts';
import { TypedEmitter, type LogSource, type PassedOnFrame, type RoomEvents } from './events.ts';
import { fetchHistoryPage, type FetchLike } from './http/http.ts';
import { connectProtocols, roomSocketUrl, serverBase, type ServerBase } from './http/server-url.ts';
import { newClientMsgId, Outbox, type Ack, type OutboxOptions, type RequestFrame } from './outbox/outbox.ts';
import {
  batchFrames,
  isLogFrame,
  logId,
  newestId,
  newestInBatch,
  type LogBatch,
  type LogFrame,
} from './recovery/log-batch.ts';
import { RecentIds } from './recovery/recent-ids.ts';
import { MAX_RECOVERY_PAGES, RECOVERY_PAGE_LIMIT, recoverAfter } from './recovery/recover.ts';

export interface ParleyRoomOptions {
  /** The server's address: `http://localhost:3000`, `https://chat.example.com` (ws:// and wss:// too). */
  server: string;
  /** The room's name (normalised as the server does: `Lobby` is `lobby`). */
  room: string;
  /** The display name: 1–32 characters with a letter or digit (see `parseDisplayName`). */
  name: string;
  /** The token from an earlier session (`room.token`), to stay the same person. */
  token?: string;
  /** The newest log id an earlier session delivered (`room.lastEventId`): the first welcome recovers what follows. */
  since?: string;
  /** An invite to an invite-only room. */
  invite?: string;
  /** The WebSocket class: the platform's when there is one, else `ws`'s. */
  WebSocket?: WebSocketConstructor;
  /** `globalThis.fetch` unless given (history pages). */
  fetch?: FetchLike;
  /** Waits between reconnect attempts (500 ms doubling to 10 s, jittered, unless given). */
  reconnectBackoff?: BackoffOptions;
  /** The outbox's bounds: size, retries, ack timeout. */
  outbox?: OutboxOptions;
  /** Frames a second this client sends at most (10, burst 20, unless given; the server drops more than 20). */
  pace?: PacerOptions;
  /** Most history pages one recovery fetches (40), and messages asked per page (200). */
  recovery?: { maxPages?: number; pageLimit?: number };
  /** Log ids remembered to deliver each entry once (10,000 unless given). */
  dedupeCapacity?: number;
  /** Live log frames held back while a recovery fetches older ones, to deliver in order (5,000). */
  maxHeldFrames?: number;
  /** An attempt without a welcome for this long is dropped and retried (20 s unless given). */
  welcomeTimeoutMs?: number;
  /**
   * Where the socket shows the server's pings (`ws` does; browsers do not): a connection that
   * hears nothing, frame or ping, for this long is dropped and reconnected (75 s: the server
   * pings every 30 s by default). 0 turns it off.
   */
  heartbeatTimeoutMs?: number;
}

/**
 * - `idle`: not connected yet (call `connect()`);
 * - `connecting`: the first attempt is under way;
 * - `open`: welcomed: requests go out at once;
 * - `reconnecting`: the connection dropped, or an attempt failed; another follows;
 * - `closed`: for good (`close()`, or the server refused the room, the name, or the person).
 */
export type RoomStatus = 'idle' | 'connecting' | 'open' | 'reconnecting' | 'closed';

/** What a reply refers to. */
export interface SendOptions {
  /** The id of the message this one answers. */
  replyTo?: string;
  /** Your own id for the message (1–64 of A–Z a–z 0–9 _ -), to resend it safely across restarts. */
  clientMsgId?: string;
}

export interface ModerateOptions {
  /** A ban's or a mute's length (none: until lifted), or how far back a purge reaches. */
  durationSeconds?: number;
  /** Shown to the room. */
  reason?: string;
}

/** Error codes that say why the close that follows them is final. */
const REFUSAL_CODES: ReadonlySet<string> = new Set([
  'kicked',
  'banned',
  'invite_required',
  'room_full',
  'invalid_room',
  'invalid_name',
  'invalid_since',
]);

/** The server passes on one typing notice a second per person; more are ignored. */
const TYPING_INTERVAL_MS = 1_000;

export class ParleyRoom extends TypedEmitter<RoomEvents> {
  /** The room's name, normalised (`Lobby` is `lobby`). */
  readonly room: string;
  /** The display name this client connects with. */
  readonly name: string;
  /** The server's address as given. */
  readonly server: string;

  readonly #options: ParleyRoomOptions;
  readonly #base: ServerBase;
  readonly #outbox: Outbox;
  readonly #pacer: Pacer;
  readonly #seen: RecentIds;
  readonly #socket: ReconnectingSocket;
  #wakeTimer: ReturnType<typeof setTimeout> | undefined;

  #token: string | undefined;
  #me: WelcomeFrame['you'] | undefined;
  #welcome: WelcomeFrame | undefined;
  #welcomedBefore = false;
  /** The newest log id delivered (or covered by a welcome or page): the `since` of a reconnect. */
  #cursor: string | undefined;
  /** While a recovery fetches pages: the last id held with no hole before it (a reconnect asks from here). */
  #contiguous: string | undefined;
  /** The `since` the current attempt asked with. */
  #askedSince: string | undefined;
  #recovery: AbortController | null = null;
  /** Live log frames held back while a recovery delivers older ones; `null` when not holding. */
  #held: LogFrame[] | null = null;
  /** The error frame that said why the server is about to close for good. */
  #refusal: ParleyError | undefined;
  #lastTypingAt = -Infinity;
  #firstWelcome: {
    promise: Promise<WelcomeFrame>;
    resolve: (w: WelcomeFrame) => void;
    reject: (e: ParleyError) => void;
  };

  /**
   * @throws ParleyError `invalid_room` or `invalid_name` when the server would refuse them;
   *   TypeError when `server` is not an http(s) or ws(s) address.
   */
  constructor(options: ParleyRoomOptions) {
    super();
    const room = parseRoomName(options.room);
    if (!room.ok) throw new ParleyError('invalid_room', room.message);
    const name = parseDisplayName(options.name);
    if (!name.ok) throw new ParleyError('invalid_name', name.message);
    this.room = room.value;
    this.name = name.value;
    this.server = options.server;
    this.#base = serverBase(options.server);
    this.#options = options;
    this.#token = options.token;
    this.#cursor = options.since;
    this.#outbox = new Outbox(options.outbox);
    this.#pacer = new Pacer(options.pace ?? DEFAULT_PACE, Date.now());
    this.#seen = new RecentIds(options.dedupeCapacity);
    this.#socket = new ReconnectingSocket({
      target: () => this.#target(),
      onText: (data) => this.#receive(data),
      onLost: () => this.#connectionLost(),
      onRetry: ({ code, reason, retryInMs }) => this.emit('disconnect', { code, reason, retryInMs }),
      onEnd: (end) => this.#ended(end),
      ...(options.WebSocket === undefined ? {} : { WebSocket: options.WebSocket }),
      ...(options.reconnectBackoff === undefined ? {} : { backoff: options.reconnectBackoff }),
      welcomeTimeoutMs: options.welcomeTimeoutMs ?? 20_000,
      heartbeatTimeoutMs: options.heartbeatTimeoutMs ?? 75_000,
    });
    let resolve!: (w: WelcomeFrame) => void;
    let reject!: (e: ParleyError) => void;
    const promise = new Promise<WelcomeFrame>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    // Nobody may be waiting for it: a close before any welcome must not be an unhandled rejection.
    promise.catch(() => {});
    this.#firstWelcome = { promise, resolve, reject };
  }

  get status(): RoomStatus {
    return this.#socket.status;
  }

  /** The latest identity token: keep it (and pass it as `token` next time) to stay the same person. */
  get token(): string | undefined {
    return this.#token;
  }

  /** This client as the server knows it (id, name, role), from the latest welcome. */
  get me(): (User & { role?: WelcomeFrame['you']['role']; mutedUntil?: number }) | undefined {
    return this.#me;
  }

  /** The latest welcome (members, roles, settings as they were then). */
  get welcome(): WelcomeFrame | undefined {
    return this.#welcome;
  }

  /** The newest log id delivered: pass it as `since` to a later session to get what follows it. */
  get lastEventId(): string | undefined {
    return this.#cursor;
  }

  /** Requests waiting for the server's answer (or for the connection). */
  get pendingRequests(): number {
    return this.#outbox.size;
  }

  /**
   * Connects, and keeps connected until {@link close}.
   *
   * @returns The first welcome; rejects with a ParleyError if the room closes before one came.
   */
  connect(): Promise<WelcomeFrame> {
    this.#socket.start();
    return this.#firstWelcome.promise;
  }

  /** Closes the room for good; unanswered requests are rejected with `closed`. */
  close(): void {
    if (this.status === 'closed') return;
    this.#finish(1000, 'Closed by the client', undefined);
  }

  /** Reconnects now rather than at the end of the backoff (the network is back, say). */
  reconnectNow(): void {
    this.#socket.retryNow();
  }

  /**
   * Sends a message. It waits in the outbox while offline, and is sent again with its clientMsgId
   * after a reconnect, `unavailable` or `rate_limited` (the server stores it once).
   *
   * @returns The ack: the message's id. Rejects with a ParleyError: the server's code (`muted` with
   *   `until`, `slow_mode` with `retryAfterMs`, `read_only`, `too_large`…) or the client's
   *   (`outbox_full`, `timeout`, `closed`).
   */
  async send(text: string, options: SendOptions = {}): Promise<Ack> {
    const clientMsgId = options.clientMsgId ?? newClientMsgId();
    const frame: RequestFrame =
      options.replyTo === undefined
        ? { type: 'message', text, clientMsgId }
        : { type: 'message', text, clientMsgId, replyTo: options.replyTo };
    return ackOf(await this.#request(frame));
  }

  /** Replaces the text of one of this client's messages (within the server's edit window). */
  async edit(id: string, text: string): Promise<Ack> {
    return ackOf(await this.#request({ type: 'edit', id, text, clientMsgId: newClientMsgId() }));
  }

  /** Deletes a message: one's own, or any as the room's owner or a moderator. */
  async delete(id: string): Promise<Ack> {
    return ackOf(await this.#request({ type: 'delete', id, clientMsgId: newClientMsgId() }));
  }

  /** Adds this client's reaction (one emoji) to a message. */
  async react(id: string, emoji: string): Promise<Ack> {
    return ackOf(await this.#request({ type: 'react', id, emoji, clientMsgId: newClientMsgId() }));
  }

  /** Takes this client's reaction back. */
  async unreact(id: string, emoji: string): Promise<Ack> {
    return ackOf(await this.#request({ type: 'unreact', id, emoji, clientMsgId: newClientMsgId() }));
  }

  /** Kicks, bans, mutes, promotes… a person (the owner's and moderators'; see MODERATION_ACTIONS). */
  async moderate(action: ModerationAction, userId: string, options: ModerateOptions = {}): Promise<Ack> {
    return ackOf(
      await this.#request({
        type: 'moderate',
        action,
        userId,
        clientMsgId: newClientMsgId(),
        ...(options.durationSeconds === undefined ? {} : { durationSeconds: options.durationSeconds }),
        ...(options.reason === undefined ? {} : { reason: options.reason }),
      }),
    );
  }

  /** Changes the room's settings (the owner's): only the fields given change. */
  async configure(changes: Partial<RoomSettings>): Promise<Ack> {
    return ackOf(await this.#request({ type: 'settings', ...changes, clientMsgId: newClientMsgId() }));
  }

  /**
   * Asks for an invite to this room (the owner's and moderators').
   *
   * @param expiresInSeconds 60 s to 30 days; a day when absent.
   * @returns The invite frame: `invite` (pass it as the `invite` option), `url`, `expiresTs`.
   */
  async createInvite(expiresInSeconds?: number): Promise<InviteFrame> {
    const answer = await this.#request({
      type: 'invite',
      clientMsgId: newClientMsgId(),
      ...(expiresInSeconds === undefined ? {} : { expiresInSeconds }),
    });
    if (answer.type !== 'invite') throw new ParleyError('bad_server_frame', 'The server acked an invite request.');
    return answer;
  }

  /**
   * Tells the room this client is typing: at most once a second, and only while open.
   *
   * @returns Whether a notice went out.
   */
  typing(): boolean {
    const now = Date.now();
    if (this.status !== 'open' || now - this.#lastTypingAt < TYPING_INTERVAL_MS) return false;
    if (!this.#socket.writable || !this.#pacer.tryTake(now)) return false;
    this.#lastTypingAt = now;
    return this.#socket.send(encodeFrame({ type: 'typing' }));
  }

  /** A page of the room's history before `before` (scroll-back), or the latest page. */
  history(query: { before?: string; limit?: number } = {}): Promise<HistoryPage> {
    return fetchHistoryPage(this.server, this.room, query, this.#httpOptions());
  }

  protected override listenerFailed(event: keyof RoomEvents, error: unknown): void {
    // An `error` listener that throws, or none to tell: thrown on its own, as Node would.
    if (event === 'error' || this.listenerCount('error') === 0) super.listenerFailed(event, error);
    else
      this.emit(
        'error',
        new ParleyError('listener_failed', `A listener of "${String(event)}" threw: ${String(error)}`, {
          cause: error,
        }),
      );
  }

  // --- requests ---

  #request(frame: RequestFrame): Promise<AckFrame | InviteFrame> {
    if (this.status === 'closed')
      return Promise.reject(new ParleyError('closed', 'The room is closed.', { clientMsgId: frame.clientMsgId }));
    // The protocol's own schema, so nothing the server would refuse as malformed goes out.
    const checked = decodeWith(ClientFrameSchema, frame);
    if (!checked.ok)
      return Promise.reject(new ParleyError('bad_frame', checked.message, { clientMsgId: frame.clientMsgId }));
    if (frame.type === 'message' || frame.type === 'edit') {
      // The size limit is the server's to set (MAX_TEXT_BYTES); the character rules are fixed.
      const text = checkMessageText(frame.text, Number.POSITIVE_INFINITY);
      if (!text.ok) return Promise.reject(new ParleyError(text.code, text.message, { clientMsgId: frame.clientMsgId }));
    }
    const answer = this.#outbox.add(frame, Date.now());
    this.#flush();
    return answer;
  }

  /** Puts what the outbox has due on the wire, within the pace, and sets the timer for what follows. */
  #flush(): void {
    if (this.status !== 'open' || !this.#socket.writable) return;
    const now = Date.now();
    this.#outbox.expire(now);
    for (const frame of this.#outbox.due(now)) {
      if (!this.#pacer.tryTake(now)) break;
      this.#socket.send(encodeFrame(frame));
      this.#outbox.markSent(frame.clientMsgId, now);
    }
    this.#scheduleWake(now);
  }

  #scheduleWake(now: number = Date.now()): void {
    clearTimeout(this.#wakeTimer);
    this.#wakeTimer = undefined;
    if (this.status !== 'open') return;
    let at = this.#outbox.nextWakeAt();
    if (at === undefined) return;
    // Due already: only the pace holds it back.
    if (at <= now) at = this.#pacer.nextAt(now);
    this.#wakeTimer = setTimeout(() => this.#flush(), Math.max(0, at - now));
  }

  // --- connection ---

  /** The next attempt's address: `since` the newest id delivered with no hole before it, the latest token. */
  #target(): SocketTarget {
    const since = this.#contiguous ?? this.#cursor;
    this.#askedSince = since;
    this.#refusal = undefined;
    const url = roomSocketUrl(this.#base, this.room, {
      name: this.name,
      ...(since === undefined ? {} : { since }),
      ...(this.#options.invite === undefined ? {} : { invite: this.#options.invite }),
    });
    return { ok: true, url, protocols: connectProtocols(this.#token) };
  }

  /** The socket ended for good: the room closes, saying why. */
  #ended(end: SocketEnd): void {
    switch (end.kind) {
      case 'refused': {
        const error =
          this.#refusal ??
          new ParleyError('refused', end.reason || `The server closed the connection with ${end.code}.`, {
            closeCode: end.code,
          });
        this.#finish(end.code, end.reason || error.message, error);
        break;
      }
      case 'unsupported':
        this.#finish(
          1000,
          'Protocol not supported',
          new ParleyError('protocol_not_supported', `The server does not speak ${PROTOCOL_V1}.`),
        );
        break;
      case 'no-websocket':
        this.#finish(
          1000,
          'No WebSocket class',
          new ParleyError('protocol_not_supported', String(end.error), { cause: end.error }),
        );
        break;
      case 'bad-address':
        this.#finish(
          1000,
          'Cannot connect',
          new ParleyError('refused', `Cannot connect to ${end.url}: ${String(end.error)}`, { cause: end.error }),
        );
        break;
      case 'no-target':
        this.#finish(1000, end.reason, new ParleyError('refused', end.reason));
        break;
      default: {
        const unknown: never = end;
        throw new Error(`no handler for the end ${(unknown as { kind?: unknown }).kind}`);
      }
    }
  }

  /** Whatever depended on the connection stops; unanswered requests wait for the next welcome. */
  #connectionLost(): void {
    clearTimeout(this.#wakeTimer);
    this.#wakeTimer = undefined;
    // Pages may still come over HTTP, but the next welcome starts again from #contiguous, and
    // the live frames held back come again after it.
    this.#recovery?.abort();
    this.#recovery = null;
    this.#held = null;
    this.#outbox.connectionLost();
  }

  /** Closes for good. */
  #finish(code: number, reason: string, error: ParleyError | undefined): void {
    // No attempt follows; the socket, if there is one, is closed with 1000 and the reason.
    this.#socket.dispose(1000, reason);
    this.#connectionLost();
    this.#outbox.rejectAll(
      (clientMsgId) =>
        new ParleyError('closed', `The room closed before the server answered: ${reason}.`, {
          clientMsgId,
          ...(error === undefined ? {} : { cause: error }),
        }),
    );
    this.#firstWelcome.reject(error ?? new ParleyError('closed', `The room closed: ${reason}.`, { closeCode: code }));
    this.emit('close', error === undefined ? { code, reason } : { code, reason, error });
  }

  // --- frames ---

  #receive(data: string): void {
    const decoded = decodeServerFrame(data);
    if (!decoded.ok) {
      // An error frame with a code this build does not know (a newer server's) still says something.
      const loose = looseError(data);
      if (loose !== undefined) this.#onError(loose);
      else
        this.emit('error', new ParleyError('bad_server_frame', `Ignored a frame from the server: ${decoded.message}`));
      return;
    }
    const frame = decoded.value;
    this.emit('frame', frame);
    switch (frame.type) {
      case 'welcome':
        this.#onWelcome(frame);
        break;
      case 'message':
      case 'edit':
      case 'delete':
      case 'reactions':
      case 'moderation':
      case 'settings':
        this.#onLiveEntry(frame);
        break;
      case 'webhook':
        // A change of the room's webhook is an entry of its log; the owner's answers are not.
        if (isLogFrame(frame)) this.#onLiveEntry(frame);
        else this.emit('webhook', frame);
        break;
      case 'ack':
      case 'invite':
        // The answer to a request: its promise resolves, and the frame is passed on too.
        this.#outbox.settle(frame);
        this.#passOn(frame);
        break;
      case 'error':
        this.#onError(frame);
        break;
      default:
        // join, leave, typing, status, and any frame type the protocol adds: passed on as its event.
        this.#passOn(frame);
    }
  }

  /** Emits a frame as the event named after its type (see FrameEvents). */
  #passOn(frame: PassedOnFrame): void {
    // The compiler cannot pair a union's type with its own event's arguments: FrameEvents does.
    (this.emit as (event: PassedOnFrame['type'], frame: PassedOnFrame) => void)(frame.type, frame);
  }

  #onWelcome(welcome: WelcomeFrame): void {
    const asked = this.#askedSince;
    const reconnected = this.#welcomedBefore;
    this.#welcomedBefore = true;
    this.#welcome = welcome;
    this.#me = welcome.you;
    this.#token = welcome.token;
    this.#contiguous = undefined;
    this.#socket.welcomed();
    this.emit('welcome', welcome);
    this.emit('token', welcome.token);

    this.#deliverBatch(welcome, asked === undefined ? 'history' : 'recovery');
    const covered = newestInBatch(welcome);
    // An empty room: whatever comes later is after "0-0", the id before every message.
    this.#cursor ??= '0-0';

    this.emit('open', { welcome, reconnected });
    this.#firstWelcome.resolve(welcome);
    const gap = asked !== undefined && !welcome.recovered;
    const after = covered ?? asked;
    if (welcome.hasNewer === true && after !== undefined) this.#startRecovery(after, gap);
    else if (asked !== undefined) this.emit('recovered', { complete: !gap, pages: 0 });
    // Everything unanswered goes out now, with its clientMsgId: the server stores each once.
    this.#flush();
  }

  /**
   * Fetches what the welcome could not carry, page by page. Live log frames are held back
   * meanwhile and delivered after the pages, so that every entry comes in the room's order.
   */
  #startRecovery(after: string, gapSoFar: boolean): void {
    const controller = new AbortController();
    this.#recovery = controller;
    this.#contiguous = after;
    this.#held = [];
    const pageLimit = this.#options.recovery?.pageLimit ?? RECOVERY_PAGE_LIMIT;
    void recoverAfter(
      after,
      {
        fetchAfter: (cursor, signal) =>
          fetchHistoryPage(
            this.server,
            this.room,
            { after: cursor, limit: pageLimit },
            { ...this.#httpOptions(), signal },
          ),
        onPage: (page, cursor) => {
          if (this.#recovery !== controller) return;
          this.#deliverBatch(page, 'recovery');
          this.#contiguous = cursor;
        },
      },
      controller.signal,
      this.#options.recovery?.maxPages ?? MAX_RECOVERY_PAGES,
    ).then((outcome) => {
      // Aborted: the connection dropped, and the next welcome takes over from #contiguous.
      if (this.#recovery !== controller || outcome.kind === 'aborted') return;
      this.#recovery = null;
      this.#contiguous = undefined;
      this.#releaseHeld();
      if (outcome.kind === 'incomplete')
        this.emit(
          'error',
          new ParleyError('recovery_failed', `Some missed messages could not be fetched: ${outcome.reason}`, {
            cause: outcome.cause,
          }),
        );
      const complete = outcome.kind === 'complete' && !outcome.gap && !gapSoFar;
      this.emit('recovered', { complete, pages: outcome.pages });
    });
  }

  /** Delivers the live frames held back during a recovery (those the pages had are duplicates). */
  #releaseHeld(): void {
    const held = this.#held ?? [];
    this.#held = null;
    for (const frame of held) this.#deliver(frame, 'live');
  }

  #onLiveEntry(frame: LogFrame): void {
    if (this.#held !== null) {
      if (this.#held.length < (this.#options.maxHeldFrames ?? 5_000)) {
        this.#held.push(frame);
        return;
      }
      // Too many to hold: from here on the pages' entries come after newer live ones (still once).
      this.#releaseHeld();
    }
    this.#deliver(frame, 'live');
  }

  #deliverBatch(batch: LogBatch, source: LogSource): void {
    for (const frame of batchFrames(batch)) this.#deliver(frame, source);
    this.#cursor = newestId([this.#cursor, newestInBatch(batch)]);
  }

  /** Delivers a log entry once: a duplicate (by its log id) is dropped. */
  #deliver(frame: LogFrame, source: LogSource): void {
    const id = logId(frame);
    if (!this.#seen.add(id)) return;
    this.#cursor = newestId([this.#cursor, id]);
    const context = { source };
    switch (frame.type) {
      case 'message':
        this.emit('message', frame, context);
        break;
      case 'edit':
        this.emit('edit', frame, context);
        break;
      case 'delete':
        this.emit('delete', frame, context);
        break;
      case 'reactions':
        this.emit('reactions', frame, context);
        break;
      case 'moderation':
        this.emit('moderation', frame, context);
        break;
      case 'settings':
        this.emit('settings', frame, context);
        break;
      case 'webhook':
        this.emit('webhook', frame, context);
        break;
      default: {
        const unknown: never = frame;
        throw new Error(`no handler for the log frame ${(unknown as { type?: unknown }).type}`);
      }
    }
  }

  #onError(frame: LooseErrorFrame): void {
    const outcome = this.#outbox.refuse(frame, Date.now());
    if (outcome === 'retrying') {
      this.#scheduleWake();
      return;
    }
    // A request's own refusal rejects its promise.
    if (outcome === 'rejected') return;
    const error = ParleyError.fromFrame(frame);
    // The close that follows is final: this says why.
    if (REFUSAL_CODES.has(frame.code)) this.#refusal = error;
    this.emit('error', error);
  }

  /** The room's pages are read as this person (the latest token): an invite-only room lets only its people read. */
  #httpOptions(): { fetch?: FetchLike; token?: string } {
    return {
      ...(this.#options.fetch === undefined ? {} : { fetch: this.#options.fetch }),
      ...(this.#token === undefined ? {} : { token: this.#token }),
    };
  }
}

function ackOf(answer: AckFrame | InviteFrame): Ack {
  if (answer.type !== 'ack') throw new ParleyError('bad_server_frame', 'The server answered a request with an invite.');
  return { id: answer.id, clientMsgId: answer.clientMsgId };
}

/** An error frame this build cannot decode (an unknown code), read loosely; `undefined` when not one. */
function looseError(data: string): LooseErrorFrame | undefined {
  const json = decodeJson(data);
  if (!json.ok || typeof json.value !== 'object' || json.value === null) return undefined;
  const value = json.value as Record<string, unknown>;
  if (value['type'] !== 'error' || typeof value['code'] !== 'string' || typeof value['message'] !== 'string')
    return undefined;
  const frame: LooseErrorFrame = { type: 'error', code: value['code'], message: value['message'] };
  if (typeof value['clientMsgId'] === 'string') frame.clientMsgId = value['clientMsgId'];
  if (typeof value['until'] === 'number') frame.until = value['until'];
  if (typeof value['retryAfterMs'] === 'number') frame.retryAfterMs = value['retryAfterMs'];
  return frame;
}

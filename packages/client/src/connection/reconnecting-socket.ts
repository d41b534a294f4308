/**
 * One room's WebSocket, kept open: the transport under {@link ParleyRoom} and under the web app's
 * room connection. It opens with the URL and subprotocols a callback gives for each attempt
 * (`since` moves on, the token is renewed), tries again with full-jitter backoff when the
 * connection drops or an attempt fails (an upgrade refused with HTTP 429 or 503 is only a failed
 * connection to a browser), at once when the browser comes back online, and drops a connection
 * the browser knows is offline. It gives up only when trying again is pointless: the server
 * refused the room, the name or `since` (4400), closed for a broken rule (1008), or a moderator
 * removed the person (4403); the server does not speak the protocol; no socket can be made.
 *
 * What the frames mean is the owner's business: it hears of text frames, of a connection lost,
 * of the next attempt and of the end, and says when the server has welcomed the connection
 * ({@link ReconnectingSocket.welcomed}), which makes it `open` and starts the backoff over.
 */
import { CLOSE_CODES, PROTOCOL_V1 } from '@parley/protocol';
import { backoffDelay, RECONNECT_BACKOFF, type BackoffOptions } from './backoff.ts';
import {
  CONNECTING,
  OPEN,
  platformWebSocket,
  resolveWebSocket,
  watchPings,
  type WebSocketConstructor,
  type WebSocketLike,
} from './websocket.ts';

/**
 * - `idle`: not started;
 * - `connecting`: the first attempt (or the first after {@link ReconnectingSocket.restart}) is under way;
 * - `open`: welcomed (see {@link ReconnectingSocket.welcomed});
 * - `reconnecting`: the connection dropped, or an attempt failed; another follows;
 * - `closed`: ended for good, or disposed.
 */
export type SocketStatus = 'idle' | 'connecting' | 'open' | 'reconnecting' | 'closed';

/** Close codes after which trying again as is would be refused again, or undo a moderator's decision. */
export const FINAL_CLOSE_CODES: ReadonlySet<number> = new Set([
  CLOSE_CODES.badRequest,
  CLOSE_CODES.policyViolation,
  CLOSE_CODES.removed,
]);

/** Where the next attempt connects to, or why no attempt can be made (which ends the socket). */
export type SocketTarget = { ok: true; url: string; protocols: string[] } | { ok: false; reason: string };

/** A connection that went away: the close event's code and reason (1006 when none came). */
export interface SocketClose {
  code: number;
  reason: string;
}

/** Why the socket ended for good (never said for {@link ReconnectingSocket.dispose}). */
export type SocketEnd =
  /** The server closed with a final code (see {@link FINAL_CLOSE_CODES}). */
  | { kind: 'refused'; code: number; reason: string }
  /** The server selected another subprotocol than the one expected (or none). */
  | { kind: 'unsupported'; protocol: string }
  /** The target callback said why no attempt can be made. */
  | { kind: 'no-target'; reason: string }
  /** There is no WebSocket class: none given, none on the platform, none to load. */
  | { kind: 'no-websocket'; error: unknown }
  /** The WebSocket constructor refused the address (a malformed one: trying again cannot fix it). */
  | { kind: 'bad-address'; url: string; error: unknown };

/** Where `online` and `offline` events come from: the browser's `window`. */
export interface NetworkEvents {
  addEventListener(type: 'online' | 'offline', listener: () => void): void;
  removeEventListener(type: 'online' | 'offline', listener: () => void): void;
}

export interface ReconnectingSocketOptions {
  /** The URL and subprotocols of the next attempt, asked before each one. */
  target: () => SocketTarget;
  /** A text frame came. */
  onText: (data: string) => void;
  /** The connection went away (closed, dropped as dead, or offline); see `onRetry` and `onEnd` for what follows. */
  onLost?: (close: SocketClose) => void;
  /** Another attempt follows in `retryInMs`. */
  onRetry?: (info: SocketClose & { retryInMs: number }) => void;
  /** Ended for good: no attempt follows until {@link ReconnectingSocket.restart}. */
  onEnd?: (end: SocketEnd) => void;
  /** `status` or `attempts` changed (for reactive wrappers). */
  onChange?: () => void;
  /** The WebSocket class: the platform's when there is one, else (the Node entry) `ws`'s. */
  WebSocket?: WebSocketConstructor;
  /** Waits between attempts (500 ms doubling to 10 s, jittered, unless given). */
  backoff?: BackoffOptions;
  /** The subprotocol the server must select (`parley.v1` unless given). */
  protocol?: string;
  /** An attempt not welcomed within this long is dropped and tried again (0, the default: no limit). */
  welcomeTimeoutMs?: number;
  /**
   * Where the socket shows the server's pings (`ws` does; browsers do not): a connection that
   * hears nothing, frame or ping, for this long is dropped and tried again (0, the default: off).
   */
  heartbeatTimeoutMs?: number;
  /** Where `online`/`offline` come from: `window` in browsers unless given; `null`: nowhere. */
  network?: NetworkEvents | null;
}

export class ReconnectingSocket {
  readonly #options: ReconnectingSocketOptions;
  readonly #network: NetworkEvents | undefined;
  /** The class loaded where the platform has none (`ws`), once. */
  #loaded: WebSocketConstructor | undefined;
  #status: SocketStatus = 'idle';
  /** Failed attempts since the last welcome (the backoff grows with them). */
  #attempts = 0;
  #socket: WebSocketLike | null = null;
  #retryTimer: ReturnType<typeof setTimeout> | undefined;
  #welcomeTimer: ReturnType<typeof setTimeout> | undefined;
  #heartbeatTimer: ReturnType<typeof setTimeout> | undefined;
  #disposed = false;

  constructor(options: ReconnectingSocketOptions) {
    this.#options = options;
    this.#network = options.network === undefined ? browserWindow() : (options.network ?? undefined);
  }

  get status(): SocketStatus {
    return this.#status;
  }

  /** Failed attempts since the last welcome. */
  get attempts(): number {
    return this.#attempts;
  }

  /** Whether a frame sent now goes out (the socket is open; it may not be welcomed yet). */
  get writable(): boolean {
    return this.#socket?.readyState === OPEN;
  }

  /** Makes the first attempt, and follows the browser's online/offline events until {@link dispose}. */
  start(): void {
    if (this.#status !== 'idle' || this.#disposed) return;
    this.#network?.addEventListener('online', this.#onOnline);
    this.#network?.addEventListener('offline', this.#onOffline);
    this.#setStatus('connecting');
    this.#open();
  }

  /**
   * Connects again after the end (the person chose to come back to a room they were removed from).
   *
   * @returns Whether it did: not when it has not ended, or was disposed.
   */
  restart(): boolean {
    if (this.#disposed || this.#status !== 'closed') return false;
    this.#attempts = 0;
    this.#setStatus('connecting');
    this.#open();
    return true;
  }

  /** The server welcomed the connection: it is usable (`open`), and the backoff starts over. */
  welcomed(): void {
    clearTimeout(this.#welcomeTimer);
    this.#welcomeTimer = undefined;
    this.#attempts = 0;
    this.#setStatus('open');
  }

  /** Tries again now rather than at the end of the backoff ("Try now", back online). */
  retryNow(): void {
    if (this.#status !== 'reconnecting' || this.#retryTimer === undefined) return;
    clearTimeout(this.#retryTimer);
    this.#open();
  }

  /**
   * Sends a text frame if the socket is open.
   *
   * @returns `false` when it is not.
   */
  send(data: string): boolean {
    const socket = this.#socket;
    if (socket === null || socket.readyState !== OPEN) return false;
    socket.send(data);
    return true;
  }

  /** Closes for good (with `code` and `reason` to the server), and stops following the network. */
  dispose(code = 1000, reason = 'Closed'): void {
    if (this.#disposed) return;
    this.#disposed = true;
    this.#network?.removeEventListener('online', this.#onOnline);
    this.#network?.removeEventListener('offline', this.#onOffline);
    this.#clearRetry();
    this.#drop(code, reason);
    this.#setStatus('closed');
  }

  #open(): void {
    this.#retryTimer = undefined;
    // The platform's class is looked up for every attempt, not kept: a page may replace it
    // meanwhile (Playwright's routeWebSocket does), and the next socket must be the new one's.
    const WebSocket = this.#options.WebSocket ?? platformWebSocket() ?? this.#loaded;
    if (WebSocket !== undefined) {
      this.#connect(WebSocket);
      return;
    }
    // Node 20: `ws`, loaded once (the browser entry has no loader, and ends here).
    resolveWebSocket(undefined).then(
      (found) => {
        this.#loaded = found;
        if (this.#status !== 'closed') this.#connect(found);
      },
      (error: unknown) => {
        if (this.#status !== 'closed') this.#end({ kind: 'no-websocket', error });
      },
    );
  }

  #connect(WebSocket: WebSocketConstructor): void {
    const target = this.#options.target();
    if (!target.ok) {
      this.#end({ kind: 'no-target', reason: target.reason });
      return;
    }
    let socket: WebSocketLike;
    try {
      socket = new WebSocket(target.url, target.protocols);
    } catch (error) {
      // Only a malformed address throws here; trying again cannot fix it.
      this.#end({ kind: 'bad-address', url: target.url, error });
      return;
    }
    this.#socket = socket;
    const welcomeTimeoutMs = this.#options.welcomeTimeoutMs ?? 0;
    if (welcomeTimeoutMs > 0)
      this.#welcomeTimer = setTimeout(() => {
        if (socket === this.#socket) this.#abandon(`No welcome within ${welcomeTimeoutMs} ms`);
      }, welcomeTimeoutMs);
    if (
      (this.#options.heartbeatTimeoutMs ?? 0) > 0 &&
      watchPings(socket, () => socket === this.#socket && this.#heard())
    )
      this.#heard();
    socket.onopen = () => {
      if (socket !== this.#socket) return;
      // A server without the protocol would talk another one (the reference one) and never welcome us.
      const expected = this.#options.protocol ?? PROTOCOL_V1;
      if (socket.protocol !== expected) {
        this.#drop(1000, 'Protocol not supported');
        this.#end({ kind: 'unsupported', protocol: socket.protocol });
      }
    };
    socket.onmessage = (event) => {
      if (socket !== this.#socket) return;
      if (this.#heartbeatTimer !== undefined) this.#heard();
      if (typeof event.data === 'string') this.#options.onText(event.data);
    };
    socket.onclose = (event) => {
      if (socket === this.#socket) this.#closed(event.code, event.reason);
    };
    // An error is always followed by a close event, which does the bookkeeping.
    socket.onerror = () => {};
  }

  /** Something came from the server: it is alive. */
  #heard(): void {
    const timeoutMs = this.#options.heartbeatTimeoutMs ?? 0;
    if (timeoutMs <= 0) return;
    clearTimeout(this.#heartbeatTimer);
    const socket = this.#socket;
    this.#heartbeatTimer = setTimeout(() => {
      if (socket === this.#socket) this.#abandon(`Nothing heard from the server for ${timeoutMs} ms`);
    }, timeoutMs);
  }

  /** The socket closed. */
  #closed(code: number, reason: string): void {
    this.#socket = null;
    this.#lost({ code, reason });
    if (this.#status === 'closed') return;
    if (FINAL_CLOSE_CODES.has(code)) this.#end({ kind: 'refused', code, reason });
    else this.#scheduleRetry(code, reason);
  }

  /** Drops a connection that looks dead (or that the browser knows is offline), and tries again. */
  #abandon(reason: string, closeCode = 4000): void {
    this.#drop(closeCode, reason);
    // No close frame came back: the connection is gone abnormally.
    this.#lost({ code: 1006, reason });
    if (this.#status !== 'closed') this.#scheduleRetry(1006, reason);
  }

  #lost(close: SocketClose): void {
    this.#clearConnectionTimers();
    this.#options.onLost?.(close);
  }

  #scheduleRetry(code: number, reason: string): void {
    if (this.#disposed) return;
    const delay = backoffDelay(this.#attempts, this.#options.backoff ?? RECONNECT_BACKOFF);
    this.#attempts += 1;
    this.#clearRetry();
    this.#retryTimer = setTimeout(() => this.#open(), delay);
    this.#setStatus('reconnecting');
    this.#options.onRetry?.({ code, reason, retryInMs: delay });
  }

  /** Ends for good (until {@link restart}). */
  #end(end: SocketEnd): void {
    this.#clearRetry();
    this.#clearConnectionTimers();
    this.#setStatus('closed');
    this.#options.onEnd?.(end);
  }

  #drop(code: number, reason: string): void {
    const socket = this.#socket;
    this.#socket = null;
    this.#clearConnectionTimers();
    if (socket === null) return;
    socket.onopen = socket.onmessage = socket.onclose = null;
    // `ws` reports closing a socket still connecting as an error: it must have a listener.
    socket.onerror = () => {};
    if (socket.readyState === CONNECTING || socket.readyState === OPEN) socket.close(code, reason);
  }

  #clearRetry(): void {
    clearTimeout(this.#retryTimer);
    this.#retryTimer = undefined;
  }

  #clearConnectionTimers(): void {
    clearTimeout(this.#welcomeTimer);
    clearTimeout(this.#heartbeatTimer);
    this.#welcomeTimer = this.#heartbeatTimer = undefined;
  }

  #setStatus(status: SocketStatus): void {
    this.#status = status;
    this.#options.onChange?.();
  }

  // Back online: do not sit out the rest of a long backoff.
  #onOnline = (): void => this.retryNow();

  // The browser knows the network is gone before TCP does; a socket left open would swallow
  // whatever is sent meanwhile. Drop it and let requests wait (engine.io-client does the same).
  #onOffline = (): void => {
    if (this.#socket === null || this.#status === 'closed') return;
    this.#abandon('Browser went offline', 1000);
  };
}

/** The browser's window, where there is one (not in Node). */
function browserWindow(): NetworkEvents | undefined {
  const candidate = (globalThis as { window?: Partial<NetworkEvents> }).window;
  return typeof candidate?.addEventListener === 'function' ? (candidate as NetworkEvents) : undefined;
}

/**
 * One room's WebSocket over `parley.v1`, kept open: it reconnects with full-jitter backoff when
 * the connection drops (or an upgrade is refused, e.g. with HTTP 429 or 503, which a browser
 * only sees as a failed connection), at once when the browser comes back online, and gives up
 * only when the server refuses the room or the name (4400), closes for a broken rule (1008), or
 * a moderator removed or banned the reader (4403): coming back is then the person's choice.
 * What the frames mean is {@link RoomConnection}'s business.
 */
import { CLOSE_CODES, PROTOCOL_V1 } from '@parley/protocol';
import { backoffDelay, RECONNECT_BACKOFF, type BackoffOptions } from '@parley/client';

/**
 * - `connecting`: the first attempt is under way (until the first welcome).
 * - `connected`: welcomed; messages go out at once.
 * - `reconnecting`: the connection dropped (or never opened); waiting for or making a retry.
 * - `closed`: given up (the server refused the room or the name) or disposed; no more retries.
 */
export type ConnectionStatus = 'connecting' | 'connected' | 'reconnecting' | 'closed';

export interface RoomSocketOptions {
  /**
   * The URL and subprotocols for the next attempt (they change: `since` moves on, the token is
   * renewed), or why none can be built. The subprotocols start with `parley.v1`.
   */
  url: () => { ok: true; url: string; protocols: string[] } | { ok: false; reason: string };
  /** A text frame arrived. */
  onText: (data: string) => void;
  /** The connection went away, for whatever reason; a retry may follow. */
  onLost: () => void;
  /**
   * The server refused the room or the name (close code 4400), closed the connection because
   * this client broke a rule (1008), or a moderator removed the reader (4403): trying again as
   * is would be refused again, or would undo what the moderator did.
   *
   * @returns Why, for people.
   */
  onRefused: (event: CloseEvent) => string;
  createSocket?: (url: string, protocols: string[]) => WebSocket;
  backoff?: BackoffOptions;
}

export class RoomSocket {
  status = $state<ConnectionStatus>('connecting');
  /** Why the connection is `closed`, for people. */
  closeReason = $state<string | null>(null);
  /** Failed attempts since the last welcome. */
  attempts = $state(0);

  readonly #options: RoomSocketOptions;
  readonly #createSocket: (url: string, protocols: string[]) => WebSocket;
  #socket: WebSocket | null = null;
  #retryTimer: ReturnType<typeof setTimeout> | null = null;
  #started = false;
  #disposed = false;

  constructor(options: RoomSocketOptions) {
    this.#options = options;
    this.#createSocket = options.createSocket ?? ((url, protocols) => new WebSocket(url, protocols));
  }

  /** Opens the connection and starts following the browser's online/offline events. */
  start(): void {
    if (this.#started || this.#disposed) return;
    this.#started = true;
    window.addEventListener('online', this.#onOnline);
    window.addEventListener('offline', this.#onOffline);
    this.#connect();
  }

  /** Closes the connection for good. */
  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    window.removeEventListener('online', this.#onOnline);
    window.removeEventListener('offline', this.#onOffline);
    this.#clearRetry();
    this.#drop(1000, 'Left the room');
    this.status = 'closed';
  }

  /** Sends a text frame if the socket is open; `false` when it is not. */
  send(data: string): boolean {
    const socket = this.#socket;
    if (socket === null || socket.readyState !== WebSocket.OPEN) return false;
    socket.send(data);
    return true;
  }

  /** The server welcomed us: the connection is usable, and the backoff starts over. */
  welcomed(): void {
    this.status = 'connected';
    this.attempts = 0;
    this.closeReason = null;
  }

  /** Gives up for good, with a reason for people. */
  fail(reason: string): void {
    this.#clearRetry();
    this.closeReason = reason;
    this.status = 'closed';
  }

  /** Connects again after giving up (the person chose to rejoin a room they were removed from). */
  restart(): void {
    if (this.#disposed || this.status !== 'closed') return;
    this.closeReason = null;
    this.attempts = 0;
    this.status = 'connecting';
    this.#connect();
  }

  /** Tries again now rather than at the end of the backoff ("Try now", or back online). */
  retryNow(): void {
    if (this.status === 'reconnecting' && this.#retryTimer !== null) {
      this.#clearRetry();
      this.#connect();
    }
  }

  #connect(): void {
    this.#retryTimer = null;
    const target = this.#options.url();
    if (!target.ok) {
      this.fail(target.reason);
      return;
    }
    let socket: WebSocket;
    try {
      socket = this.#createSocket(target.url, target.protocols);
    } catch (error) {
      // Only a malformed URL throws here; retrying cannot fix it.
      this.fail(`Cannot connect to the server: ${error instanceof Error ? error.message : String(error)}`);
      return;
    }
    this.#socket = socket;
    socket.onopen = () => {
      if (socket !== this.#socket) return;
      // A server without parley.v1 would talk the reference protocol and never welcome us.
      if (socket.protocol !== PROTOCOL_V1) {
        this.#drop(1000, 'Protocol not supported');
        this.fail(`The server does not speak ${PROTOCOL_V1}.`);
      }
    };
    socket.onmessage = (event: MessageEvent) => {
      if (socket === this.#socket && typeof event.data === 'string') this.#options.onText(event.data);
    };
    socket.onclose = (event: CloseEvent) => {
      if (socket !== this.#socket) return;
      this.#socket = null;
      this.#options.onLost();
      if (
        event.code === CLOSE_CODES.badRequest ||
        event.code === CLOSE_CODES.policyViolation ||
        event.code === CLOSE_CODES.removed
      )
        this.fail(this.#options.onRefused(event));
      else this.#scheduleRetry();
    };
    // An error is always followed by a close event, which does the bookkeeping.
    socket.onerror = () => {};
  }

  #scheduleRetry(): void {
    if (this.#disposed) return;
    this.status = 'reconnecting';
    const delay = backoffDelay(this.attempts, this.#options.backoff ?? RECONNECT_BACKOFF);
    this.attempts += 1;
    this.#clearRetry();
    this.#retryTimer = setTimeout(() => this.#connect(), delay);
  }

  #clearRetry(): void {
    if (this.#retryTimer !== null) clearTimeout(this.#retryTimer);
    this.#retryTimer = null;
  }

  #drop(code: number, reason: string): void {
    const socket = this.#socket;
    this.#socket = null;
    if (socket === null) return;
    socket.onopen = socket.onmessage = socket.onclose = socket.onerror = null;
    if (socket.readyState === WebSocket.CONNECTING || socket.readyState === WebSocket.OPEN) socket.close(code, reason);
  }

  // Back online: do not sit out the rest of a long backoff.
  #onOnline = (): void => this.retryNow();

  // The browser knows the network is gone before TCP does; a socket left open would swallow
  // whatever is sent meanwhile. Drop it and let messages wait (engine.io-client does the same).
  #onOffline = (): void => {
    if (this.#socket === null || this.status === 'closed') return;
    this.#drop(1000, 'Browser went offline');
    this.#options.onLost();
    this.#scheduleRetry();
  };
}

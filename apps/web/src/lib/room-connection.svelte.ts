/**
 * One chat room's WebSocket, with reconnects, as reactive state for the Room view.
 *
 * The wire format lives in a {@link ChatProtocol}; the socket comes from a factory. Both are
 * options so that a later protocol (or a test double) can be swapped in without touching the
 * lifecycle here.
 */
import { checkMessageText } from '@parley/protocol';
import { backoffDelay, DEFAULT_BACKOFF, type BackoffOptions } from './backoff.ts';
import { referenceProtocol, type ChatProtocol } from './chat-protocol.ts';

/**
 * - `connecting`: the first attempt is under way.
 * - `connected`: the socket is open; messages go out at once.
 * - `reconnecting`: the connection dropped (or never opened); waiting for or making a retry.
 * - `closed`: given up (the server refused the room) or disposed; no more retries.
 */
export type ConnectionStatus = 'connecting' | 'connected' | 'reconnecting' | 'closed';

/** A message as the log shows it; `id` is local to this page and only keys the list. */
export interface ChatEntry {
  id: number;
  text: string;
}

/** A message typed while disconnected, sent when the connection is back. */
export interface PendingMessage {
  id: number;
  text: string;
}

/** The latest problem the server reported about something this client sent. */
export interface ServerProblem {
  code: string;
  message: string;
}

/** The outcome of {@link RoomConnection.send}. */
export type SendResult = { ok: true; queued: boolean } | { ok: false; message: string };

export interface RoomConnectionOptions {
  /** The WebSocket URL of the room, e.g. from `socketUrl()`. */
  url: string;
  protocol?: ChatProtocol;
  createSocket?: (url: string, protocols: string[]) => WebSocket;
  backoff?: BackoffOptions;
  /** How many messages the log keeps; older ones are dropped to bound memory. */
  maxMessages?: number;
}

// Close codes 4000–4999 are Parley's own (see CLOSE_CODES in @parley/protocol): the server
// refused this room or this client, and retrying the same URL would only be refused again.
function isFatalClose(code: number): boolean {
  return code >= 4000 && code <= 4999;
}

export class RoomConnection {
  status = $state<ConnectionStatus>('connecting');
  messages = $state.raw<ChatEntry[]>([]);
  outbox = $state.raw<PendingMessage[]>([]);
  serverProblem = $state.raw<ServerProblem | null>(null);
  /** Why the connection is `closed`, for people. */
  closeReason = $state<string | null>(null);
  /** Failed attempts since the last successful open. */
  attempts = $state(0);

  readonly url: string;
  readonly #protocol: ChatProtocol;
  readonly #createSocket: (url: string, protocols: string[]) => WebSocket;
  readonly #backoff: BackoffOptions;
  readonly #maxMessages: number;
  #socket: WebSocket | null = null;
  #retryTimer: ReturnType<typeof setTimeout> | null = null;
  #nextId = 1;
  #started = false;
  #disposed = false;

  constructor(options: RoomConnectionOptions) {
    this.url = options.url;
    this.#protocol = options.protocol ?? referenceProtocol;
    this.#createSocket = options.createSocket ?? ((url, protocols) => new WebSocket(url, protocols));
    this.#backoff = options.backoff ?? DEFAULT_BACKOFF;
    this.#maxMessages = options.maxMessages ?? 1000;
  }

  /** Opens the connection and starts following the browser's online/offline events. */
  start(): void {
    if (this.#started || this.#disposed) return;
    this.#started = true;
    window.addEventListener('online', this.#onOnline);
    window.addEventListener('offline', this.#onOffline);
    this.#connect();
  }

  /** Closes the connection for good; call when the view goes away. */
  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    window.removeEventListener('online', this.#onOnline);
    window.removeEventListener('offline', this.#onOffline);
    this.#clearRetry();
    this.#dropSocket(1000, 'Left the room');
    this.status = 'closed';
  }

  /**
   * Sends a message now, or queues it while disconnected; the queue is flushed in order as soon
   * as the connection is back.
   *
   * @param text What the user typed.
   * @returns Whether it was accepted (sent or queued), or why not.
   */
  send(text: string): SendResult {
    const checked = checkMessageText(text);
    if (!checked.ok) return { ok: false, message: checked.message };
    if (this.status === 'closed') return { ok: false, message: this.closeReason ?? 'The connection is closed.' };
    this.serverProblem = null;
    const socket = this.#socket;
    if (this.status === 'connected' && socket !== null && socket.readyState === WebSocket.OPEN) {
      socket.send(this.#protocol.encodeMessage(checked.value));
      return { ok: true, queued: false };
    }
    this.outbox = [...this.outbox, { id: this.#nextId++, text: checked.value }];
    return { ok: true, queued: true };
  }

  /** Forgets the last server problem (the user dismissed it). */
  dismissProblem(): void {
    this.serverProblem = null;
  }

  #connect(): void {
    this.#retryTimer = null;
    let socket: WebSocket;
    try {
      socket = this.#createSocket(this.url, [...this.#protocol.subprotocols]);
    } catch (error) {
      // Only a malformed URL throws here; retrying cannot fix it.
      this.#fail(`Cannot connect to ${this.url}: ${error instanceof Error ? error.message : String(error)}`);
      return;
    }
    this.#socket = socket;
    socket.onopen = () => {
      if (socket !== this.#socket) return;
      this.attempts = 0;
      this.status = 'connected';
      this.#flush(socket);
    };
    socket.onmessage = (event: MessageEvent) => {
      if (socket !== this.#socket || typeof event.data !== 'string') return;
      this.#receive(event.data);
    };
    socket.onclose = (event: CloseEvent) => {
      if (socket !== this.#socket) return;
      this.#socket = null;
      if (isFatalClose(event.code)) {
        this.#fail(event.reason || this.serverProblem?.message || `The server closed the connection (code ${event.code}).`);
      } else {
        this.#scheduleRetry();
      }
    };
    // An error is always followed by a close event, which does the bookkeeping.
    socket.onerror = () => {};
  }

  #receive(data: string): void {
    const event = this.#protocol.decode(data);
    switch (event.kind) {
      case 'message': {
        const next = [...this.messages, { id: this.#nextId++, text: event.text }];
        this.messages = next.length > this.#maxMessages ? next.slice(-this.#maxMessages) : next;
        break;
      }
      case 'error':
        this.serverProblem = { code: event.code, message: event.message };
        break;
      case 'unknown':
        console.warn(`[parley] ignored a frame (${this.#protocol.name} protocol): ${event.reason}`);
        break;
    }
  }

  #flush(socket: WebSocket): void {
    const pending = this.outbox;
    if (pending.length === 0) return;
    for (const message of pending) socket.send(this.#protocol.encodeMessage(message.text));
    this.outbox = [];
  }

  #scheduleRetry(): void {
    if (this.#disposed) return;
    this.status = 'reconnecting';
    const delay = backoffDelay(this.attempts, this.#backoff);
    this.attempts += 1;
    this.#clearRetry();
    this.#retryTimer = setTimeout(() => this.#connect(), delay);
  }

  #fail(reason: string): void {
    this.#clearRetry();
    this.closeReason = reason;
    this.status = 'closed';
  }

  #clearRetry(): void {
    if (this.#retryTimer !== null) clearTimeout(this.#retryTimer);
    this.#retryTimer = null;
  }

  #dropSocket(code: number, reason: string): void {
    const socket = this.#socket;
    this.#socket = null;
    if (socket === null) return;
    socket.onopen = socket.onmessage = socket.onclose = socket.onerror = null;
    if (socket.readyState === WebSocket.CONNECTING || socket.readyState === WebSocket.OPEN) socket.close(code, reason);
  }

  // Back online: do not sit out the rest of a long backoff.
  #onOnline = (): void => {
    if (this.status === 'reconnecting' && this.#retryTimer !== null) {
      this.#clearRetry();
      this.#connect();
    }
  };

  // The browser knows the network is gone before TCP does; a socket left open would swallow
  // whatever is sent meanwhile. Drop it and let messages queue (engine.io-client does the same).
  #onOffline = (): void => {
    if (this.#socket === null || this.status === 'closed') return;
    this.#dropSocket(1000, 'Browser went offline');
    this.#scheduleRetry();
  };
}

/**
 * One room's WebSocket over `parley.v1`, as reactive state for the view: `@parley/client`'s
 * {@link ReconnectingSocket} (attempts, full-jitter backoff, the close codes that end it, the
 * browser's online/offline events) with its status, attempts and the reason it ended as Svelte
 * `$state`, the way the room's banners show them. What the frames mean is
 * {@link RoomConnection}'s business.
 */
import {
  ReconnectingSocket,
  type BackoffOptions,
  type SocketClose,
  type SocketEnd,
  type SocketStatus,
  type SocketTarget,
  type WebSocketConstructor,
} from '@parley/client';
import { PROTOCOL_V1 } from '@parley/protocol';

/**
 * - `connecting`: the first attempt is under way (until the first welcome).
 * - `connected`: welcomed; messages go out at once.
 * - `reconnecting`: the connection dropped (or never opened); waiting for or making a retry.
 * - `closed`: given up (the server refused the room or the name) or disposed; no more retries.
 */
export type ConnectionStatus = 'connecting' | 'connected' | 'reconnecting' | 'closed';

const STATUS: Record<SocketStatus, ConnectionStatus> = {
  idle: 'connecting',
  connecting: 'connecting',
  open: 'connected',
  reconnecting: 'reconnecting',
  closed: 'closed',
};

export interface RoomSocketOptions {
  /**
   * The URL and subprotocols for the next attempt (they change: `since` moves on, the token is
   * renewed), or why none can be built. The subprotocols start with `parley.v1`.
   */
  url: () => SocketTarget;
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
  onRefused: (close: SocketClose) => string;
  /** The platform's unless given (tests). */
  WebSocket?: WebSocketConstructor;
  backoff?: BackoffOptions;
}

export class RoomSocket {
  status = $state<ConnectionStatus>('connecting');
  /** Why the connection is `closed`, for people. */
  closeReason = $state<string | null>(null);
  /** Failed attempts since the last welcome. */
  attempts = $state(0);

  readonly #socket: ReconnectingSocket;

  constructor(options: RoomSocketOptions) {
    this.#socket = new ReconnectingSocket({
      target: options.url,
      onText: options.onText,
      onLost: () => options.onLost(),
      onEnd: (end) => {
        this.closeReason = endReason(end, options.onRefused);
      },
      onChange: () => {
        this.status = STATUS[this.#socket.status];
        this.attempts = this.#socket.attempts;
      },
      ...(options.WebSocket === undefined ? {} : { WebSocket: options.WebSocket }),
      ...(options.backoff === undefined ? {} : { backoff: options.backoff }),
    });
  }

  /** Opens the connection and starts following the browser's online/offline events. */
  start(): void {
    this.#socket.start();
  }

  /** Closes the connection for good. */
  dispose(): void {
    this.#socket.dispose(1000, 'Left the room');
  }

  /** Sends a text frame if the socket is open; `false` when it is not. */
  send(data: string): boolean {
    return this.#socket.send(data);
  }

  /** The server welcomed us: the connection is usable, and the backoff starts over. */
  welcomed(): void {
    this.closeReason = null;
    this.#socket.welcomed();
  }

  /** Connects again after giving up (the person chose to rejoin a room they were removed from). */
  restart(): void {
    const reason = this.closeReason;
    // Before the attempt, which may end again at once with a reason of its own.
    this.closeReason = null;
    if (!this.#socket.restart()) this.closeReason = reason;
  }

  /** Tries again now rather than at the end of the backoff ("Try now", or back online). */
  retryNow(): void {
    this.#socket.retryNow();
  }
}

/** Why the connection ended, for people. */
function endReason(end: SocketEnd, onRefused: RoomSocketOptions['onRefused']): string {
  switch (end.kind) {
    case 'refused':
      return onRefused(end);
    case 'unsupported':
      return `The server does not speak ${PROTOCOL_V1}.`;
    case 'no-target':
      return end.reason;
    case 'bad-address':
    case 'no-websocket':
      // Only a malformed URL (or a browser without WebSocket) gets here; retrying cannot fix it.
      return `Cannot connect to the server: ${end.error instanceof Error ? end.error.message : String(end.error)}`;
    default: {
      const unknown: never = end;
      throw new Error(`no reason for the end ${(unknown as { kind?: unknown }).kind}`);
    }
  }
}

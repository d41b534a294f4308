import { randomUUID } from 'node:crypto';
import type { FastifyBaseLogger } from 'fastify';
import type { WebSocket, RawData } from 'ws';
import { CLOSE_CODES, encodeError, type ErrorCode } from '@parley/protocol';
import type { Config } from '../config.ts';
import type { ChatEngine } from '../engine/engine.ts';
import type { OutgoingMessage } from '../rooms/outgoing-message.ts';
import type { RoomHub, RoomMember } from '../rooms/room-hub.ts';

/** What a session needs from the app. */
export interface SessionDeps {
  config: Config;
  engine: ChatEngine;
  hub: RoomHub;
  log: FastifyBaseLogger;
}

/**
 * One WebSocket in one room: joins the room, forwards inbound frames to the protocol that the
 * subclass speaks, and writes outbound frames with a bound on what may queue up.
 */
export abstract class SocketSession implements RoomMember {
  readonly id = randomUUID();
  protected readonly log: FastifyBaseLogger;
  private readonly openedAt = Date.now();
  private joined = false;
  private early: Array<{ data: RawData; isBinary: boolean }> = [];

  constructor(
    protected readonly socket: WebSocket,
    protected readonly room: string,
    protected readonly deps: SessionDeps,
  ) {
    this.log = deps.log.child({ conn: this.id, room });
  }

  /** The protocol name for logs. */
  protected abstract readonly protocol: string;

  /** Handles one inbound frame, after the room is joined. */
  protected abstract handleFrame(data: RawData, isBinary: boolean): void;

  /** Writes a room message to this socket in its protocol. */
  abstract deliver(message: OutgoingMessage): void;

  /**
   * Attaches the socket's listeners, then joins the room. Listeners go on before any await:
   * frames that arrive while the join is in progress are kept and handled in order after it.
   */
  start(): void {
    this.socket.on('message', (data, isBinary) => {
      if (this.joined) this.handleFrameSafely(data, isBinary);
      else this.early.push({ data, isBinary });
    });
    this.socket.on('close', (code, reason) => {
      this.deps.hub.leave(this.room, this);
      this.log.info(
        { event: 'ws_close', protocol: this.protocol, code, reason: reason.toString(), durationMs: Date.now() - this.openedAt },
        'connection closed',
      );
    });
    this.socket.on('error', (err) => this.log.warn({ err: err.message }, 'socket error'));
    this.log.info({ event: 'ws_open', protocol: this.protocol }, 'connection opened');

    this.deps.hub.join(this.room, this).then(
      () => {
        this.joined = true;
        const early = this.early;
        this.early = [];
        for (const frame of early) this.handleFrameSafely(frame.data, frame.isBinary);
      },
      (err: unknown) => {
        this.log.error({ err }, 'could not join room');
        this.sendError('unavailable', 'The chat service cannot reach its message bus; reconnect later.');
        this.socket.close(CLOSE_CODES.tryAgainLater, 'message bus unavailable');
      },
    );
  }

  /** Sends a frame unless the socket is closed or too far behind; see {@link Config.sendBufferLimitBytes}. */
  protected send(frame: string): void {
    if (this.socket.readyState !== this.socket.OPEN) return;
    if (this.socket.bufferedAmount > this.deps.config.sendBufferLimitBytes) {
      // A client that stops reading would otherwise make the server hold every message for it.
      this.log.warn({ buffered: this.socket.bufferedAmount }, 'closing slow consumer');
      this.socket.close(CLOSE_CODES.slowConsumer, 'send buffer full: reading too slowly');
      return;
    }
    this.socket.send(frame);
  }

  protected sendError(code: ErrorCode, message: string, clientMsgId?: string): void {
    this.send(encodeError(code, message, clientMsgId));
  }

  private handleFrameSafely(data: RawData, isBinary: boolean): void {
    try {
      this.handleFrame(data, isBinary);
    } catch (err) {
      // A bug in frame handling must cost this frame, not the process or the other sockets.
      this.log.error({ err }, 'frame handler failed');
      this.sendError('internal', 'The server could not handle this frame.');
    }
  }
}

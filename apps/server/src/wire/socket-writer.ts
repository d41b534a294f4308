import type { WebSocket } from 'ws';
import { CLOSE_CODES } from '@parley/protocol';
import type { Stats } from '../observability/stats.ts';
import {
  encodeTextFrame,
  isPartList,
  partList,
  writeTextFrames,
  type EncodedFrames,
  type FrameParts,
} from './frames.ts';

/** What every writer needs from the app: one object shared by all sockets. */
export interface WriterDeps {
  /** Bytes that may wait for a socket, and how long a socket may stay over that (see README). */
  sendBufferLimitBytes: number;
  slowConsumerGraceMs: number;
  stats: Stats;
  /**
   * Asks for `writer.writeWaiting()` at the end of this turn of the event loop, after the rooms'
   * batches of the turn are written (the room hub does that; see docs/architecture.md).
   */
  atEndOfTurn(writer: SocketWriter): void;
  /** Told when a slow reader is cut off, for the log. */
  onSlowConsumer(writer: SocketWriter, buffered: number): void;
}

/**
 * Everything written to one WebSocket goes through its writer: pre-built frames (a broadcast's
 * are the same bytes for every socket) in one write however many there are; frames for this
 * socket alone (acks) that wait for the end of the turn to share the write of the room's batch;
 * and a bound on what may wait for a reader that does not keep up: over SEND_BUFFER_LIMIT_BYTES
 * at the next write, or for SLOW_CONSUMER_GRACE_MS after one, the socket is closed (4008).
 */
export class SocketWriter {
  /** Frames waiting for the end of this turn (see {@link writeAtEndOfTurn}). */
  private waiting: EncodedFrames[] | undefined;
  /** Armed when a write leaves the buffer over its limit. */
  private slowTimer: NodeJS.Timeout | undefined;

  constructor(
    readonly socket: WebSocket,
    private readonly deps: WriterDeps,
  ) {}

  /** Writes a frame now (unless the socket is closed or too far behind). */
  writeText(frame: string): void {
    this.write(encodeTextFrame(frame));
  }

  /** Writes pre-built frames now, in one write; several parts go out as one writev. */
  write(parts: FrameParts): void {
    if (this.canWrite()) this.writeNow(parts);
  }

  /**
   * Writes a frame at the end of this turn of the event loop, in the same write as anything else
   * this socket gets by then (the room's batch, usually: a sender's ack and the echo of its
   * message arrive together, and one write costs about as much as two frames). Never later.
   */
  writeAtEndOfTurn(frame: string): void {
    if (this.waiting === undefined) {
      this.waiting = [];
      this.deps.atEndOfTurn(this);
    }
    this.waiting.push(encodeTextFrame(frame));
  }

  /** Writes the frames that waited for company and got none (called at the end of the turn). */
  writeWaiting(): void {
    const waiting = this.waiting;
    if (waiting === undefined) return;
    this.waiting = undefined;
    this.write(waiting);
  }

  /** Closes the socket after writing what was waiting (an ack must not be lost to a close). */
  close(code: number, reason: string): void {
    this.writeWaiting();
    this.socket.close(code, reason);
  }

  /** Cuts the TCP connection after `ms` unless the close handshake has finished by then. */
  terminateSoon(ms: number): void {
    setTimeout(() => {
      if (this.socket.readyState !== this.socket.CLOSED) this.socket.terminate();
    }, ms).unref();
  }

  /**
   * Stops reading from the connection: what the client still sends stays in the kernel's
   * buffers (and TCP then stops it), instead of being read, parsed and thrown away.
   */
  stopReading(): void {
    (this.socket as unknown as { _socket?: { pause(): void } })._socket?.pause();
  }

  /** Forgets its timer (the socket closed). */
  dispose(): void {
    clearTimeout(this.slowTimer);
  }

  private writeNow(parts: FrameParts): void {
    if (this.waiting !== undefined) {
      // Waiting frames go first, in the same write.
      parts = [...this.waiting, ...partList(parts)];
      this.waiting = undefined;
    }
    const { stats } = this.deps;
    if (isPartList(parts)) {
      for (const part of parts) {
        stats.framesOut += part.payloads.length;
        stats.bytesOut += part.payloadBytes;
      }
    } else {
      // A broadcast's single part, the common case: nothing allocated per socket.
      stats.framesOut += parts.payloads.length;
      stats.bytesOut += parts.payloadBytes;
    }
    stats.socketWrites += 1;
    writeTextFrames(this.socket, parts);
    this.watchBuffer();
  }

  private canWrite(): boolean {
    if (this.socket.readyState !== this.socket.OPEN) return false;
    if (this.socket.bufferedAmount > this.deps.sendBufferLimitBytes) {
      // A client that stops reading would otherwise make the server hold every message for it.
      this.closeSlowConsumer();
      return false;
    }
    return true;
  }

  /**
   * After a write: when the buffer is over its limit (a large welcome to a client that does not
   * read, with nothing else sent after it), the client has SLOW_CONSUMER_GRACE_MS to read it
   * down, or it is closed. Without this, a buffer is only checked before the next write, which
   * may never come.
   */
  private watchBuffer(): void {
    const { sendBufferLimitBytes, slowConsumerGraceMs } = this.deps;
    if (this.slowTimer !== undefined || this.socket.bufferedAmount <= sendBufferLimitBytes) return;
    this.slowTimer = setTimeout(() => {
      this.slowTimer = undefined;
      if (this.socket.readyState === this.socket.OPEN && this.socket.bufferedAmount > sendBufferLimitBytes)
        this.closeSlowConsumer();
    }, slowConsumerGraceMs);
  }

  private closeSlowConsumer(): void {
    this.deps.onSlowConsumer(this, this.socket.bufferedAmount);
    this.deps.stats.slowConsumerCloses += 1;
    this.socket.close(CLOSE_CODES.slowConsumer, 'send buffer full: reading too slowly');
    // The close frame waits behind the unread bytes; a client that reads nothing would keep them
    // (and the socket) for ws' 30 s close timeout. Cut it after the grace period instead.
    this.terminateSoon(Math.max(1000, this.deps.slowConsumerGraceMs));
  }
}

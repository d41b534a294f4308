import type { Socket } from 'node:net';
import type { WebSocket } from 'ws';

/**
 * Builds a complete WebSocket text frame (final, unmasked: server to client, RFC 6455 §5.2)
 * around UTF-8 bytes. A broadcast is framed once per instance and the same bytes are written to
 * every socket, instead of ws framing it again for each one (a header allocation, a cork and a
 * two-buffer writev per socket).
 */
export function textFrame(payload: Buffer): Buffer {
  const length = payload.length;
  const headerLength = length < 126 ? 2 : length < 65_536 ? 4 : 10;
  const frame = Buffer.allocUnsafe(headerLength + length);
  frame[0] = 0x81; // FIN + text opcode
  if (length < 126) {
    frame[1] = length;
  } else if (length < 65_536) {
    frame[1] = 126;
    frame.writeUInt16BE(length, 2);
  } else {
    frame[1] = 127;
    frame.writeUInt32BE(0, 2);
    frame.writeUInt32BE(length, 6);
  }
  payload.copy(frame, headerLength);
  return frame;
}

/** The parts of ws' internals a pre-built frame goes through (long-standing, used by engine.io too). */
interface WebSocketInternals {
  _socket?: Socket;
  _sender?: { _state?: number; _queue?: unknown[] };
}

/**
 * Writes frames built by {@link textFrame} (one or several back to back) to an open socket in
 * one call. Falls back to ws' own send, message by message, when ws is holding frames back (its
 * sender queues while compressing), so frames never interleave out of order. The bytes count in
 * `socket.bufferedAmount` like any other send.
 *
 * @param wire The complete frames.
 * @param payloads Their payloads, for the fallback.
 */
export function writeTextFrames(socket: WebSocket, wire: Buffer, payloads: readonly Buffer[]): void {
  const internals = socket as unknown as WebSocketInternals;
  const sender = internals._sender;
  if (internals._socket !== undefined && sender?._state === 0 && sender._queue?.length === 0) {
    internals._socket.write(wire);
  } else {
    for (const payload of payloads) socket.send(payload, { binary: false });
  }
}

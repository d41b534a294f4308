import type { Socket } from 'node:net';
import type { WebSocket } from 'ws';

/**
 * One or more text messages encoded for the wire: each message's UTF-8 bytes and the complete
 * frames of all of them, back to back, written with one call.
 */
export interface EncodedFrames {
  payloads: Buffer[];
  wire: Buffer;
  /** Sum of the payloads' lengths (for the bytes-out counter). */
  payloadBytes: number;
}

/**
 * Encodes a text message as a complete WebSocket frame (final, unmasked: server to client, RFC
 * 6455 §5.2), in one buffer. A broadcast is framed once per instance and the same bytes are
 * written to every socket, instead of ws framing it again for each one (a header allocation, a
 * cork and a two-buffer writev per socket); single frames too go out as one buffer, one write.
 */
export function encodeTextFrame(text: string): EncodedFrames {
  const length = Buffer.byteLength(text);
  const headerLength = length < 126 ? 2 : length < 65_536 ? 4 : 10;
  const wire = Buffer.allocUnsafe(headerLength + length);
  wire[0] = 0x81; // FIN + text opcode
  if (length < 126) {
    wire[1] = length;
  } else if (length < 65_536) {
    wire[1] = 126;
    wire.writeUInt16BE(length, 2);
  } else {
    wire[1] = 127;
    wire.writeUInt32BE(0, 2);
    wire.writeUInt32BE(length, 6);
  }
  wire.write(text, headerLength);
  return { payloads: [wire.subarray(headerLength)], wire, payloadBytes: length };
}

/** Several encoded messages as one: their frames back to back. */
export function concatFrames(parts: readonly EncodedFrames[]): EncodedFrames {
  if (parts.length === 1) return parts[0]!;
  return {
    payloads: parts.flatMap((p) => p.payloads),
    wire: Buffer.concat(parts.map((p) => p.wire)),
    payloadBytes: parts.reduce((sum, p) => sum + p.payloadBytes, 0),
  };
}

/** The parts of ws' internals a pre-built frame goes through (long-standing, used by engine.io too). */
interface WebSocketInternals {
  _socket?: Socket;
  _sender?: { _state?: number; _queue?: unknown[] };
}

/**
 * Writes frames built by {@link encodeTextFrame} (one or several back to back) to an open socket in
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

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

/** What one write to a socket sends: one part, or several written back to back. */
export type FrameParts = EncodedFrames | readonly EncodedFrames[];

/** The parts as a list (a single part is wrapped: for the less common paths). */
export function partList(parts: FrameParts): readonly EncodedFrames[] {
  return isPartList(parts) ? parts : [parts];
}

/** True when the write has several parts; a broadcast's single part is handled without a list. */
export function isPartList(parts: FrameParts): parts is readonly EncodedFrames[] {
  return Array.isArray(parts);
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
 * Writes frames built by {@link encodeTextFrame} (each part one or several frames back to back)
 * to an open socket in one system call: several parts are written corked, so they leave as one
 * writev and frames shared by many sockets are never copied per socket. Falls back to ws' own
 * send, message by message, when ws is holding frames back (its sender queues while
 * compressing), so frames never interleave out of order. The bytes count in
 * `socket.bufferedAmount` like any other send.
 */
export function writeTextFrames(socket: WebSocket, parts: FrameParts): void {
  const internals = socket as unknown as WebSocketInternals;
  const raw = internals._socket;
  const sender = internals._sender;
  if (raw !== undefined && sender?._state === 0 && sender._queue?.length === 0) {
    // One part (a broadcast, or an ack alone) needs no corking: it is one write already.
    if (!isPartList(parts) || parts.length === 1) {
      raw.write((isPartList(parts) ? parts[0]! : parts).wire);
      return;
    }
    raw.cork();
    for (const part of parts) raw.write(part.wire);
    raw.uncork();
  } else {
    for (const part of partList(parts)) for (const payload of part.payloads) socket.send(payload, { binary: false });
  }
}

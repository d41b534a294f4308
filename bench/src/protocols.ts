// The three wire protocols the load generator speaks, reduced to what a benchmark client needs:
// where to connect, how to send a chat message, when the connection is ready, and which inbound
// frames are chat messages. Parsing works on the raw bytes: a JSON parse per delivery would make
// the generator, not the server, the bottleneck.

export type Protocol = 'reference' | 'v1' | 'socketio';

export const PROTOCOLS: readonly Protocol[] = ['reference', 'v1', 'socketio'];

/** What a frame means to the generator. */
export const FrameKind = {
  /** A chat message: look for the marker in it. */
  Message: 0,
  /** Connection set-up is complete (v1 welcome, Socket.IO namespace connect). */
  Ready: 1,
  /** Socket.IO sent its open packet: answer with a namespace connect. */
  SioOpen: 2,
  /** Engine.IO ping: answer with a pong. */
  Ping: 3,
  /** A v1 ack of one of our messages. */
  Ack: 4,
  /** An error frame from the server. */
  Error: 5,
  /** Anything else (join, leave, typing …). */
  Other: 6,
} as const;
export type FrameKind = (typeof FrameKind)[keyof typeof FrameKind];

/** The URL a client of `room` opens on the server at `base` (ws://host:port). */
export function connectUrl(protocol: Protocol, base: string, room: string, name: string): string {
  switch (protocol) {
    case 'reference':
      return `${base}/ws/chat/${room}/`;
    case 'v1':
      return `${base}/ws/chat/${room}/?name=${encodeURIComponent(name)}`;
    case 'socketio':
      // Engine.IO v4 straight over WebSocket, as socket.io-client does with transports: ['websocket'].
      return `${base}/socket.io/?EIO=4&transport=websocket&room=${encodeURIComponent(room)}`;
  }
}

/** The WebSocket subprotocols to offer. */
export function subprotocols(protocol: Protocol): string[] {
  return protocol === 'v1' ? ['parley.v1'] : [];
}

/** Whether the connection is usable as soon as the WebSocket opens (no set-up frames). */
export function readyOnOpen(protocol: Protocol): boolean {
  return protocol === 'reference';
}

/** One outbound chat message. `text` holds only [A-Za-z0-9~.] so it needs no JSON escaping. */
export function encodeMessage(protocol: Protocol, text: string, msgId: number): string {
  switch (protocol) {
    case 'reference':
      return `{"message":"${text}"}`;
    case 'v1':
      return `{"type":"message","text":"${text}","clientMsgId":"m${msgId}"}`;
    case 'socketio':
      // Engine.IO "message" (4) carrying Socket.IO EVENT (2): socket.emit('message', text).
      return `42["message","${text}"]`;
  }
}

const V1_MESSAGE = Buffer.from('{"type":"message"');
const V1_WELCOME = Buffer.from('{"type":"welcome"');
const V1_ACK = Buffer.from('{"type":"ack"');
const V1_ERROR = Buffer.from('{"type":"error"');
const REF_ERROR = Buffer.from('{"type":"error"');

function startsWith(data: Buffer, prefix: Buffer): boolean {
  return data.length >= prefix.length && data.compare(prefix, 0, prefix.length, 0, prefix.length) === 0;
}

/** Classifies one inbound text frame. */
export function classify(protocol: Protocol, data: Buffer): FrameKind {
  switch (protocol) {
    case 'reference':
      return startsWith(data, REF_ERROR) ? FrameKind.Error : FrameKind.Message;
    case 'v1':
      if (startsWith(data, V1_MESSAGE)) return FrameKind.Message;
      if (startsWith(data, V1_ACK)) return FrameKind.Ack;
      if (startsWith(data, V1_WELCOME)) return FrameKind.Ready;
      if (startsWith(data, V1_ERROR)) return FrameKind.Error;
      return FrameKind.Other;
    case 'socketio': {
      const a = data[0];
      const b = data[1];
      if (a === 0x34 /* 4 */ && b === 0x32 /* 2: EVENT */) return FrameKind.Message;
      if (a === 0x32 /* 2: ping */ && data.length === 1) return FrameKind.Ping;
      if (a === 0x30 /* 0: open */) return FrameKind.SioOpen;
      if (a === 0x34 && b === 0x30 /* 40: CONNECT */) return FrameKind.Ready;
      if (a === 0x34 && b === 0x34 /* 44: CONNECT_ERROR */) return FrameKind.Error;
      return FrameKind.Other;
    }
  }
}

/** Socket.IO: the namespace-connect packet sent after Engine.IO's open, and the pong. */
export const SIO_CONNECT = '40';
export const SIO_PONG = '3';

/**
 * The benchmark's message text: `~<id>~<send time in µs>~` padded with dots to `bytes`.
 * The marker is the only `~` in any frame the servers send back.
 */
export function makeText(msgId: number, sentUs: number, bytes: number): string {
  const marker = `~${msgId}~${sentUs}~`;
  return marker.length >= bytes ? marker : marker + '.'.repeat(bytes - marker.length);
}

/**
 * Reads the marker from a received frame without decoding it: returns the message id and
 * writes the send time to `out[0]`, or returns -1 when the frame holds no marker.
 */
export function readMarker(data: Buffer, out: Float64Array): number {
  let i = data.indexOf(0x7e);
  if (i < 0) return -1;
  let id = 0;
  let c: number;
  i += 1;
  while (i < data.length && (c = data[i]!) !== 0x7e) {
    if (c < 0x30 || c > 0x39) return -1;
    id = id * 10 + (c - 0x30);
    i += 1;
  }
  let t = 0;
  i += 1;
  while (i < data.length && (c = data[i]!) !== 0x7e) {
    if (c < 0x30 || c > 0x39) return -1;
    t = t * 10 + (c - 0x30);
    i += 1;
  }
  if (i >= data.length) return -1;
  out[0] = t;
  return id;
}

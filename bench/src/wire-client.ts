// The load generator's WebSocket client: the least a client of RFC 6455 must do, and no more.
//
// Why not `ws`: in a room of 10,000 the generator takes in 10,000 frames per message on one core,
// and with `ws` that cost more than the server's side of the same deliveries (measured on the
// benchmark machine: ~11 µs of generator CPU a frame with `ws`, ~8.5 µs here, of which ~5.5 µs is
// the kernel's read), so the generator, not the server, set the p99. This client reads with
// `net`'s `onread` into one buffer shared by every socket (no copy, stream event or
// EventEmitter call per read) and hands each frame's payload to its owner as a view of that
// buffer, valid only during the call.
//
// What it does: the opening handshake (with the accept key checked), unmasked frames from the
// server (text and binary, fragmented ones joined, ping answered with pong, close answered and
// the socket ended), masked frames to the server (text and close). What it does not: extensions
// (no permessage-deflate is offered), UTF-8 validation, payloads over 64 MiB.
import { createHash, randomBytes, randomFillSync } from 'node:crypto';
import { connect, type Socket } from 'node:net';

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
const MAX_PAYLOAD = 64 * 1024 * 1024;
const MAX_HEAD = 16 * 1024;

/** What the owner of a client is told. Every callback is optional but `onText`. */
export interface WireClientEvents {
  /** The 101 response arrived; `headBytes` is its size on the wire (status line to blank line). */
  onOpen?(headBytes: number): void;
  /** A text or binary message. `payload` is only valid during the call (copy it to keep it). */
  onText(payload: Buffer): void;
  /** A ping of `length` payload bytes arrived (it is answered already). */
  onPing?(length: number): void;
  /** The connection ended: the server's close code, or 1006 when it ended without one. */
  onClose?(code: number): void;
  /** The handshake failed or the connection broke; `onClose` follows when it was open. */
  onError?(err: Error): void;
}

const enum State {
  Connecting,
  Open,
  Closing,
  Closed,
}

// One read buffer for every socket of the process: reads are handled one at a time and
// synchronously, and whatever must outlive a read is copied out of it.
const READ_BUFFER = Buffer.allocUnsafe(256 * 1024);

// Masking keys come from a pool of random bytes refilled as it runs out (one syscall per 4,096 frames).
const MASK_POOL = Buffer.allocUnsafe(16 * 1024);
let maskOffset = MASK_POOL.length;
function nextMask(): Buffer {
  if (maskOffset + 4 > MASK_POOL.length) {
    randomFillSync(MASK_POOL);
    maskOffset = 0;
  }
  maskOffset += 4;
  return MASK_POOL.subarray(maskOffset - 4, maskOffset);
}

export class WireClient {
  private state = State.Connecting;
  private readonly socket: Socket;
  private readonly key = randomBytes(16).toString('base64');
  /** Bytes of an incomplete head or frame, kept from one read to the next. */
  private pending: Buffer | undefined;
  /** A fragmented message's parts so far (opcode 0 continuations). */
  private fragments: Buffer[] | undefined;
  private closeCode = 1006;
  private errorTold = false;
  private settleClosed!: () => void;
  /** Settles when the connection has ended, however it ended. */
  readonly closed = new Promise<void>((resolve) => (this.settleClosed = resolve));

  constructor(
    url: string,
    protocols: readonly string[],
    private readonly events: WireClientEvents,
  ) {
    const u = new URL(url);
    if (u.protocol !== 'ws:') throw new Error(`only ws: URLs are supported, not ${u.protocol}`);
    const port = Number(u.port || 80);
    this.socket = connect({
      host: u.hostname,
      port,
      noDelay: true,
      // Returning true keeps reading (false would pause the socket).
      onread: { buffer: READ_BUFFER, callback: (n: number) => (this.onRead(READ_BUFFER, n), true) },
    });
    this.socket.on('error', (err) => this.fail(err));
    this.socket.on('close', () => this.finish());
    // The stream never carries data (onread takes it); resume so its end and close are emitted.
    this.socket.resume();
    const head =
      `GET ${u.pathname}${u.search} HTTP/1.1\r\nHost: ${u.host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
      `Sec-WebSocket-Key: ${this.key}\r\nSec-WebSocket-Version: 13\r\n` +
      (protocols.length > 0 ? `Sec-WebSocket-Protocol: ${protocols.join(', ')}\r\n` : '') +
      '\r\n';
    this.socket.write(head);
  }

  get isOpen(): boolean {
    return this.state === State.Open;
  }

  get isClosed(): boolean {
    return this.state === State.Closed;
  }

  /** Sends a text message (dropped when the connection is not open). */
  send(text: string): void {
    if (this.state !== State.Open) return;
    this.socket.write(maskedFrame(0x1, Buffer.from(text)));
  }

  /** Starts the closing handshake; the socket is ended when the server answers (or cut after 3 s). */
  close(code = 1000): void {
    if (this.state === State.Connecting) return this.terminate();
    if (this.state !== State.Open) return;
    this.state = State.Closing;
    const body = Buffer.allocUnsafe(2);
    body.writeUInt16BE(code, 0);
    this.socket.write(maskedFrame(0x8, body));
    setTimeout(() => this.terminate(), 3000).unref();
  }

  /** Cuts the connection at once. */
  terminate(): void {
    this.socket.destroy();
  }

  private onRead(chunk: Buffer, n: number): void {
    let buf = chunk.subarray(0, n);
    if (this.pending !== undefined) {
      buf = Buffer.concat([this.pending, buf]);
      this.pending = undefined;
    }
    let at = 0;
    if (this.state === State.Connecting) {
      at = this.readHead(buf);
      if (at < 0) return;
    }
    while (at < buf.length && this.state !== State.Closed) {
      const used = this.readFrame(buf, at);
      if (used === 0) break;
      at += used;
    }
    // Keep what is left: a copy, since `chunk` is the shared read buffer.
    if (at < buf.length && this.state !== State.Closed) this.pending = Buffer.from(buf.subarray(at));
  }

  /** Reads the response head; returns where the frames start, or -1 (incomplete or refused). */
  private readHead(buf: Buffer): number {
    const end = buf.indexOf('\r\n\r\n');
    if (end < 0) {
      if (buf.length > MAX_HEAD) this.fail(new Error('response head too large'));
      else this.pending = Buffer.from(buf);
      return -1;
    }
    const head = buf.toString('latin1', 0, end);
    const status = /^HTTP\/1\.1 (\d{3})/.exec(head)?.[1];
    if (status !== '101') {
      this.fail(new Error(`Unexpected server response: ${status ?? head.slice(0, 40)}`));
      return -1;
    }
    const accept = /\r\nsec-websocket-accept:\s*(\S+)/i.exec(head)?.[1];
    const expected = createHash('sha1')
      .update(this.key + GUID)
      .digest('base64');
    if (accept !== expected) {
      this.fail(new Error('Invalid Sec-WebSocket-Accept header'));
      return -1;
    }
    this.state = State.Open;
    this.events.onOpen?.(end + 4);
    return end + 4;
  }

  /** Handles one frame at `at`; returns its size, or 0 when it has not fully arrived. */
  private readFrame(buf: Buffer, at: number): number {
    const avail = buf.length - at;
    if (avail < 2) return 0;
    const b0 = buf[at]!;
    const b1 = buf[at + 1]!;
    if ((b1 & 0x80) !== 0) {
      this.fail(new Error('masked frame from the server'));
      return 0;
    }
    let length = b1 & 0x7f;
    let header = 2;
    if (length === 126) {
      if (avail < 4) return 0;
      length = buf.readUInt16BE(at + 2);
      header = 4;
    } else if (length === 127) {
      if (avail < 10) return 0;
      length = buf.readUInt32BE(at + 2) * 2 ** 32 + buf.readUInt32BE(at + 6);
      header = 10;
    }
    if (length > MAX_PAYLOAD) {
      this.fail(new Error(`frame of ${length} bytes`));
      return 0;
    }
    if (avail < header + length) return 0;
    const payload = buf.subarray(at + header, at + header + length);
    this.onFrame(b0 & 0x0f, (b0 & 0x80) !== 0, payload);
    return header + length;
  }

  private onFrame(opcode: number, fin: boolean, payload: Buffer): void {
    switch (opcode) {
      case 0x0: // continuation
        if (this.fragments === undefined) return this.fail(new Error('continuation without a start'));
        this.fragments.push(Buffer.from(payload));
        if (fin) {
          const whole = Buffer.concat(this.fragments);
          this.fragments = undefined;
          this.events.onText(whole);
        }
        return;
      case 0x1: // text
      case 0x2: // binary
        if (fin) this.events.onText(payload);
        else this.fragments = [Buffer.from(payload)];
        return;
      case 0x8: // close: answer it (unless we started it) and end
        this.closeCode = payload.length >= 2 ? payload.readUInt16BE(0) : 1005;
        if (this.state === State.Open) this.socket.write(maskedFrame(0x8, Buffer.from(payload.subarray(0, 2))));
        this.state = State.Closing;
        this.socket.end();
        return;
      case 0x9: // ping
        this.socket.write(maskedFrame(0xa, Buffer.from(payload)));
        this.events.onPing?.(payload.length);
        return;
      case 0xa: // pong
        return;
      default:
        this.fail(new Error(`unknown opcode ${opcode}`));
    }
  }

  private fail(err: Error): void {
    if (this.state === State.Closed) return;
    if (!this.errorTold) {
      this.errorTold = true;
      this.events.onError?.(err);
    }
    this.socket.destroy();
  }

  private finish(): void {
    if (this.state === State.Closed) return;
    const wasOpen = this.state !== State.Connecting;
    this.state = State.Closed;
    if (wasOpen) this.events.onClose?.(this.closeCode);
    else if (!this.errorTold) this.events.onError?.(new Error('connection closed before the handshake'));
    this.settleClosed();
  }
}

/** A client-to-server frame: FIN, `opcode`, masked payload. */
function maskedFrame(opcode: number, payload: Buffer): Buffer {
  const length = payload.length;
  const header = length < 126 ? 2 : length < 65_536 ? 4 : 10;
  const frame = Buffer.allocUnsafe(header + 4 + length);
  frame[0] = 0x80 | opcode;
  if (length < 126) {
    frame[1] = 0x80 | length;
  } else if (length < 65_536) {
    frame[1] = 0x80 | 126;
    frame.writeUInt16BE(length, 2);
  } else {
    frame[1] = 0x80 | 127;
    frame.writeUInt32BE(Math.floor(length / 2 ** 32), 2);
    frame.writeUInt32BE(length >>> 0, 6);
  }
  const mask = nextMask();
  mask.copy(frame, header);
  const body = header + 4;
  for (let i = 0; i < length; i++) frame[body + i] = payload[i]! ^ mask[i & 3]!;
  return frame;
}

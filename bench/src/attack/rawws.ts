// A WebSocket client written straight on TCP, for the attacker: it must do what `ws` will not
// (write frames before the server's answer, stop reading on purpose, send unsolicited pongs)
// and stay cheap while the server sends it megabytes (payloads are skipped, not buffered: only
// the first bytes of each frame are kept, enough to tell a welcome from an error).
import { randomBytes } from 'node:crypto';
import { connect, type Socket } from 'node:net';

export const OPCODE = { continuation: 0x0, text: 0x1, binary: 0x2, close: 0x8, ping: 0x9, pong: 0xa } as const;

/**
 * One client frame. Client frames must be masked; the key here is all zeros (valid: RFC 6455
 * only requires the mask bit), which leaves the payload as it is, so one buffer can be sent
 * any number of times.
 */
export function clientFrame(opcode: number, payload: Buffer | string): Buffer {
  const body = typeof payload === 'string' ? Buffer.from(payload) : payload;
  const n = body.length;
  const extended = n < 126 ? 0 : n < 65_536 ? 2 : 8;
  const frame = Buffer.alloc(2 + extended + 4 + n);
  frame[0] = 0x80 | opcode;
  if (n < 126) frame[1] = 0x80 | n;
  else if (n < 65_536) {
    frame[1] = 0x80 | 126;
    frame.writeUInt16BE(n, 2);
  } else {
    frame[1] = 0x80 | 127;
    frame.writeBigUInt64BE(BigInt(n), 2);
  }
  body.copy(frame, 2 + extended + 4);
  return frame;
}

/** A close frame with a status code. */
export function closeFrame(code: number): Buffer {
  const payload = Buffer.alloc(2);
  payload.writeUInt16BE(code, 0);
  return clientFrame(OPCODE.close, payload);
}

/**
 * Splits the server's byte stream into frames without holding them: calls `onFrame` with the
 * opcode, the payload length and at most `keep` first bytes of the payload.
 */
export class FrameReader {
  private readonly header = Buffer.alloc(14);
  private headerLength = 0;
  /** Payload bytes still to come for the current frame; -1 while reading a header. */
  private remaining = -1;
  private opcode = 0;
  private length = 0;
  private kept: Buffer[] = [];
  private keptLength = 0;

  constructor(
    private readonly keep: number,
    private readonly onFrame: (opcode: number, length: number, head: Buffer) => void,
  ) {}

  push(chunk: Buffer): void {
    let i = 0;
    while (i < chunk.length) {
      if (this.remaining < 0) {
        this.header[this.headerLength++] = chunk[i++]!;
        if (this.headerLength >= 2 && this.headerLength === this.headerSize()) this.startPayload();
        continue;
      }
      const take = Math.min(this.remaining, chunk.length - i);
      if (this.keptLength < this.keep) {
        const part = chunk.subarray(i, i + Math.min(take, this.keep - this.keptLength));
        this.kept.push(part);
        this.keptLength += part.length;
      }
      i += take;
      this.remaining -= take;
      if (this.remaining === 0) this.finish();
    }
  }

  private headerSize(): number {
    const len7 = this.header[1]! & 0x7f;
    const masked = (this.header[1]! & 0x80) !== 0;
    return 2 + (len7 === 126 ? 2 : len7 === 127 ? 8 : 0) + (masked ? 4 : 0);
  }

  private startPayload(): void {
    const len7 = this.header[1]! & 0x7f;
    this.opcode = this.header[0]! & 0x0f;
    this.length =
      len7 === 126 ? this.header.readUInt16BE(2) : len7 === 127 ? Number(this.header.readBigUInt64BE(2)) : len7;
    this.headerLength = 0;
    this.remaining = this.length;
    this.kept = [];
    this.keptLength = 0;
    if (this.remaining === 0) this.finish();
  }

  private finish(): void {
    this.remaining = -1;
    // Copied: a slice would keep the whole (possibly large) socket chunk alive.
    const head = Buffer.concat(this.kept);
    this.kept = [];
    this.onFrame(this.opcode, this.length, head);
  }
}

export interface RawWsOptions {
  host: string;
  port: number;
  localAddress: string;
  /** Request path, percent-encoded (`/ws/chat/room/?name=x`). */
  path: string;
  protocols?: string[];
  /** Bytes kept of each frame's payload (default 256). */
  keep?: number;
  /** Bytes written right behind the upgrade request, before the server has answered it. */
  early?: Buffer;
  /** Stop reading once the upgrade is answered: the server's frames pile up in its buffers. */
  stopReading?: boolean;
  /** Give up on an unanswered upgrade after this long (default 5 s). */
  handshakeTimeoutMs?: number;
}

export interface RawWsEvents {
  /** The upgrade was answered: 101, or a refusal (the socket is then reset). */
  response?(status: number, headers: string): void;
  frame?(opcode: number, length: number, head: Buffer): void;
  /**
   * The TCP connection ended. `serverCloseCode`: the code of a close the server started (not its
   * echo of ours); `byUs`: this side ended it first (a reset or a close frame of its own).
   */
  closed?(serverCloseCode: number | undefined, error: string | undefined, byUs: boolean): void;
}

/** One raw WebSocket connection; see the file comment. */
export class RawWs {
  readonly socket: Socket;
  /** HTTP status of the upgrade's answer (0 until answered). */
  status = 0;
  /** The code of a close the server started (not an echo of ours). */
  serverCloseCode: number | undefined;
  /** The code of the close frame this side sent, if it sent one. */
  private sentCloseCode: number | undefined;
  error: string | undefined;
  ended = false;
  /** This side closed or reset the connection. */
  byUs = false;
  bytesIn = 0;
  private responseHead: Buffer | undefined = Buffer.alloc(0);
  private readonly reader: FrameReader;
  private readonly timer: NodeJS.Timeout;

  constructor(
    options: RawWsOptions,
    private readonly events: RawWsEvents = {},
  ) {
    this.reader = new FrameReader(options.keep ?? 256, (op, length, head) => this.onFrame(op, length, head));
    this.socket = connect({ host: options.host, port: options.port, localAddress: options.localAddress });
    this.socket.setNoDelay(true);
    this.socket.write(upgradeRequest(options));
    if (options.early !== undefined) this.socket.write(options.early);
    this.timer = setTimeout(() => {
      if (this.status === 0) this.fail('handshake_timeout');
    }, options.handshakeTimeoutMs ?? 5000);
    this.socket.on('data', (chunk: Buffer) => this.onData(chunk, options.stopReading === true));
    this.socket.on('error', (err: NodeJS.ErrnoException) => {
      this.error ??= err.code ?? err.message;
    });
    this.socket.on('close', () => {
      clearTimeout(this.timer);
      if (this.ended) return;
      this.ended = true;
      this.events.closed?.(this.serverCloseCode, this.error, this.byUs);
    });
  }

  get open(): boolean {
    return this.status === 101 && !this.ended;
  }

  /** Writes bytes; false when the socket's buffer is full (wait for 'drain'). */
  write(data: Buffer): boolean {
    if (this.ended || this.socket.destroyed) return false;
    return this.socket.write(data);
  }

  /** Sends a close frame and lets the server end the connection (resetting it after `graceMs`). */
  close(code = 1000, graceMs = 1000): void {
    if (this.ended) return;
    this.byUs = this.serverCloseCode === undefined;
    this.sentCloseCode ??= code;
    this.write(closeFrame(code));
    setTimeout(() => this.reset(), graceMs).unref();
  }

  /** Ends the connection with a TCP reset: no TIME_WAIT left on this side, so ports are not used up. */
  reset(): void {
    if (this.ended || this.socket.destroyed) return;
    this.byUs ||= this.serverCloseCode === undefined;
    if (this.socket.connecting) this.socket.destroy();
    else this.socket.resetAndDestroy();
  }

  resume(): void {
    this.socket.resume();
  }

  private fail(code: string): void {
    this.error ??= code;
    this.reset();
  }

  private onData(chunk: Buffer, stopReading: boolean): void {
    this.bytesIn += chunk.length;
    if (this.responseHead === undefined) {
      this.reader.push(chunk);
      return;
    }
    const head = Buffer.concat([this.responseHead, chunk]);
    const end = head.indexOf('\r\n\r\n');
    if (end < 0) {
      this.responseHead = head;
      if (head.length > 16_384) this.fail('bad_response');
      return;
    }
    this.responseHead = undefined;
    clearTimeout(this.timer);
    const text = head.subarray(0, end).toString('latin1');
    this.status = Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0);
    this.events.response?.(this.status, text);
    if (this.status !== 101) {
      this.reset();
      return;
    }
    if (stopReading) this.socket.pause();
    const rest = head.subarray(end + 4);
    if (rest.length > 0) this.reader.push(rest);
  }

  private onFrame(opcode: number, length: number, head: Buffer): void {
    if (opcode === OPCODE.close) {
      const code = head.length >= 2 ? head.readUInt16BE(0) : 1005;
      // The server's own close, unless it is the echo of ours (a different code is its own).
      if (this.sentCloseCode === undefined || code !== this.sentCloseCode) this.serverCloseCode ??= code;
      if (this.sentCloseCode === undefined) {
        // Answer the close as a client does; the server then ends the TCP connection.
        this.sentCloseCode = code === 1005 ? 1000 : code;
        this.write(closeFrame(this.sentCloseCode));
      }
      setTimeout(() => this.reset(), 1000).unref();
    } else if (opcode === OPCODE.ping) {
      this.write(clientFrame(OPCODE.pong, head));
    }
    this.events.frame?.(opcode, length, head);
  }
}

function upgradeRequest(o: RawWsOptions): string {
  const protocols = o.protocols ?? [];
  return (
    `GET ${o.path} HTTP/1.1\r\n` +
    `Host: ${o.host}:${o.port}\r\n` +
    'Upgrade: websocket\r\nConnection: Upgrade\r\n' +
    `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\n` +
    'Sec-WebSocket-Version: 13\r\n' +
    (protocols.length > 0 ? `Sec-WebSocket-Protocol: ${protocols.join(', ')}\r\n` : '') +
    '\r\n'
  );
}

/** The `type` of a JSON frame from its first bytes (`{"type":"welcome",…`), without parsing it. */
export function frameType(head: Buffer): string | undefined {
  return /^\{"type":"([a-z_]+)"/.exec(head.toString('latin1', 0, Math.min(head.length, 40)))?.[1];
}

/** The `code` of an error frame from its first bytes. */
export function errorCode(head: Buffer): string {
  return /"code":"([a-z_]+)"/.exec(head.toString('latin1'))?.[1] ?? 'unknown';
}

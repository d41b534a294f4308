import { randomBytes } from 'node:crypto';
import { connect, type Socket } from 'node:net';

/** A WebSocket upgrade done by hand over TCP, for clients that misbehave in ways `ws` will not. */
export interface RawUpgrade {
  /** The HTTP status of the answer (101 when upgraded; 0 when the connection was reset before any answer). */
  status: number;
  socket: Socket;
  /** What arrived after the answer's headers in the same read (the first frames). */
  rest: Buffer;
}

/**
 * Sends an upgrade request over a raw TCP socket and waits for the answer's status line.
 *
 * @param port The server's port on 127.0.0.1.
 * @param path E.g. `/ws/chat/big/?name=Slow&since=0-0`.
 * @param options Subprotocols, the local address to connect from, and bytes to send right after
 *   the request (frames before the welcome).
 */
export function rawUpgrade(
  port: number,
  path: string,
  options: { protocols?: string[]; localAddress?: string; after?: Buffer } = {},
): Promise<RawUpgrade> {
  return new Promise((resolve, reject) => {
    const socket = connect({
      port,
      host: '127.0.0.1',
      ...(options.localAddress ? { localAddress: options.localAddress } : {}),
    });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error('no answer to the upgrade within 10 s'));
    }, 10_000);
    // A server that refuses (429) or cuts off (1008) a client still writing `after` resets the
    // connection: the write fails with ECONNRESET or EPIPE, sometimes before the answer is read.
    // That is an outcome, not a test failure: errors after the answer are left to `closedBy`, and a
    // reset before any answer resolves with status 0.
    let answered = false;
    socket.on('error', (err: NodeJS.ErrnoException) => {
      if (answered) return;
      if (err.code === 'ECONNRESET' || err.code === 'EPIPE') return; // 'close' follows
      clearTimeout(timer);
      reject(err);
    });
    socket.once('close', () => {
      if (answered) return;
      clearTimeout(timer);
      resolve({ status: 0, socket, rest: Buffer.alloc(0) });
    });
    socket.once('connect', () => {
      const protocols =
        options.protocols === undefined ? '' : `Sec-WebSocket-Protocol: ${options.protocols.join(', ')}\r\n`;
      socket.write(
        `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
          `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n${protocols}\r\n`,
      );
      if (options.after !== undefined) socket.write(options.after);
    });
    socket.once('data', (chunk: Buffer) => {
      answered = true;
      clearTimeout(timer);
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(chunk.toString('latin1'))?.[1] ?? 0);
      const end = chunk.indexOf('\r\n\r\n');
      resolve({ status, socket, rest: end < 0 ? Buffer.alloc(0) : chunk.subarray(end + 4) });
    });
  });
}

/** A masked client frame (RFC 6455 §5.2): `opcode` 0x1 text, 0x8 close, 0xA pong. */
export function clientFrame(opcode: number, payload: Buffer = Buffer.alloc(0)): Buffer {
  const mask = randomBytes(4);
  const length = payload.length;
  const header = length < 126 ? Buffer.from([0x80 | opcode, 0x80 | length]) : Buffer.alloc(4);
  if (length >= 126) {
    if (length >= 65_536) throw new Error('frames over 64 KiB are not needed here');
    header[0] = 0x80 | opcode;
    header[1] = 0x80 | 126;
    header.writeUInt16BE(length, 2);
  }
  const masked = Buffer.from(payload);
  for (let i = 0; i < masked.length; i++) masked[i]! ^= mask[i % 4]!;
  return Buffer.concat([header, mask, masked]);
}

/** Resolves when the server closes (or resets) the socket. */
export function closedBy(socket: Socket): Promise<void> {
  return new Promise((resolve) => {
    if (socket.destroyed) return resolve();
    socket.once('close', () => resolve());
  });
}

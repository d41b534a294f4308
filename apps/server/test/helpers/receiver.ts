import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A request the receiver got: its headers and body exactly as they arrived. */
export interface Received {
  headers: IncomingHttpHeaders;
  body: string;
  /** The body parsed (undefined when it is not JSON). */
  json: any;
  /** When it arrived (Date.now()). */
  at: number;
}

export type ReceiverHandler = (request: Received, res: ServerResponse) => void | Promise<void>;

/**
 * A real HTTP server on 127.0.0.1 standing in for the operator's programs (the before-publish
 * hook, a webhook receiver): records every request and answers with the handler of the moment
 * (by default 200 with an empty JSON object).
 */
export class TestReceiver {
  readonly received: Received[] = [];
  handler: ReceiverHandler = (_request, res) => answer(res, 200, {});
  private waiters: Array<() => void> = [];

  private constructor(private readonly server: Server) {}

  static async start(host = '127.0.0.1'): Promise<TestReceiver> {
    const server = createServer();
    const receiver = new TestReceiver(server);
    server.on('request', (req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        let json: unknown;
        try {
          json = JSON.parse(body);
        } catch {
          json = undefined;
        }
        const request: Received = { headers: req.headers, body, json, at: Date.now() };
        receiver.received.push(request);
        for (const wake of receiver.waiters.splice(0)) wake();
        Promise.resolve(receiver.handler(request, res)).catch(() => res.destroy());
      });
    });
    await new Promise<void>((resolve) => server.listen(0, host, resolve));
    return receiver;
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}/hook`;
  }

  /** Resolves once `count` requests (in all) arrived; fails after `timeoutMs`. */
  async waitFor(count: number, timeoutMs = 5000): Promise<Received[]> {
    const deadline = Date.now() + timeoutMs;
    while (this.received.length < count) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`${this.received.length} requests of ${count} within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    return this.received.slice(0, count);
  }

  /** Forgets what arrived so far. */
  reset(): void {
    this.received.length = 0;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/** Answers with a status and a JSON body. */
export function answer(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

/**
 * A receiver's check of Parley's signature, written the way the README tells receivers to (no
 * server code): HMAC-SHA256 of `<timestamp>.<body>` with the secret, and a timestamp within 5 minutes.
 */
export function verifyAsReadmeShows(request: Received, secret: string): boolean {
  const timestamp = request.headers['parley-timestamp'];
  const signature = request.headers['parley-signature'];
  if (typeof timestamp !== 'string' || typeof signature !== 'string') return false;
  if (Math.abs(Date.now() / 1000 - Number(timestamp)) > 300) return false;
  const expected = `sha256=${createHmac('sha256', secret).update(`${timestamp}.${request.body}`).digest('hex')}`;
  return signature.length === expected.length && timingSafeEqual(Buffer.from(signature), Buffer.from(expected));
}

/** The requests about one room so far. */
export const about = (receiver: TestReceiver, room: string): Received[] =>
  receiver.received.filter((r) => r.json?.room === room);

/** Waits until `count` requests about `room` (of one event, if given) arrived, and returns those. */
export async function waitAbout(
  receiver: TestReceiver,
  room: string,
  count: number,
  event?: string,
  timeoutMs = 5000,
): Promise<Received[]> {
  const deadline = Date.now() + timeoutMs;
  const matching = () => about(receiver, room).filter((r) => event === undefined || r.json.event === event);
  while (matching().length < count) {
    if (Date.now() > deadline)
      throw new Error(`${matching().length} of ${count} requests about ${room} within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return matching();
}

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

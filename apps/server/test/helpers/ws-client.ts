import WebSocket from 'ws';
import { lookKeys, tokenProtocol, userTag } from '@parley/protocol';

/** A real WebSocket client for tests, with a queue of received frames to await in order. */
export class TestClient {
  private readonly frames: string[] = [];
  private waiters: Array<() => void> = [];
  closeEvent: { code: number; reason: string } | undefined;
  private readonly closed: Promise<{ code: number; reason: string }>;

  private constructor(readonly socket: WebSocket) {
    socket.on('message', (data) => {
      this.frames.push(data.toString());
      this.wake();
    });
    this.closed = new Promise((resolve) =>
      socket.on('close', (code, reason) => {
        this.closeEvent = { code, reason: reason.toString() };
        resolve(this.closeEvent);
        this.wake();
      }),
    );
  }

  /** Opens a socket and waits until it is open. */
  static async connect(
    url: string,
    options: { protocols?: string[]; origin?: string; localAddress?: string; forwardedFor?: string } = {},
  ): Promise<TestClient> {
    const socket = new WebSocket(url, options.protocols ?? [], {
      ...(options.origin ? { origin: options.origin } : {}),
      // The client address as a proxy in front of the server names it (X-Forwarded-For): the
      // server believes it only with TRUST_PROXY, and tests use it for addresses no loopback
      // interface has (IPv6 ones, say).
      ...(options.forwardedFor ? { headers: { 'x-forwarded-for': options.forwardedFor } } : {}),
      // Another loopback address (127.0.0.2, …) is another client address for per-address limits.
      ...(options.localAddress ? { localAddress: options.localAddress } : {}),
    });
    const client = new TestClient(socket);
    await new Promise<void>((resolve, reject) => {
      socket.once('open', () => resolve());
      socket.once('error', reject);
      socket.once('unexpected-response', (_req, res) => reject(new Error(`upgrade refused: HTTP ${res.statusCode}`)));
    });
    return client;
  }

  send(value: unknown): void {
    this.socket.send(typeof value === 'string' ? value : JSON.stringify(value));
  }

  /** The next frame, parsed as JSON; fails after `timeoutMs`. */
  async next(timeoutMs = 3000): Promise<any> {
    const deadline = Date.now() + timeoutMs;
    while (this.frames.length === 0) {
      if (this.closeEvent)
        throw new Error(`socket closed (${this.closeEvent.code} ${this.closeEvent.reason}) while waiting for a frame`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no frame within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    return JSON.parse(this.frames.shift()!);
  }

  /** The next `count` frames. */
  async take(count: number, timeoutMs = 3000): Promise<any[]> {
    const out = [];
    for (let i = 0; i < count; i++) out.push(await this.next(timeoutMs));
    return out;
  }

  /** Asserts nothing arrives for `ms` (use after a positive check has shown delivery works). */
  async expectSilence(ms = 300): Promise<void> {
    await new Promise((r) => setTimeout(r, ms));
    if (this.frames.length > 0) throw new Error(`expected no frame, got ${this.frames[0]}`);
  }

  /** Waits for the server to close the socket. */
  async waitClose(timeoutMs = 3000): Promise<{ code: number; reason: string }> {
    return Promise.race([
      this.closed,
      new Promise<never>((_, reject) =>
        setTimeout(() => reject(new Error(`not closed within ${timeoutMs} ms`)), timeoutMs),
      ),
    ]);
  }

  close(): void {
    this.socket.close();
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }
}

/** Options of a `parley.v1` connection. */
export interface V1Options {
  name?: string;
  /** Sent as a subprotocol (`parley.token.<token>`), as clients do; see `tokenInQuery`. */
  token?: string;
  /** Send the token as `?token=`, as clients of the first release did. */
  tokenInQuery?: boolean;
  since?: string;
  /** The client address to connect from (another loopback address is another client). */
  localAddress?: string;
  /** The client address to send as X-Forwarded-For (believed by an app started with TRUST_PROXY). */
  forwardedFor?: string;
}

/** Opens a `parley.v1` connection and returns it with its welcome frame. */
export async function connectV1(
  wsUrl: string,
  room: string,
  options: V1Options = {},
): Promise<{ client: TestClient; welcome: any }> {
  const query = new URLSearchParams({ name: options.name ?? 'Tester' });
  const protocols = ['parley.v1'];
  if (options.token && options.tokenInQuery) query.set('token', options.token);
  else if (options.token) protocols.push(tokenProtocol(options.token));
  if (options.since) query.set('since', options.since);
  const client = await TestClient.connect(`${wsUrl}/ws/chat/${encodeURIComponent(room)}/?${query}`, {
    protocols,
    ...(options.localAddress ? { localAddress: options.localAddress } : {}),
    ...(options.forwardedFor ? { forwardedFor: options.forwardedFor } : {}),
  });
  const welcome = await client.next();
  if (welcome.type !== 'welcome') throw new Error(`expected welcome, got ${JSON.stringify(welcome)}`);
  return { client, welcome };
}

/** The person a welcome is for, as other frames name them (`{id, name}`, without the welcome's `role`). */
export function personOf(welcome: any): { id: string; name: string } {
  return { id: welcome.you.id, name: welcome.you.name };
}

/**
 * The person a welcome is for as `welcome.members` and `join` frames list them: with their tag,
 * the keys of how their name looks, and their role (a member unless said).
 */
export function memberOf(welcome: any, role = 'member'): Record<string, unknown> {
  return { ...personOf(welcome), tag: userTag(welcome.you.id), role, look: lookKeys(welcome.you.name) };
}

/** Reads frames until one matches, failing on timeout; returns it and the frames skipped. */
export async function nextOfType(client: TestClient, type: string, timeoutMs = 3000): Promise<any> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const frame = await client.next(Math.max(1, deadline - Date.now()));
    if (frame.type === type) return frame;
  }
}

let clientMsgCounter = 0;

/**
 * Sends a v1 frame that carries a clientMsgId (a message or a change) and returns the server's
 * answer about it: its `ack` or its `error` frame (other frames meanwhile are skipped).
 */
export async function requestV1(
  client: TestClient,
  frame: Record<string, unknown>,
  clientMsgId = `c${Date.now()}_${clientMsgCounter++}`,
  timeoutMs = 5000,
): Promise<any> {
  client.send({ ...frame, clientMsgId });
  for (;;) {
    const reply = await client.next(timeoutMs);
    if ((reply.type === 'ack' || reply.type === 'error') && reply.clientMsgId === clientMsgId) return reply;
  }
}

/** Sends a v1 message and returns the server's answer about it: its `ack` or its `error` frame. */
export async function sendV1(client: TestClient, text: string, clientMsgId?: string, timeoutMs = 5000): Promise<any> {
  return requestV1(client, { type: 'message', text }, clientMsgId, timeoutMs);
}

/** Sends a v1 message, expects it acked, and returns its id. */
export async function postV1(client: TestClient, text: string, clientMsgId?: string): Promise<string> {
  const reply = await sendV1(client, text, clientMsgId);
  if (reply.type !== 'ack') throw new Error(`${reply.code}: ${reply.message}`);
  return reply.id;
}

/**
 * Sends a frame until it is acked, resending it (same clientMsgId) after each `unavailable`, as
 * clients do, at most 50 times 200 ms apart; returns the last answer (an ack, or the error that
 * was not `unavailable`). With a short REDIS_WAIT_TIMEOUT_MS, a busy machine's replica may be late.
 */
export async function requestUntilAcked(
  client: TestClient,
  frame: Record<string, unknown>,
  clientMsgId: string,
): Promise<any> {
  let answer: any;
  for (let attempt = 0; attempt < 50; attempt++) {
    answer = await requestV1(client, frame, clientMsgId);
    if (answer.type === 'ack' || answer.code !== 'unavailable') return answer;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  return answer;
}

/** A fetch response's JSON body, untyped (tests assert on its shape). */
export const json = async (res: Response): Promise<any> => res.json();

/**
 * Sends a v1 message until it is acked, resending it (same clientMsgId) after each
 * `unavailable`, as the web app does; any other answer fails the test. Returns how many times
 * it was refused.
 */
export async function sendUntilAcked(
  client: TestClient,
  text: string,
  clientMsgId: string,
  timeoutMs = 20_000,
): Promise<number> {
  let refusals = 0;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const answer = await requestV1(client, { type: 'message', text }, clientMsgId, 10_000);
    if (answer.type === 'ack') return refusals;
    if (answer.code !== 'unavailable') throw new Error(`"${text}" refused with ${answer.code}: ${answer.message}`);
    refusals += 1;
    if (Date.now() > deadline) throw new Error(`"${text}" was not acked within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

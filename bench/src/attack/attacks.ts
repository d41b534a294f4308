// The eight attacks, each from one address (the attacker's), each bounded by its deadline and by
// a cap on its loops. They run in the attacker process (attacker.ts); the harness measures the
// neighbour meanwhile. Every attack counts what it achieved in an AttackOutcome.
import { randomBytes } from 'node:crypto';
import { Agent, request } from 'node:http';
import { performance } from 'node:perf_hooks';
import { OPCODE, RawWs, clientFrame, errorCode, frameType } from './rawws.ts';
import type { AttackId, AttackOutcome, AttackRequest, AttackTarget, Counts } from './types.ts';

/** One line per attack, for the report and --help. */
export const ATTACK_TITLES: Record<AttackId, string> = {
  'big-since': 'big `since` welcomes to sockets that never read',
  reconnect: 'connect, read the `since=0-0` welcome, close, again (reconnect amplification)',
  'room-flood': 'room-creation flood (a new random room each time, then close)',
  'conn-flood': 'connection flood (open and hold sockets as fast as possible)',
  'pre-welcome': 'pre-welcome flood (16 KiB frames written right behind the upgrade request)',
  'invalid-frames': 'invalid-frame flood (16 KiB bad JSON and oversized texts, as fast as the socket takes them)',
  'join-leave': "join/leave flood into the neighbours' room (a new identity each time)",
  http: 'API hammering: GET /api/rooms and /api/rooms/<room>/messages?limit=200, 20 at a time',
};

/** Attacks that need the seeded room (1,000 messages of 4 KiB). */
export const NEEDS_SEED: ReadonlySet<AttackId> = new Set(['big-since', 'reconnect', 'http']);

/**
 * Loop caps: the deadline ends every attack, these end one that runs away first. Set above what
 * one attacker process manages in 12 s against this server (refusals come back at 5,000–15,000 a
 * second), so that normally the deadline ends the attack.
 */
const CAPS = { bigSinceSockets: 2000, connections: 100_000, requests: 400_000 } as const;

/** Counts what an attack does and achieved, and opens its connections. */
class Tally {
  readonly outcome: AttackOutcome;
  /** Sockets open right now (answered 101 and not ended). */
  readonly held = new Set<RawWs>();
  /** Sockets whose welcome arrived (it may come in the same read as the 101, before anyone waits). */
  private readonly welcomed = new WeakSet<RawWs>();
  private readonly welcomeWaiters = new Map<RawWs, (welcomed: boolean) => void>();
  private readonly endWaiters = new Map<RawWs, () => void>();
  private readonly startedAt = performance.now();

  constructor(
    attack: AttackId,
    readonly target: AttackTarget,
    private readonly deadline: number,
  ) {
    this.outcome = {
      attack,
      elapsedMs: 0,
      attempts: 0,
      opened: 0,
      welcomes: 0,
      maxWelcomeBytes: 0,
      refused: {},
      maxHeld: 0,
      heldAtEnd: 0,
      closes: {},
      framesSent: 0,
      bytesSent: 0,
      bytesReceived: 0,
      errorFrames: {},
      httpStatus: {},
      attackerErrors: {},
    };
  }

  get timeLeft(): number {
    return this.deadline - performance.now();
  }

  /** Marks the end of the attack proper (before any clean-up). */
  stop(): void {
    this.outcome.elapsedMs = Math.round(performance.now() - this.startedAt);
    this.outcome.heldAtEnd = this.held.size;
  }

  error(code: string, detail?: string): void {
    bump(this.outcome.attackerErrors, code);
    this.outcome.firstError ??= detail ?? code;
  }

  /** Counts frames the attacker wrote. */
  sent(frames: number, bytes: number): void {
    this.outcome.framesSent += frames;
    this.outcome.bytesSent += bytes;
  }

  /** Sleeps, but never past the deadline. */
  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => setTimeout(resolve, Math.max(0, Math.min(ms, this.timeLeft))));
  }

  /**
   * Opens a parley.v1 socket; resolves once the upgrade is answered (101 or a refusal) or the
   * connection failed. Check `ws.status`.
   */
  open(path: string, options: { stopReading?: boolean; early?: Buffer } = {}): Promise<RawWs> {
    this.outcome.attempts += 1;
    return new Promise((resolve) => {
      let answered = false;
      const ws: RawWs = new RawWs(
        { ...this.target, path, protocols: ['parley.v1'], ...options },
        {
          response: (status, headers) => {
            answered = true;
            this.onResponse(ws, status, headers);
            resolve(ws);
          },
          frame: (opcode, length, head) => this.onFrame(ws, opcode, length, head),
          closed: (serverCloseCode, error, byUs) => {
            this.onClosed(ws, serverCloseCode, error, byUs);
            if (!answered) resolve(ws);
          },
        },
      );
    });
  }

  /** Resolves true at the socket's welcome, false if it ends first or `timeoutMs` passes. */
  welcome(ws: RawWs, timeoutMs: number): Promise<boolean> {
    if (this.welcomed.has(ws)) return Promise.resolve(true);
    if (!ws.open) return Promise.resolve(false);
    return new Promise((resolve) => {
      const timer = setTimeout(() => finish(false), timeoutMs);
      const finish = (welcomed: boolean) => {
        clearTimeout(timer);
        this.welcomeWaiters.delete(ws);
        resolve(welcomed);
      };
      this.welcomeWaiters.set(ws, finish);
    });
  }

  /** Resolves once the socket has ended, or after `timeoutMs`. */
  ended(ws: RawWs, timeoutMs: number): Promise<void> {
    if (ws.ended) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(finish, timeoutMs);
      function finish() {
        clearTimeout(timer);
        resolve();
      }
      this.endWaiters.set(ws, finish);
    });
  }

  /** Resets every socket still open. */
  resetAll(): void {
    for (const ws of this.held) ws.reset();
  }

  private onResponse(ws: RawWs, status: number, headers: string): void {
    if (status === 101) {
      this.outcome.opened += 1;
      this.held.add(ws);
      this.outcome.maxHeld = Math.max(this.outcome.maxHeld, this.held.size);
      return;
    }
    bump(this.outcome.refused, String(status));
    this.outcome.retryAfter ??= /^retry-after:\s*(.+)$/im.exec(headers)?.[1]?.trim();
  }

  private onFrame(ws: RawWs, opcode: number, length: number, head: Buffer): void {
    if (opcode !== OPCODE.text) return;
    const type = frameType(head);
    if (type === 'welcome') {
      this.outcome.welcomes += 1;
      this.outcome.maxWelcomeBytes = Math.max(this.outcome.maxWelcomeBytes, length);
      this.welcomed.add(ws);
      this.welcomeWaiters.get(ws)?.(true);
    } else if (type === 'error') {
      bump(this.outcome.errorFrames, errorCode(head));
    }
  }

  private onClosed(ws: RawWs, serverCloseCode: number | undefined, error: string | undefined, byUs: boolean): void {
    this.outcome.bytesReceived += ws.bytesIn;
    if (this.held.delete(ws)) {
      if (serverCloseCode !== undefined) bump(this.outcome.closes, String(serverCloseCode));
      else if (!byUs) bump(this.outcome.closes, 'drop');
    }
    if (error !== undefined && !(byUs && error === 'ECONNRESET')) this.error(error);
    this.welcomeWaiters.get(ws)?.(false);
    this.endWaiters.get(ws)?.();
    this.endWaiters.delete(ws);
  }
}

function bump(counts: Counts, key: string, by = 1): void {
  counts[key] = (counts[key] ?? 0) + by;
}

/** Runs `concurrency` copies of `body` until the deadline or until `cap` attempts were made. */
async function loops(t: Tally, concurrency: number, cap: number, body: () => Promise<unknown>): Promise<void> {
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (t.timeLeft > 0) {
        if (t.outcome.attempts >= cap) {
          t.outcome.capped ??= `${cap.toLocaleString('en-US')} attempts`;
          return;
        }
        try {
          await body();
        } catch (err) {
          t.error('exception', (err as Error).message);
          await t.sleep(50);
        }
      }
    }),
  );
}

/** `/ws/chat/<room>/?name=…[&since=…]`, percent-encoded. */
function roomPath(room: string, params: Record<string, string> = {}): string {
  const query = new URLSearchParams({ name: 'Mallory', ...params });
  return `/ws/chat/${encodeURIComponent(room)}/?${query.toString()}`;
}

/** A v1 message frame of exactly `bytes` bytes whose text is far over the 4 KiB limit. */
function oversizedMessage(bytes: number): string {
  const prefix = '{"type":"message","text":"';
  const suffix = '","clientMsgId":"junk"}';
  return prefix + 'a'.repeat(bytes - prefix.length - suffix.length) + suffix;
}

/** 16 KiB: the largest frame the server accepts (MAX_PAYLOAD_BYTES); one byte more closes with 1009. */
const FRAME_BYTES = 16_384;

// ---------------------------------------------------------------------------------------------
// 1. Big `since` welcomes to sockets that never read.

async function bigSince(t: Tally, stopped: () => void): Promise<void> {
  const path = roomPath(t.target.seedRoom, { since: '0-0' });
  // Unsolicited pongs, once a second on every held socket: a server that counts any pong as a
  // sign of life would keep these sockets forever. A failed write also shows a socket is gone.
  const pong = clientFrame(OPCODE.pong, 'still-here');
  const ponger = setInterval(() => {
    for (const ws of t.held) if (ws.write(pong)) t.sent(1, pong.length);
  }, 1000);
  await loops(t, 10, CAPS.bigSinceSockets, async () => {
    const ws = await t.open(path, { stopReading: true });
    if (ws.status !== 101) await t.sleep(100);
  });
  clearInterval(ponger);
  t.stop();
  stopped();
  // Read whatever the server still has for the held sockets (skipping payloads) to see how it
  // closed them; up to 2 s.
  for (const ws of t.held) ws.resume();
  const deadline = performance.now() + 2000;
  while (t.held.size > 0 && performance.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
}

// ---------------------------------------------------------------------------------------------
// 2, 3, 7. Connect, wait for the welcome, close: with since=0-0 on the big room, to new rooms,
// and into the neighbours' room with a new identity each time.

async function connectReadClose(t: Tally, nextPath: () => string): Promise<void> {
  await loops(t, 8, CAPS.connections, async () => {
    const ws = await t.open(nextPath());
    if (ws.status !== 101) {
      await t.sleep(20);
      return;
    }
    if (await t.welcome(ws, 5000)) ws.close(1000);
    else ws.reset();
  });
}

// ---------------------------------------------------------------------------------------------
// 4. Connection flood: open and hold as many as possible, 50 handshakes at a time.

async function connFlood(t: Tally): Promise<void> {
  const path = roomPath('attack_hold');
  await loops(t, 50, CAPS.connections, () => t.open(path));
}

// ---------------------------------------------------------------------------------------------
// 5. Pre-welcome flood: 128 frames of 16 KiB (2 MiB) behind the upgrade request, before the
// server could answer it, let alone set the socket up. Once the server has welcomed (or closed)
// the socket and taken all 2 MiB, it is closed and the next one goes.

async function preWelcome(t: Tally): Promise<void> {
  const frame = clientFrame(OPCODE.text, oversizedMessage(FRAME_BYTES));
  const count = 128;
  const burst = Buffer.concat(Array.from({ length: count }, () => frame));
  const path = roomPath('attack_early');
  await loops(t, 10, CAPS.connections, async () => {
    const ws = await t.open(path, { early: burst });
    if (ws.status !== 101) {
      // Refused: the server answered the request alone; what followed it is no frame to it.
      await t.sleep(20);
      return;
    }
    t.sent(count, burst.length);
    await Promise.race([t.welcome(ws, 3000), t.ended(ws, 3000)]);
    if (ws.socket.writableLength > 0) await drained(ws, Math.min(2000, t.timeLeft));
    ws.close(1000);
  });
}

// ---------------------------------------------------------------------------------------------
// 6. Invalid frames: after the welcome, 16 KiB frames of bad JSON and of too-long texts, as fast
// as the socket takes them, on 8 sockets (reopened when the server closes one).

async function invalidFrames(t: Tally): Promise<void> {
  const frames = [
    clientFrame(OPCODE.text, '{' + 'x'.repeat(FRAME_BYTES - 1)),
    clientFrame(OPCODE.text, oversizedMessage(FRAME_BYTES)),
  ];
  const path = roomPath('attack_junk');
  await loops(t, 8, CAPS.connections, async () => {
    const ws = await t.open(path);
    if (ws.status !== 101) {
      await t.sleep(50);
      return;
    }
    if (await t.welcome(ws, 5000)) await pump(t, ws, frames);
    ws.reset();
  });
}

/** Writes `frames` in turn while the socket is open, waiting for 'drain' whenever it is full. */
async function pump(t: Tally, ws: RawWs, frames: Buffer[]): Promise<void> {
  let i = 0;
  while (ws.open && t.timeLeft > 0) {
    const frame = frames[i++ % frames.length]!;
    const more = ws.write(frame);
    t.sent(1, frame.length);
    if (!more) await drained(ws, t.timeLeft);
    // Yield now and then, so that reading (and the deadline) get their turn.
    else if (i % 64 === 0) await new Promise((resolve) => setImmediate(resolve));
  }
}

function drained(ws: RawWs, timeoutMs: number): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      ws.socket.off('drain', done);
      ws.socket.off('close', done);
      resolve();
    };
    const timer = setTimeout(done, Math.max(0, timeoutMs));
    ws.socket.once('drain', done);
    ws.socket.once('close', done);
  });
}

// ---------------------------------------------------------------------------------------------
// 8. The HTTP API, 20 requests at a time over keep-alive connections.

async function hammerApi(t: Tally): Promise<void> {
  const agent = new Agent({ keepAlive: true, maxSockets: 20, localAddress: t.target.localAddress });
  const paths = ['/api/rooms', `/api/rooms/${encodeURIComponent(t.target.seedRoom)}/messages?limit=200`];
  let n = 0;
  await loops(t, 20, CAPS.requests, async () => {
    t.outcome.attempts += 1;
    const result = await get(agent, t.target, paths[n++ % paths.length]!);
    t.outcome.bytesReceived += result.bytes;
    if (result.status === 0) t.error(result.error ?? 'request_failed');
    else {
      bump(t.outcome.httpStatus, String(result.status));
      if (result.status >= 300) {
        bump(t.outcome.refused, String(result.status));
        t.outcome.retryAfter ??= result.retryAfter;
      }
    }
  });
  agent.destroy();
}

function get(
  agent: Agent,
  target: AttackTarget,
  path: string,
): Promise<{ status: number; bytes: number; retryAfter?: string; error?: string }> {
  return new Promise((resolve) => {
    const req = request({ host: target.host, port: target.port, path, agent, timeout: 5000 }, (res) => {
      let bytes = 0;
      res.on('data', (chunk: Buffer) => (bytes += chunk.length));
      res.on('end', () => {
        const retryAfter = res.headers['retry-after'];
        resolve({
          status: res.statusCode ?? 0,
          bytes,
          ...(retryAfter === undefined ? {} : { retryAfter: String(retryAfter) }),
        });
      });
      res.on('error', () => resolve({ status: 0, bytes, error: 'response_error' }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', (err: NodeJS.ErrnoException) => resolve({ status: 0, bytes: 0, error: err.code ?? err.message }));
    req.end();
  });
}

// ---------------------------------------------------------------------------------------------

/**
 * Runs one attack until `durationMs` has passed (or a loop cap is reached), calls `stopped` the
 * moment the attack proper ends (before clean-up), and returns what it achieved.
 */
export async function runAttack(req: AttackRequest, stopped: () => void = () => {}): Promise<AttackOutcome> {
  const t = new Tally(req.attack, req.target, performance.now() + req.durationMs);
  let sequence = 0;
  switch (req.attack) {
    case 'big-since':
      await bigSince(t, stopped);
      break;
    case 'reconnect':
      await connectReadClose(t, () => roomPath(req.target.seedRoom, { since: '0-0' }));
      break;
    case 'room-flood':
      await connectReadClose(t, () => roomPath(`flood_${randomBytes(6).toString('hex')}`));
      break;
    case 'join-leave':
      await connectReadClose(t, () => roomPath(req.target.neighbourRoom, { name: `Mallory ${++sequence}` }));
      break;
    case 'conn-flood':
      await connFlood(t);
      break;
    case 'pre-welcome':
      await preWelcome(t);
      break;
    case 'invalid-frames':
      await invalidFrames(t);
      break;
    case 'http':
      await hammerApi(t);
      break;
  }
  if (req.attack !== 'big-since') {
    t.stop();
    stopped();
  }
  // Clean-up: what is still open is reset (its close events, which count its bytes, follow at once).
  t.resetAll();
  await new Promise((resolve) => setTimeout(resolve, 100));
  return t.outcome;
}

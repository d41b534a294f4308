// The load generator. It opens R rooms × C clients, has S senders per room publish at a given
// total rate (open loop: sends never wait for deliveries), embeds an id and the send time in each
// message and measures every delivery. It runs in its own process (pinned by the harness), driven
// over IPC; the smoke test also uses the class in-process.
import { pathToFileURL } from 'node:url';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import * as hdr from 'hdr-histogram-js';
import {
  FrameKind,
  SIO_CONNECT,
  SIO_PONG,
  classify,
  connectUrl,
  encodeMessage,
  makeText,
  readMarker,
  readyOnOpen,
  subprotocols,
  type Protocol,
} from './protocols.ts';
import { DeployGenerator, type DeployCommand } from './storms/deploygen.ts';
import { WireClient } from './wire-client.ts';

export interface ConnectRequest {
  /** Server base URLs (ws://127.0.0.1:port); client c of every room uses endpoints[c % length]. */
  endpoints: string[];
  protocol: Protocol;
  rooms: number;
  clientsPerRoom: number;
  /** The first S clients of each room send. */
  sendersPerRoom: number;
  /** Room names are `<prefix>r<index>`: letters and digits only, valid for every system. */
  roomPrefix: string;
  /** Connections being opened at once. */
  concurrency: number;
  /** Budget for the whole connect phase. */
  timeoutMs: number;
}

export interface ConnectResult {
  requested: number;
  connected: number;
  failed: number;
  elapsedMs: number;
  /** Connections made ready per second (v1: welcome received; Socket.IO: namespace joined). */
  openPerSec: number;
  firstError?: string;
  /** What the joins cost on the wire and how long each took (absent in results of earlier versions). */
  joins?: JoinSummary;
}

/**
 * The joins of a connect phase, per client: bytes the server wrote to it until it was ready
 * (the 101 response and every frame up to and including the welcome / namespace connect, with
 * their WebSocket headers), and when it was ready.
 */
export interface JoinSummary {
  /** Bytes until ready, over the clients that got ready. */
  readyBytes: { mean: number; p50: number; max: number };
  /** Ms from the start of the connect phase until each client was ready. */
  readyAtMs: { p50: number; p99: number; max: number };
  /** Ms from each client's own connection attempt until it was ready. */
  handshakeMs: { p50: number; p99: number; max: number };
}

/** Bytes the server wrote to the clients (as received), since they were opened. */
export interface Traffic {
  bytes: number;
  frames: number;
  open: number;
}

export interface RunRequest {
  /** Total publish rate over all senders, messages/s. */
  rate: number;
  warmupMs: number;
  durationMs: number;
  /** Longest wait after the last send for the deliveries still in flight. */
  drainMs: number;
  /** Size of each message text in bytes. */
  textBytes: number;
}

export interface LatencySummary {
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  max: number;
  mean: number;
}

export interface RunResult {
  rate: number;
  /** Messages sent in the measured window. */
  sent: number;
  /** Deliveries owed for them: one per client open in the room when each was sent. */
  expected: number;
  /** Deliveries of them received by the end of the drain. */
  delivered: number;
  ratio: number;
  duplicates: number;
  /** Deliveries (of any message) received during the measured window, per second. */
  deliveredPerSec: number;
  sentPerSec: number;
  /** End-to-end latency of the measured messages, ms. */
  latencyMs: LatencySummary;
  windowMs: number;
  /** The generator's own CPU time in the window (ms) and as % of one core. */
  genCpuMs: number;
  genCpuPct: number;
  /** Event-loop delay of the generator (ms): high values mean the generator itself fell behind. */
  genLoopDelayMs: { p99: number; max: number };
  acks: number;
  errors: number;
  firstError?: string;
  disconnects: number;
  /** Clients open when the step started, and clients in all. */
  openAtStart: number;
  clients: number;
  /** Deliveries of messages from earlier steps that arrived during this one. */
  stale: number;
  /** Messages a sender could not send because its socket was closed. */
  unsent: number;
}

interface Room {
  name: string;
  clients: Client[];
  open: number;
}

interface Client {
  room: Room;
  url: string;
  ws: WireClient | undefined;
  open: boolean;
  ready: (() => void) | undefined;
  /** Bytes received: the 101 response, then every frame with its header. */
  bytes: number;
  frames: number;
  /** `bytes` when it got ready, and when (performance.now()); NaN until then. */
  readyBytes: number;
  readyAt: number;
  openedAt: number;
}

/** Bytes of a server-to-client WebSocket frame (unmasked) carrying `payload` bytes. */
export function frameBytes(payload: number): number {
  return payload + (payload < 126 ? 2 : payload < 65_536 ? 4 : 10);
}

type PhaseListener = (phase: 'start' | 'end') => void;

export class LoadGenerator {
  private protocol: Protocol = 'reference';
  private rooms: Room[] = [];
  private clients: Client[] = [];
  private senders: Client[] = [];

  // Per-step delivery accounting, indexed by message id - base.
  private nextId = 1;
  private base = 1;
  private capacity = 0;
  private expectedPer = new Uint16Array(0);
  private receivedPer = new Uint16Array(0);
  private measureFrom = Number.MAX_SAFE_INTEGER;
  private measureTo = Number.MAX_SAFE_INTEGER;
  private measuredDelivered = 0;
  private windowOpen = false;
  private windowDeliveries = 0;
  private duplicates = 0;
  private stale = 0;
  private acks = 0;
  private errors = 0;
  private firstError: string | undefined;
  private disconnects = 0;
  private histogram = newHistogram();
  private readonly marker = new Float64Array(1);

  constructor(private readonly onPhase: PhaseListener = () => {}) {}

  get openClients(): number {
    let n = 0;
    for (const room of this.rooms) n += room.open;
    return n;
  }

  /** Opens every client; resolves when all are ready or failed. */
  async connect(req: ConnectRequest): Promise<ConnectResult> {
    await this.close();
    this.protocol = req.protocol;
    this.rooms = [];
    this.clients = [];
    this.senders = [];
    for (let r = 0; r < req.rooms; r++) {
      const room: Room = { name: `${req.roomPrefix}r${r}`, clients: [], open: 0 };
      for (let c = 0; c < req.clientsPerRoom; c++) {
        const endpoint = req.endpoints[c % req.endpoints.length]!;
        const client: Client = {
          room,
          url: connectUrl(req.protocol, endpoint, room.name, `b${r}c${c}`),
          ws: undefined,
          open: false,
          ready: undefined,
          bytes: 0,
          frames: 0,
          readyBytes: NaN,
          readyAt: NaN,
          openedAt: NaN,
        };
        room.clients.push(client);
        this.clients.push(client);
      }
      this.rooms.push(room);
    }
    // Senders interleaved room by room, so a partial send loop spreads over the rooms.
    for (let c = 0; c < req.sendersPerRoom; c++)
      for (const room of this.rooms) if (room.clients[c]) this.senders.push(room.clients[c]!);

    const started = performance.now();
    const deadline = Date.now() + req.timeoutMs;
    let next = 0;
    let failed = 0;
    let firstError: string | undefined;
    const worker = async () => {
      while (next < this.clients.length && Date.now() < deadline) {
        const client = this.clients[next++]!;
        try {
          await this.open(client, Math.min(15_000, Math.max(1, deadline - Date.now())));
        } catch (err) {
          failed += 1;
          firstError ??= (err as Error).message;
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(req.concurrency, this.clients.length) }, worker));
    const elapsedMs = performance.now() - started;
    const connected = this.openClients;
    return {
      requested: this.clients.length,
      connected,
      failed: this.clients.length - connected,
      elapsedMs,
      openPerSec: connected / (elapsedMs / 1000),
      ...(firstError === undefined && failed === 0 ? {} : { firstError: firstError ?? 'timed out' }),
      joins: this.joinSummary(started),
    };
  }

  private joinSummary(started: number): JoinSummary {
    const ready = this.clients.filter((c) => Number.isFinite(c.readyAt));
    const bytes = Float64Array.from(ready, (c) => c.readyBytes).sort();
    const at = Float64Array.from(ready, (c) => c.readyAt - started).sort();
    const handshake = Float64Array.from(ready, (c) => c.readyAt - c.openedAt).sort();
    let total = 0;
    for (const b of bytes) total += b;
    const spread = (xs: Float64Array) => ({ p50: quantile(xs, 0.5), p99: quantile(xs, 0.99), max: xs.at(-1) ?? NaN });
    return {
      readyBytes: {
        mean: ready.length > 0 ? total / ready.length : NaN,
        p50: quantile(bytes, 0.5),
        max: bytes.at(-1) ?? NaN,
      },
      readyAtMs: spread(at),
      handshakeMs: spread(handshake),
    };
  }

  /** Bytes and frames received by every client so far (the clients of the last connect). */
  traffic(): Traffic {
    let bytes = 0;
    let frames = 0;
    for (const c of this.clients) {
      bytes += c.bytes;
      frames += c.frames;
    }
    return { bytes, frames, open: this.openClients };
  }

  private open(client: Client, timeoutMs: number): Promise<void> {
    return new Promise((resolve, reject) => {
      client.openedAt = performance.now();
      let settled = false;
      const fail = (err: Error) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        reject(err);
      };
      const ws = new WireClient(client.url, subprotocols(this.protocol), {
        onOpen: (headBytes) => {
          client.bytes += headBytes;
          if (readyOnOpen(this.protocol)) client.ready?.();
        },
        onText: (data) => {
          client.bytes += frameBytes(data.length);
          client.frames += 1;
          this.onFrame(client, data);
        },
        onPing: (length) => {
          client.bytes += frameBytes(length);
        },
        onError: (err) => fail(err),
        onClose: (code) => {
          if (client.open) {
            client.open = false;
            client.room.open -= 1;
            this.disconnects += 1;
          }
          fail(new Error(`closed with ${code} before ready`));
        },
      });
      client.ws = ws;
      const timer = setTimeout(() => {
        fail(new Error(`not ready within ${timeoutMs} ms`));
        ws.terminate();
      }, timeoutMs);
      client.ready = () => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        client.open = true;
        client.room.open += 1;
        client.readyBytes = client.bytes;
        client.readyAt = performance.now();
        resolve();
      };
    });
  }

  private onFrame(client: Client, data: Buffer): void {
    const kind = classify(this.protocol, data);
    if (kind === FrameKind.Message) {
      const id = readMarker(data, this.marker);
      if (id >= 0) this.record(id, this.marker[0]!);
      return;
    }
    switch (kind) {
      case FrameKind.Ack:
        this.acks += 1;
        break;
      case FrameKind.Ready:
        client.ready?.();
        break;
      case FrameKind.SioOpen:
        client.ws?.send(SIO_CONNECT);
        break;
      case FrameKind.Ping:
        client.ws?.send(SIO_PONG);
        break;
      case FrameKind.Error:
        this.errors += 1;
        this.firstError ??= data.toString().slice(0, 300);
        break;
      default:
        break;
    }
  }

  private record(id: number, sentUs: number): void {
    const k = id - this.base;
    if (k < 0 || k >= this.capacity) {
      this.stale += 1;
      return;
    }
    if (this.windowOpen) this.windowDeliveries += 1;
    const n = ++this.receivedPer[k]!;
    if (n > this.expectedPer[k]!) {
      this.duplicates += 1;
      return;
    }
    if (k >= this.measureFrom && k < this.measureTo) {
      this.measuredDelivered += 1;
      const latencyUs = performance.now() * 1000 - sentUs;
      this.histogram.recordValue(Math.max(1, Math.round(latencyUs)));
    }
  }

  /** Publishes at `rate` for warmup + duration, then waits for the deliveries in flight. */
  async run(req: RunRequest): Promise<RunResult> {
    const senders = this.senders;
    if (senders.length === 0) throw new Error('no senders: connect first');
    const totalMs = req.warmupMs + req.durationMs;
    const perSender = req.rate / senders.length;
    this.base = this.nextId;
    this.capacity = Math.ceil((req.rate * totalMs) / 1000) + senders.length + 16;
    if (this.capacity > 20_000_000) throw new Error(`step too large: ${this.capacity} messages`);
    this.expectedPer = new Uint16Array(this.capacity);
    this.receivedPer = new Uint16Array(this.capacity);
    this.measureFrom = Number.MAX_SAFE_INTEGER;
    this.measureTo = Number.MAX_SAFE_INTEGER;
    this.measuredDelivered = 0;
    this.windowDeliveries = 0;
    this.duplicates = 0;
    this.stale = 0;
    this.acks = 0;
    this.errors = 0;
    this.firstError = undefined;
    this.disconnects = 0;
    this.histogram.reset();
    const openAtStart = this.openClients;
    const sentBy = new Float64Array(senders.length);
    // Senders are spread evenly over each period so they do not all fire at once.
    const phase = Float64Array.from(senders, (_, i) => i / senders.length);
    const loopDelay = monitorEventLoopDelay({ resolution: 5 });
    let unsent = 0;
    let windowStart = 0;
    let windowMs = 0;
    let cpuAtStart = process.cpuUsage();
    let cpu = { user: 0, system: 0 };
    const protocol = this.protocol;
    const textBytes = req.textBytes;

    const started = performance.now();
    await new Promise<void>((resolve) => {
      const tick = () => {
        const now = performance.now();
        const elapsed = now - started;
        if (!this.windowOpen && windowStart === 0 && elapsed >= req.warmupMs) {
          this.measureFrom = this.nextId - this.base;
          this.windowDeliveries = 0;
          this.windowOpen = true;
          windowStart = now;
          cpuAtStart = process.cpuUsage();
          loopDelay.enable();
          this.onPhase('start');
        }
        const until = Math.min(elapsed, totalMs) / 1000;
        const sentUs = Math.round(now * 1000);
        for (let s = 0; s < senders.length; s++) {
          const target = Math.floor(until * perSender + phase[s]!);
          const client = senders[s]!;
          while (sentBy[s]! < target) {
            sentBy[s]! += 1;
            const id = this.nextId++;
            const k = id - this.base;
            if (!client.open || k >= this.capacity) {
              unsent += 1;
              continue;
            }
            this.expectedPer[k] = client.room.open;
            client.ws!.send(encodeMessage(protocol, makeText(id, sentUs, textBytes), id));
          }
        }
        if (elapsed >= totalMs) {
          clearInterval(timer);
          this.measureTo = this.nextId - this.base;
          this.windowOpen = false;
          windowMs = performance.now() - windowStart;
          cpu = process.cpuUsage(cpuAtStart);
          loopDelay.disable();
          this.onPhase('end');
          resolve();
        }
      };
      const timer = setInterval(tick, 1);
    });
    const windowDeliveries = this.windowDeliveries;

    let expected = 0;
    for (let k = this.measureFrom; k < this.measureTo; k++) expected += this.expectedPer[k]!;
    const drainUntil = performance.now() + req.drainMs;
    while (this.measuredDelivered < expected && performance.now() < drainUntil) await sleep(10);

    const sent = this.measureTo - this.measureFrom;
    const h = this.histogram;
    const ms = (us: number) => us / 1000;
    const genCpuMs = (cpu.user + cpu.system) / 1000;
    return {
      rate: req.rate,
      sent,
      expected,
      delivered: this.measuredDelivered,
      ratio: expected === 0 ? 0 : this.measuredDelivered / expected,
      duplicates: this.duplicates,
      deliveredPerSec: windowDeliveries / (windowMs / 1000),
      sentPerSec: sent / (windowMs / 1000),
      latencyMs: {
        p50: ms(h.getValueAtPercentile(50)),
        p90: ms(h.getValueAtPercentile(90)),
        p99: ms(h.getValueAtPercentile(99)),
        p999: ms(h.getValueAtPercentile(99.9)),
        max: ms(h.maxValue),
        mean: ms(h.mean),
      },
      windowMs,
      genCpuMs,
      genCpuPct: (100 * genCpuMs) / windowMs,
      genLoopDelayMs: { p99: loopDelay.percentile(99) / 1e6, max: loopDelay.max / 1e6 },
      acks: this.acks,
      errors: this.errors,
      ...(this.firstError === undefined ? {} : { firstError: this.firstError }),
      disconnects: this.disconnects,
      openAtStart,
      clients: this.clients.length,
      stale: this.stale,
      unsent,
    };
  }

  /** Closes every client (gracefully, then by force after a few seconds). */
  async close(): Promise<void> {
    const sockets = this.clients.map((c) => c.ws).filter((ws): ws is WireClient => ws !== undefined);
    this.clients = [];
    this.rooms = [];
    this.senders = [];
    for (const ws of sockets) ws.close(1000);
    const timeout = sleep(3000).then(() => sockets.forEach((ws) => ws.terminate()));
    await Promise.race([Promise.all(sockets.map((ws) => ws.closed)), timeout]);
  }
}

function newHistogram() {
  // Microseconds, 1 µs to 10 minutes, 3 significant digits.
  return hdr.build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: 600_000_000,
    numberOfSignificantValueDigits: 3,
    bitBucketSize: 64,
    autoResize: true,
    useWebAssembly: false,
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** The value at quantile q (0–1) of sorted values; NaN when there are none. */
function quantile(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

/** IPC messages between the harness and a generator process. */
export type GeneratorCommand =
  | { id: number; cmd: 'connect'; args: ConnectRequest }
  | { id: number; cmd: 'run'; args: RunRequest }
  | { id: number; cmd: 'traffic' }
  | { id: number; cmd: 'close' }
  | ({ id: number } & DeployCommand);
export type GeneratorReply =
  | { id: number; ok: true; result: unknown }
  | { id: number; ok: false; error: string }
  | { event: 'phase'; phase: 'start' | 'end' };

// As a child process: serve commands over IPC, exit when the harness goes away.
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  if (process.send === undefined) {
    console.error('loadgen runs as a child of the bench harness (it needs an IPC channel)');
    process.exit(2);
  }
  const send = (msg: GeneratorReply) => process.send!(msg);
  const gen = new LoadGenerator((phase) => send({ event: 'phase', phase }));
  // Workload g's clients (reconnecting with `since`, resending what was not acked).
  const deploy = new DeployGenerator();
  process.on('disconnect', () => process.exit(0));
  process.on('message', (msg: GeneratorCommand) => {
    const serve = async (): Promise<unknown> => {
      switch (msg.cmd) {
        case 'connect':
          return gen.connect(msg.args);
        case 'run':
          return gen.run(msg.args);
        case 'traffic':
          return gen.traffic();
        case 'close':
          await Promise.all([gen.close(), deploy.close()]);
          return null;
        default:
          return deploy.serve(msg);
      }
    };
    const work = serve();
    work.then(
      (result) => send({ id: msg.id, ok: true, result }),
      (err: unknown) =>
        send({ id: msg.id, ok: false, error: err instanceof Error ? (err.stack ?? err.message) : String(err) }),
    );
  });
}

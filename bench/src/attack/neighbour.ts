// The neighbour: an ordinary user on another address, chatting in its own room at a steady rate
// for the whole run while the harness labels the time windows (warm-up, quiet, attack, after).
// It measures send → ack on the sending sockets and send → arrival on a second, receiving socket.
// Runs as a child process of the harness (pinned to the client core), driven over IPC; it speaks
// parley.v1 through the `ws` library, as a real client would.
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import WebSocket from 'ws';
import type { Counts, LatencySummary, NeighbourWindow } from './types.ts';

export interface NeighbourConfig {
  /** ws://127.0.0.1:<port> */
  base: string;
  room: string;
  localAddress: string;
  /** Messages per second over all senders. */
  rate: number;
  senders: number;
}

/** Sampling interval of the neighbour's own event-loop delay. */
const LOOP_RESOLUTION_MS = 10;

/** One sent message. */
interface Sent {
  phase: string;
  sentAt: number;
  ackMs?: number;
  deliveryMs?: number;
  /** The error code it was refused with. */
  refused?: string;
}

interface PhaseData {
  startedAt: number;
  endedAt?: number;
  skipped: number;
  errors: Counts;
  disconnects: Counts;
  loopDelayP99Ms: number;
}

/** A socket that reconnects (after 250 ms) when it is closed under it. */
class Connection {
  private ws: WebSocket | undefined;
  /** True from the welcome until the socket closes. */
  ready = false;
  private stopped = false;
  private firstWelcome: (() => void) | undefined;
  readonly welcomed: Promise<void>;

  constructor(
    private readonly url: string,
    private readonly localAddress: string,
    private readonly onFrame: (frame: Record<string, unknown>) => void,
    private readonly onDrop: (why: string) => void,
  ) {
    this.welcomed = new Promise((resolve) => (this.firstWelcome = resolve));
    this.connect();
  }

  send(text: string): void {
    this.ws?.send(text);
  }

  close(): void {
    this.stopped = true;
    this.ws?.close(1000);
  }

  private connect(): void {
    const ws = new WebSocket(this.url, ['parley.v1'], {
      localAddress: this.localAddress,
      perMessageDeflate: false,
      handshakeTimeout: 5000,
    });
    this.ws = ws;
    let dropped = false;
    const drop = (why: string) => {
      this.ready = false;
      if (dropped || this.stopped) return;
      dropped = true;
      this.onDrop(why);
      setTimeout(() => this.connect(), 250);
    };
    ws.on('message', (data) => {
      const frame = JSON.parse(data.toString()) as Record<string, unknown>;
      if (frame.type === 'welcome') {
        this.ready = true;
        this.firstWelcome?.();
      }
      this.onFrame(frame);
    });
    ws.on('unexpected-response', (req, res) => {
      req.destroy();
      drop(`http ${res.statusCode}`);
    });
    ws.on('error', () => {
      // The close that follows says what happened.
    });
    ws.on('close', (code) => drop(String(code)));
  }
}

export class Neighbour {
  private readonly senders: Connection[];
  private readonly receiver: Connection;
  private readonly sent = new Map<number, Sent>();
  private readonly phases = new Map<string, PhaseData>();
  private phase = 'setup';
  private sequence = 0;
  private nextAt = 0;
  private timer: NodeJS.Timeout | undefined;
  private readonly loopDelay = monitorEventLoopDelay({ resolution: LOOP_RESOLUTION_MS });

  constructor(private readonly config: NeighbourConfig) {
    const url = (i: number) =>
      `${config.base}/ws/chat/${encodeURIComponent(config.room)}/?name=${encodeURIComponent(`Neighbour ${i}`)}`;
    const drop = (why: string) => bump(this.current.disconnects, why);
    this.senders = Array.from(
      { length: config.senders },
      (_, i) => new Connection(url(i + 1), config.localAddress, (f) => this.onSenderFrame(f), drop),
    );
    this.receiver = new Connection(url(0), config.localAddress, (f) => this.onReceiverFrame(f), drop);
    this.phases.set(this.phase, emptyPhase());
    this.loopDelay.enable();
  }

  /** Resolves once every socket has its welcome; then the neighbour starts sending. */
  async start(timeoutMs: number): Promise<void> {
    const all = Promise.all([this.receiver, ...this.senders].map((c) => c.welcomed));
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`neighbour sockets not welcomed within ${timeoutMs} ms`)), timeoutMs);
    });
    await Promise.race([all, timeout]).finally(() => clearTimeout(timer));
    this.nextAt = performance.now();
    this.tick();
  }

  /** Starts a new window; messages are counted in the window they were sent in. */
  setPhase(name: string): void {
    const now = performance.now();
    this.current.endedAt = now;
    // The histogram holds whole timer intervals: the delay is what exceeds the interval.
    this.current.loopDelayP99Ms = Math.max(0, this.loopDelay.percentile(99) / 1e6 - LOOP_RESOLUTION_MS);
    this.loopDelay.reset();
    this.phase = name;
    this.phases.set(name, emptyPhase(now));
  }

  /** Stops sending, waits up to `drainMs` for the last acks, and summarises `windows`. */
  async finish(windows: string[], drainMs: number): Promise<NeighbourWindow[]> {
    clearTimeout(this.timer);
    this.setPhase('drain');
    const deadline = performance.now() + drainMs;
    while (
      performance.now() < deadline &&
      [...this.sent.values()].some((s) => s.ackMs === undefined && s.refused === undefined)
    ) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    // Deliveries trail acks by a moment.
    await new Promise((resolve) => setTimeout(resolve, 100));
    for (const c of [this.receiver, ...this.senders]) c.close();
    return windows.filter((w) => this.phases.has(w)).map((w) => this.summarise(w));
  }

  private get current(): PhaseData {
    return this.phases.get(this.phase)!;
  }

  /** Open loop: sends fall due at a fixed rate whatever the server does, spread over the senders. */
  private tick = (): void => {
    const interval = 1000 / this.config.rate;
    const now = performance.now();
    while (this.nextAt <= now) {
      this.sendOne();
      this.nextAt += interval;
    }
    this.timer = setTimeout(this.tick, Math.max(0, this.nextAt - performance.now()));
  };

  private sendOne(): void {
    const id = ++this.sequence;
    const sender = this.senders[id % this.senders.length]!;
    if (!sender.ready) {
      this.current.skipped += 1;
      return;
    }
    this.sent.set(id, { phase: this.phase, sentAt: performance.now() });
    sender.send(`{"type":"message","text":"~${id}~ hello from next door","clientMsgId":"n${id}"}`);
  }

  private onSenderFrame(frame: Record<string, unknown>): void {
    const now = performance.now();
    const id = typeof frame.clientMsgId === 'string' ? Number(frame.clientMsgId.slice(1)) : NaN;
    const message = this.sent.get(id);
    if (frame.type === 'ack' && message !== undefined) message.ackMs ??= now - message.sentAt;
    else if (frame.type === 'error') {
      bump(this.current.errors, String(frame.code));
      if (message !== undefined) message.refused ??= String(frame.code);
    }
  }

  private onReceiverFrame(frame: Record<string, unknown>): void {
    if (frame.type !== 'message' || typeof frame.text !== 'string') return;
    const id = Number(/^~(\d+)~/.exec(frame.text)?.[1]);
    const message = this.sent.get(id);
    if (message !== undefined) message.deliveryMs ??= performance.now() - message.sentAt;
  }

  private summarise(phase: string): NeighbourWindow {
    const data = this.phases.get(phase)!;
    const messages = [...this.sent.values()].filter((s) => s.phase === phase);
    const acked = messages.filter((s) => s.ackMs !== undefined);
    return {
      phase,
      durationMs: Math.round((data.endedAt ?? performance.now()) - data.startedAt),
      sent: messages.length,
      acked: acked.length,
      unacked: messages.length - acked.length,
      skipped: data.skipped,
      ack: latencies(messages.map((s) => s.ackMs)),
      delivery: latencies(messages.map((s) => s.deliveryMs)),
      errors: data.errors,
      disconnects: data.disconnects,
      clientLoopDelayP99Ms: round(data.loopDelayP99Ms),
    };
  }
}

function emptyPhase(startedAt = performance.now()): PhaseData {
  return { startedAt, skipped: 0, errors: {}, disconnects: {}, loopDelayP99Ms: 0 };
}

function bump(counts: Counts, key: string): void {
  counts[key] = (counts[key] ?? 0) + 1;
}

const round = (x: number) => Math.round(x * 100) / 100;

/**
 * Percentiles of latencies in ms, where `undefined` (never answered) counts as infinitely late:
 * a percentile that falls on those is null. Nearest-rank.
 */
export function latencies(values: Array<number | undefined>): LatencySummary {
  const sorted = values.map((v) => v ?? Infinity).sort((a, b) => a - b);
  const at = (p: number): number | null => {
    if (sorted.length === 0) return null;
    const v = sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))]!;
    return Number.isFinite(v) ? round(v) : null;
  };
  return { count: sorted.length, p50: at(0.5), p90: at(0.9), p99: at(0.99), max: at(1) };
}

// ---------------------------------------------------------------------------------------------
// As a child process: {cmd:'start', config} → {event:'ready'}; {cmd:'phase', name};
// {cmd:'finish', windows, drainMs} → {event:'windows', windows}.

if (process.send !== undefined && process.argv[1]?.includes('neighbour')) {
  let neighbour: Neighbour | undefined;
  const send = (event: Record<string, unknown>) => process.send?.(event);
  process.on(
    'message',
    (msg: { cmd: string; config?: NeighbourConfig; name?: string; windows?: string[]; drainMs?: number }) => {
      if (msg.cmd === 'start') {
        neighbour = new Neighbour(msg.config!);
        neighbour.start(15_000).then(
          () => send({ event: 'ready' }),
          (err: unknown) => send({ event: 'ready', error: (err as Error).message }),
        );
      } else if (msg.cmd === 'phase') neighbour?.setPhase(msg.name!);
      else if (msg.cmd === 'finish') {
        void neighbour?.finish(msg.windows!, msg.drainMs!).then((windows) => send({ event: 'windows', windows }));
      }
    },
  );
  process.on('disconnect', () => process.exit(0));
}

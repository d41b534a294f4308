// Shapes shared by the attack harness, its two child processes (attacker and neighbour) and the
// report. Everything here goes into the results JSON, so it holds numbers and strings only.
import type { Machine } from '../types.ts';

export const ATTACK_IDS = [
  'big-since',
  'reconnect',
  'room-flood',
  'conn-flood',
  'pre-welcome',
  'invalid-frames',
  'join-leave',
  'http',
] as const;
export type AttackId = (typeof ATTACK_IDS)[number];

export const ATTACK_SYSTEMS = ['parley-memory', 'parley-redis'] as const;
export type AttackSystem = (typeof ATTACK_SYSTEMS)[number];

/**
 * Source addresses. Per-address limits must hit the attacker only, as with two people on the
 * internet: every role connects from its own loopback address (Linux routes all of 127/8 to lo).
 */
export const ADDRESSES = {
  attacker: '127.0.0.1',
  neighbour: '127.0.0.2',
  /** Seeders use 127.0.0.3 … 127.0.0.12, so seeding a room never spends anyone else's budget. */
  seedFirst: 3,
  seedCount: 10,
  /** The harness's own look-ups (/readyz, /metrics, the welcome probe). */
  probe: '127.0.0.13',
} as const;

/** Where and what the attacker attacks. */
export interface AttackTarget {
  host: string;
  port: number;
  localAddress: string;
  /** The neighbour's room (the join/leave flood goes there). */
  neighbourRoom: string;
  /** A room seeded with big messages (the `since` attacks and the history hammering read it). */
  seedRoom: string;
}

export interface AttackRequest {
  attack: AttackId;
  target: AttackTarget;
  durationMs: number;
}

/** Counts by key (an HTTP status, a close code, an error code, an errno). */
export type Counts = Record<string, number>;

/** What one attack achieved, as the attacker saw it. */
export interface AttackOutcome {
  attack: AttackId;
  /** How long it attacked (until its deadline or a cap). */
  elapsedMs: number;
  /** Connections (or HTTP requests) started. */
  attempts: number;
  /** WebSocket upgrades answered 101. */
  opened: number;
  /** Welcome frames received (only the attacks that read them). */
  welcomes: number;
  /** Largest welcome frame, in bytes. */
  maxWelcomeBytes: number;
  /** Upgrades or requests answered with another status than 101/2xx, by status. */
  refused: Counts;
  /** The first Retry-After header value seen on a refusal. */
  retryAfter?: string;
  /** Most sockets open at once. */
  maxHeld: number;
  /** Sockets still open when the attack ended. */
  heldAtEnd: number;
  /** How the server closed sockets: close code, or `drop` for a TCP close without a close frame. */
  closes: Counts;
  /** Frames written by the attacker after its upgrades (pongs, junk), and their bytes. */
  framesSent: number;
  bytesSent: number;
  bytesReceived: number;
  /** `error` frames received, by code. */
  errorFrames: Counts;
  /** HTTP answers by status (the API attack). */
  httpStatus: Counts;
  /** Client-side failures (ECONNRESET, EADDRINUSE, timeouts …), by code. */
  attackerErrors: Counts;
  firstError?: string;
  /** A loop cap that ended the attack before its deadline, if any. */
  capped?: string;
}

/** Latency percentiles in ms; null where the percentile falls on messages never acknowledged. */
export interface LatencySummary {
  count: number;
  p50: number | null;
  p90: number | null;
  p99: number | null;
  max: number | null;
}

/** The neighbour's view of one window (quiet, attack, after). */
export interface NeighbourWindow {
  phase: string;
  durationMs: number;
  sent: number;
  acked: number;
  /** Sent and never acknowledged (refused with an error frame, or no answer by the end). */
  unacked: number;
  /** Messages the schedule could not send because the sender's socket was not open. */
  skipped: number;
  /** Send → ack, ms (unacked messages count as infinitely late). */
  ack: LatencySummary;
  /** Send → arrival at the second (receiving) neighbour socket, ms. */
  delivery: LatencySummary;
  /** `error` frames the neighbour got, by code (rate_limited here would mean the limits hit the wrong address). */
  errors: Counts;
  /** Neighbour sockets closed under it, by close code. */
  disconnects: Counts;
  /** The neighbour process's own event-loop delay p99 (ms): a busy client would look like a slow server. */
  clientLoopDelayP99Ms: number;
}

/** The server's side of a run. */
export interface ServerFigures {
  pid: number;
  rssBeforeKb: number;
  /** Highest VmRSS sampled (every 100 ms) from the attack's start to the end of the "after" window. */
  rssPeakKb: number;
  rssAfterKb: number;
  cpuPctQuiet: number;
  cpuPctAttack: number;
  /** Bytes the server logged during the attack window (its log goes to a file). */
  logBytesAttack: number;
  redisRssBeforeKb?: number;
  redisRssPeakKb?: number;
  /** The process was alive and answered /readyz after the attack. */
  survived: boolean;
  /** A few gauges and counters from /metrics after the attack (when it answered). */
  metricsAfter?: Record<string, number>;
  exit?: string;
}

export interface SeedFigures {
  room: string;
  requested: number;
  stored: number;
  textBytes: number;
  elapsedMs: number;
  rateLimited: number;
  /** What a `since=0-0` welcome of the seeded room holds (from the probe address). */
  welcomeBytes: number;
  welcomeMessages: number;
  welcomeHasNewer?: boolean;
  error?: string;
}

export interface AttackRun {
  system: AttackSystem;
  attack: AttackId;
  startedAt: string;
  durationS: number;
  seed?: SeedFigures;
  quiet?: NeighbourWindow;
  underAttack?: NeighbourWindow;
  after?: NeighbourWindow;
  attacker?: AttackOutcome;
  server?: ServerFigures;
  /** CPU used by processes outside this benchmark, % of one core (noise): in the quiet and the attack window. */
  otherCpuPctQuiet?: number;
  otherCpuPctAttack?: number;
  /** How long the run waited for the machine to calm down before starting, and how busy it still was then. */
  waitedForQuietS?: number;
  otherCpuPctAtStart?: number;
  /** Other attempts at this run, set aside because other processes loaded the machine more during them. */
  noisyAttempts?: Array<{
    startedAt: string;
    otherCpuPctQuiet?: number;
    otherCpuPctAttack?: number;
    quietP99: number | null | undefined;
    attackP99: number | null | undefined;
  }>;
  /** p99 under attack ÷ quiet p99 (null when a p99 is unknown or infinite). */
  p99Ratio: number | null;
  goalMet: boolean;
  error?: string;
}

export interface AttackSettings {
  warmupMs: number;
  quietMs: number;
  attackMs: number;
  afterMs: number;
  drainMs: number;
  /** Neighbour messages per second, and sockets they are spread over. */
  rate: number;
  senders: number;
  seedMessages: number;
  seedTextBytes: number;
  goalFactor: number;
  /** A run during which other processes used more than this (% of a core) is measured again … */
  noisyOtherPct: number;
  /** … at most this many times; the least noisy attempt is kept. */
  noisyRetries: number;
  logLevel: string;
  /** The server that ran: the working tree's build, or a git revision built aside. */
  server: string;
}

export interface AttackResults {
  kind: 'attack';
  version: 1;
  date: string;
  label?: string;
  startedAt: string;
  finishedAt: string;
  durationS: number;
  machine: Machine;
  commands: string[];
  settings: AttackSettings;
  runs: AttackRun[];
  notes: string[];
  /** Runs replaced by a later measurement merged in (--merge-into), with the notes saying why. */
  superseded?: AttackRun[];
  /** Results of an earlier run shown side by side ("before"), by system and attack. */
  before?: { file: string; server: string; date: string; runs: AttackRun[] };
}

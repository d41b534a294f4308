// Results of workloads e (one big room), f (the join storm) and g (the deploy storm).
import type { JoinSummary } from '../loadgen.ts';
import type { Protocol } from '../protocols.ts';
import type { DeployFinishResult, DeployWaitResult } from './deploygen.ts';

export interface StormSettings {
  /** Members of the one room, in e and f. */
  bigRoomSizes: number[];
  /** Senders in e, one message a second each. */
  bigRoomSenders: number;
  bigRoomWarmupMs: number;
  bigRoomDurationMs: number;
  /** Connections opened at once while e fills its room (a steady arrival). */
  joinConcurrency: number;
  /** Connections opened at once in f (as fast as they can). */
  stormConcurrency: number;
  deployClients: number;
  deployRooms: number;
  /** Messages per second over all of g's senders (one per room). */
  deployRate: number;
  /** DRAIN_MS of the instance that is stopped in g. */
  deployDrainMs: number;
  /** g: messages flowing before the SIGTERM (the Redis commands' baseline is measured here). */
  deployBaselineMs: number;
  /** g: messages flowing after every client recovered, before the comparison. */
  deployAfterMs: number;
  /** g: the web client's reconnect backoff. */
  deployBackoff: { minMs: number; maxMs: number };
}

/** What filling a room cost: the connect phase plus a settle, until the server is quiet. */
export interface JoinPhase {
  requested: number;
  connected: number;
  /** Connections opened at once. */
  concurrency: number;
  /** From the first connection attempt until every client was ready (welcome / namespace connect / open). */
  elapsedMs: number;
  joins?: JoinSummary;
  /** After the last join, until the server's CPU was quiet (trailing presence frames and the like). */
  settleMs: number;
  /** Bytes every client received from its first byte to the end of the settle, with WebSocket headers and the 101 response. */
  totalBytes: number;
  frames: number;
  /** Parley only: parley_bytes_out_total over the same span (payloads, no headers, no handshake). */
  parleyPayloadBytes?: number;
  serverCpuMs: number;
  serverKernelMs: number;
  redisCpuMs: number | null;
  genCpuMs: number;
  /** CPU used meanwhile by processes outside the benchmark (ms). */
  otherCpuMs: number;
  firstError?: string;
}

/** Workload e at one size, one system. */
export interface BigRoomResult {
  system: string;
  label: string;
  protocol: Protocol;
  members: number;
  senders: number;
  join: JoinPhase | null;
  step: BigRoomStep | null;
  durationS: number;
  error?: string;
  skipped?: string;
}

export interface BigRoomStep {
  rate: number;
  sent: number;
  expected: number;
  delivered: number;
  ratio: number;
  duplicates: number;
  deliveredPerSec: number;
  latencyMs: { p50: number; p90: number; p99: number; max: number };
  windowMs: number;
  serverCpuMs: number;
  serverCpuPct: number;
  /** Server CPU µs per delivery in the measured window. */
  serverUsPerDelivery: number;
  redisCpuPct: number | null;
  genCpuPct: number;
  otherCpuPct: number;
  disconnects: number;
  errors: number;
  firstError?: string;
}

/** Workload f at one size, one system. */
export interface JoinStormResult {
  system: string;
  label: string;
  protocol: Protocol;
  members: number;
  join: JoinPhase | null;
  durationS: number;
  error?: string;
  skipped?: string;
}

/** Workload g for one system. */
export interface DeployStormResult {
  system: string;
  label: string;
  protocol: Protocol;
  clients: number;
  rooms: number;
  rate: number;
  drainMs: number;
  backoff: { minMs: number; maxMs: number };
  connect: { requested: number; connected: number; elapsedMs: number; firstError?: string } | null;
  recovery: DeployWaitResult | null;
  /** The stopped instance's exit (code or signal) and how long it took from SIGTERM. */
  oldInstanceExit?: { code: string; afterMs: number };
  outcome: DeployFinishResult | null;
  /** Redis commands (INFO commandstats) while clients recovered, against the flow's own rate before. */
  redis?: RedisCommandCost;
  /** CPU during the recovery window (SIGTERM → every client recovered), ms. */
  cpu?: { oldInstanceMs: number; newInstanceMs: number; redisMs: number; otherMs: number; windowMs: number };
  durationS: number;
  error?: string;
  skipped?: string;
}

export interface RedisCommandCost {
  /** Commands a second while messages flowed before the SIGTERM (the baseline). */
  baselinePerSec: number;
  windowMs: number;
  /** Every command counted in the window, and that less the baseline's rate over the window. */
  total: number;
  net: number;
  /** net / clients that recovered. */
  perClient: number;
  /** The commands that grew most above their baseline, per recovering client. */
  top: Array<{ command: string; perClient: number }>;
}

import type { ConnectResult, RunResult } from './loadgen.ts';
import type { Protocol } from './protocols.ts';
import type { BigRoomResult, DeployStormResult, JoinStormResult, StormSettings } from './storms/types.ts';

export interface WorkloadDef {
  id: string;
  title: string;
  rooms: number;
  clientsPerRoom: number;
  sendersPerRoom: number;
  /** Idle workload: open connections only and measure memory and open rate. */
  idle?: boolean;
}

/** `noisy`: a failed run repeated because other processes loaded the machine meanwhile. */
export type StepPhase = 'search' | 'repeat' | 'half' | 'common' | 'profile' | 'noisy';

/** One measured step: the generator's result plus the server-side figures of its window. */
export interface StepRecord extends RunResult {
  phase: StepPhase;
  pass: boolean;
  /** Why it did not pass (empty when it passed). */
  reasons: string[];
  /** Offered deliveries/s: rate × clients per room. */
  offeredDeliveriesPerSec: number;
  serverCpuMs: number;
  /** Server CPU as % of one core over the window (all instances summed). */
  serverCpuPct: number;
  /** The cost figure: server CPU ms per 1,000 deliveries. */
  serverCpuMsPer1k: number;
  /**
   * Share of the server's CPU spent in the kernel (% of serverCpuMs): mostly the socket writes,
   * which on loopback also run the receiving side's TCP processing. Absent in older results.
   */
  serverKernelPct?: number;
  serverPeakRssKb: number;
  redisCpuPct: number | null;
  /** CPU ms per message sent, of each Redis process (one, or each primary of a cluster). */
  redisCpuMsPerMessage?: number[];
  /** Generator + Redis: how busy the aux core was (% of one core). */
  auxCorePct: number;
  /** CPU used meanwhile by processes outside this benchmark (% of one core): the noise. */
  otherCpuPct: number;
  startedAt: string;
}

export interface SearchOutcome {
  /** Highest total publish rate (msg/s) that passed all its runs, or null. */
  maxRate: number | null;
  /** Deliveries/s measured at that rate (median of its runs). */
  maxDeliveriesPerSec: number | null;
  /** Lowest rate that failed. */
  failRate: number | null;
  /** What stopped it: "latency", "loss", "server CPU", "generator/Redis core", … */
  bound: string;
  note: string;
}

export interface SystemWorkloadResult {
  workload: string;
  system: string;
  label: string;
  protocol: Protocol;
  connect: ConnectResult | null;
  steps: StepRecord[];
  search: SearchOutcome | null;
  serverHwmKb: number | null;
  durationS: number;
  error?: string;
  skipped?: string;
}

export interface IdleResult {
  system: string;
  label: string;
  protocol: Protocol;
  requested: number;
  connected: number;
  elapsedMs: number;
  openPerSec: number;
  baselineRssKb: number;
  rssKb: number;
  peakRssKb: number;
  kibPerConnection: number | null;
  /** Lowest RSS within SETTLE seconds after all were open (V8 collects the storm's garbage lazily). */
  settledRssKb?: number;
  settledKibPerConnection?: number | null;
  settleS?: number;
  /** Server CPU while the connections sit idle (% of one core). */
  idleCpuPct: number;
  firstError?: string;
  error?: string;
  skipped?: string;
}

export interface ProfileFunction {
  name: string;
  location: string;
  selfMs: number;
  selfPct: number;
}

export interface ProfileSummary {
  system: string;
  workload: string;
  rate: number;
  step: StepRecord | null;
  totalMs: number;
  top: ProfileFunction[];
  byCategory: Array<{ category: string; selfMs: number; selfPct: number }>;
  files: string[];
}

export interface Machine {
  nproc: number;
  cpuModel: string;
  memTotalGiB: number;
  kernel: string;
  os: string;
  node: string;
  redis: string;
  python: string | undefined;
  packages: Record<string, string>;
  git: string;
  pinning: string;
}

export interface Settings {
  mode: 'quick' | 'full';
  warmupMs: number;
  durationMs: number;
  drainMs: number;
  textBytes: number;
  repeats: number;
  bisections: number;
  maxStepsPerSearch: number;
  /** The first of the cost comparison's rates: the one the CPU goal is headlined at. */
  commonRate: number;
  /** Every rate of the cost comparison (results of earlier versions: only commonRate). */
  commonRates?: number[];
  idleConnections: number;
  p99LimitMs: number;
  minRatio: number;
  noisyOtherPct: number;
  noisyRetries: number;
  redoMinutes: number;
  budgetMinutes: number;
  /** Workloads e, f and g (absent in results of earlier versions). */
  storms?: StormSettings;
}

export interface CostSample {
  system: string;
  round: number;
  /** Offered msg/s (results of earlier versions: the settings' commonRate). */
  rate?: number;
  step: StepRecord;
}

export interface Results {
  version: 1;
  date: string;
  /** Suffix of the file names (`<date>-<label>`), for partial runs. */
  label?: string;
  startedAt: string;
  finishedAt: string;
  durationS: number;
  machine: Machine;
  commands: string[];
  settings: Settings;
  workloads: WorkloadDef[];
  systems: Array<{ id: string; label: string; protocol: Protocol }>;
  runs: SystemWorkloadResult[];
  idle: IdleResult[];
  profile?: ProfileSummary;
  /**
   * The cost comparison: every Node system on workload b at the common rate, in rounds (each
   * round starts every system fresh, one after another), so drift of the machine's speed over
   * the run hits all systems alike. The goal takes each system's median.
   */
  cost?: CostSample[];
  notes: string[];
  /** Earlier measurements replaced by a re-run (noise-limited searches, servers that went down). */
  superseded?: SystemWorkloadResult[];
  /** Cost samples replaced by a later cost comparison. */
  supersededCost?: CostSample[];
  /** Workload e: one big room, per system and size. */
  bigRoom?: BigRoomResult[];
  /** Workload f: the join storm, per system and size. */
  joinStorm?: JoinStormResult[];
  /** Workload g: the deploy storm, per system. */
  deployStorm?: DeployStormResult[];
}

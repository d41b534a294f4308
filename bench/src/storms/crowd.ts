// Workloads e (one big room: 5 senders, a message a second each, to N members) and f (the join
// storm: N clients join one room as fast as they can). Each size and system gets a fresh server
// (and Redis) and a fresh generator, pinned like every other workload.
import { GeneratorProcess } from '../genproc.ts';
import type { RunResult } from '../loadgen.ts';
import type { Context, RunningSystem, SystemDef } from '../systems.ts';
import { cpuDelta, cpuSnapshot, parleyCounter, settle, type CpuSnapshot } from './probes.ts';
import type { BigRoomResult, BigRoomStep, JoinPhase, JoinStormResult, StormSettings } from './types.ts';

export interface StormDeps {
  ctx: Context;
  settings: StormSettings;
  log: (line: string) => void;
}

const fmt = (n: number, digits = 1): string => (Number.isFinite(n) ? n.toFixed(digits) : String(n));
const kib = (bytes: number): string => fmt(bytes / 1024, 1);

/** Starts a system and a generator, runs `body`, and stops both whatever happens. */
export async function withSystem<T>(
  ctx: Context,
  def: SystemDef,
  body: (sys: RunningSystem, gen: GeneratorProcess) => Promise<T>,
): Promise<T> {
  const sys = await def.start(ctx);
  let gen: GeneratorProcess | undefined;
  try {
    gen = GeneratorProcess.start(ctx);
    return await body(sys, gen);
  } finally {
    await gen?.stop();
    await sys.stop();
  }
}

/** Sum of a Parley counter over every instance of the system (undefined for other systems). */
async function parleyBytesOut(def: SystemDef, sys: RunningSystem): Promise<number | undefined> {
  if (def.protocol !== 'v1') return undefined;
  let total = 0;
  for (const endpoint of sys.endpoints) {
    const n = await parleyCounter(endpoint, 'parley_bytes_out_total');
    if (n === undefined) return undefined;
    total += n;
  }
  return total;
}

/**
 * Opens `members` clients into one room, `concurrency` at a time, then waits for the server to
 * go quiet; what the joins cost: time, bytes on the wire (counted by the generator for every
 * system alike; Parley's own counter beside it), CPU.
 */
export async function fillRoom(
  def: SystemDef,
  sys: RunningSystem,
  gen: GeneratorProcess,
  o: { members: number; senders: number; concurrency: number; roomPrefix: string },
): Promise<JoinPhase> {
  const redisPids = sys.redisPids ?? [];
  const bytesBefore = await parleyBytesOut(def, sys);
  const s0 = cpuSnapshot(sys.serverPids, redisPids, gen.pid);
  const c = await gen.connect({
    endpoints: sys.endpoints,
    protocol: def.protocol,
    rooms: 1,
    clientsPerRoom: o.members,
    sendersPerRoom: o.senders,
    roomPrefix: o.roomPrefix,
    concurrency: o.concurrency,
    timeoutMs: Math.max(90_000, o.members * 20),
  });
  // Presence counts go out at most once a second: wait past that, then for the server to idle.
  const settleMs = await settle(sys.serverPids, 1500, 15_000);
  const s1 = cpuSnapshot(sys.serverPids, redisPids, gen.pid);
  const traffic = await gen.traffic();
  const bytesAfter = await parleyBytesOut(def, sys);
  const d = cpuDelta(s0, s1);
  return {
    requested: c.requested,
    connected: c.connected,
    concurrency: o.concurrency,
    elapsedMs: c.elapsedMs,
    ...(c.joins === undefined ? {} : { joins: c.joins }),
    settleMs,
    totalBytes: traffic.bytes,
    frames: traffic.frames,
    ...(bytesBefore !== undefined && bytesAfter !== undefined ? { parleyPayloadBytes: bytesAfter - bytesBefore } : {}),
    serverCpuMs: d.server,
    serverKernelMs: d.serverKernel,
    redisCpuMs: sys.redisPids === undefined ? null : d.redis,
    genCpuMs: d.gen,
    otherCpuMs: d.other,
    ...(c.firstError === undefined ? {} : { firstError: c.firstError }),
  };
}

function joinLine(j: JoinPhase): string {
  return (
    `${j.connected}/${j.requested} in ${fmt(j.elapsedMs / 1000, 2)} s (${j.concurrency} at once); ` +
    `welcome ${kib(j.joins?.readyBytes.mean ?? NaN)} KiB/join (max ${kib(j.joins?.readyBytes.max ?? NaN)}), ` +
    `all bytes ${kib(j.totalBytes / Math.max(1, j.connected))} KiB/join` +
    (j.parleyPayloadBytes === undefined
      ? ''
      : ` (server's counter ${kib(j.parleyPayloadBytes / Math.max(1, j.connected))})`) +
    `; server ${fmt(j.serverCpuMs, 0)} ms CPU = ${fmt((1000 * j.serverCpuMs) / Math.max(1, j.connected), 0)} µs/join; settle ${fmt(j.settleMs / 1000, 1)} s, other ${fmt(j.otherCpuMs, 0)} ms`
  );
}

/** A room size a system could not hold is not tried larger. */
export function heldBigRoom(r: BigRoomResult): boolean {
  return (
    r.error === undefined &&
    r.skipped === undefined &&
    r.join !== null &&
    r.join.connected === r.members &&
    r.step !== null &&
    r.step.ratio >= 0.99
  );
}

/** Workload e at one size on one system. */
export async function runBigRoom(deps: StormDeps, def: SystemDef, members: number): Promise<BigRoomResult> {
  const s = deps.settings;
  const t0 = Date.now();
  const result: BigRoomResult = {
    system: def.id,
    label: def.label,
    protocol: def.protocol,
    members,
    senders: s.bigRoomSenders,
    join: null,
    step: null,
    durationS: 0,
  };
  const unavailable = def.unavailable?.();
  if (unavailable !== undefined) return { ...result, skipped: unavailable };
  deps.log(`=== workload e · ${def.label}: ${members.toLocaleString('en-US')} members in one room`);
  try {
    await withSystem(deps.ctx, def, async (sys, gen) => {
      const join = await fillRoom(def, sys, gen, {
        members,
        senders: s.bigRoomSenders,
        concurrency: def.id.startsWith('django') ? Math.min(25, s.joinConcurrency) : s.joinConcurrency,
        roomPrefix: `e${members}`,
      });
      result.join = join;
      deps.log(`e ${def.id} ${members}: joined ${joinLine(join)}`);
      if (join.connected < members)
        throw new Error(`only ${join.connected} of ${members} connected: ${join.firstError ?? 'timed out'}`);
      result.step = await bigRoomStep(deps, sys, gen);
      const st = result.step;
      deps.log(
        `e ${def.id} ${members}: ${st.sent} messages → ${st.delivered}/${st.expected} deliveries (ratio ${st.ratio.toFixed(4)}), ` +
          `p50 ${fmt(st.latencyMs.p50, 2)} p99 ${fmt(st.latencyMs.p99, 2)} max ${fmt(st.latencyMs.max, 1)} ms, ` +
          `server ${fmt(st.serverCpuPct, 0)}% = ${fmt(st.serverUsPerDelivery, 2)} µs/delivery, gen ${fmt(st.genCpuPct, 0)}%, other ${fmt(st.otherCpuPct, 0)}%`,
      );
    });
  } catch (err) {
    result.error = (err as Error).message;
    deps.log(`e ${def.id} ${members}: error: ${result.error.split('\n')[0]}`);
  }
  result.durationS = (Date.now() - t0) / 1000;
  return result;
}

/** The measured window of e: every sender at one message a second. */
async function bigRoomStep(deps: StormDeps, sys: RunningSystem, gen: GeneratorProcess): Promise<BigRoomStep> {
  const s = deps.settings;
  const redisPids = sys.redisPids ?? [];
  let start: CpuSnapshot | undefined;
  let end: CpuSnapshot | undefined;
  gen.onPhase = (p) => {
    if (p === 'start') start = cpuSnapshot(sys.serverPids, redisPids, gen.pid);
    else end = cpuSnapshot(sys.serverPids, redisPids, gen.pid);
  };
  let r: RunResult;
  try {
    r = await gen.run({
      rate: s.bigRoomSenders,
      warmupMs: s.bigRoomWarmupMs,
      durationMs: s.bigRoomDurationMs,
      drainMs: 5000,
      textBytes: 64,
    });
  } finally {
    gen.onPhase = () => {};
  }
  const down = sys.down();
  if (down !== undefined) throw new Error(down);
  if (start === undefined || end === undefined) throw new Error('the generator did not report its measured window');
  const d = cpuDelta(start, end);
  const deliveries = (r.deliveredPerSec * r.windowMs) / 1000;
  return {
    rate: r.rate,
    sent: r.sent,
    expected: r.expected,
    delivered: r.delivered,
    ratio: r.ratio,
    duplicates: r.duplicates,
    deliveredPerSec: r.deliveredPerSec,
    latencyMs: { p50: r.latencyMs.p50, p90: r.latencyMs.p90, p99: r.latencyMs.p99, max: r.latencyMs.max },
    windowMs: r.windowMs,
    serverCpuMs: d.server,
    serverCpuPct: (100 * d.server) / d.wallMs,
    serverUsPerDelivery: deliveries > 0 ? (1000 * d.server) / deliveries : NaN,
    redisCpuPct: sys.redisPids === undefined ? null : (100 * d.redis) / d.wallMs,
    genCpuPct: r.genCpuPct,
    otherCpuPct: (100 * d.other) / d.wallMs,
    disconnects: r.disconnects,
    errors: r.errors,
    ...(r.firstError === undefined ? {} : { firstError: r.firstError }),
  };
}

/** Workload f at one size on one system. */
export async function runJoinStorm(deps: StormDeps, def: SystemDef, members: number): Promise<JoinStormResult> {
  const t0 = Date.now();
  const result: JoinStormResult = {
    system: def.id,
    label: def.label,
    protocol: def.protocol,
    members,
    join: null,
    durationS: 0,
  };
  const unavailable = def.unavailable?.();
  if (unavailable !== undefined) return { ...result, skipped: unavailable };
  deps.log(`=== workload f · ${def.label}: ${members.toLocaleString('en-US')} clients join one room at once`);
  try {
    await withSystem(deps.ctx, def, async (sys, gen) => {
      result.join = await fillRoom(def, sys, gen, {
        members,
        senders: 0,
        concurrency: deps.settings.stormConcurrency,
        roomPrefix: `f${members}`,
      });
      deps.log(`f ${def.id} ${members}: ${joinLine(result.join)}`);
      const down = sys.down();
      if (down !== undefined) throw new Error(down);
    });
  } catch (err) {
    result.error = (err as Error).message;
    deps.log(`f ${def.id} ${members}: error: ${result.error.split('\n')[0]}`);
  }
  result.durationS = (Date.now() - t0) / 1000;
  return result;
}

/**
 * Every size on every system, sizes outer (so a size's systems run close together in time); a
 * system that could not hold a size (not every client connected, or under 99 % of deliveries in
 * e) is not tried at the larger ones, and its rows say so.
 */
export async function runCrowdWorkload<R extends BigRoomResult | JoinStormResult>(
  deps: StormDeps,
  defs: SystemDef[],
  w: {
    run: (deps: StormDeps, def: SystemDef, members: number) => Promise<R>;
    held: (r: R) => boolean;
    skip: (def: SystemDef, members: number, why: string) => R;
  },
  onResult: (r: R) => void,
): Promise<void> {
  const failedAt = new Map<string, string>();
  const sizes = [...deps.settings.bigRoomSizes].sort((a, b) => a - b);
  for (const members of sizes) {
    for (const def of defs) {
      const failed = failedAt.get(def.id);
      if (failed !== undefined) {
        onResult(w.skip(def, members, failed));
        continue;
      }
      const r = await w.run(deps, def, members);
      onResult(r);
      if (r.skipped === undefined && !w.held(r)) {
        const why =
          r.error?.split('\n')[0] ??
          (r.join !== null && r.join.connected < r.join.requested
            ? `${r.join.connected} of ${r.join.requested} connected`
            : 'under 99 % delivered');
        failedAt.set(def.id, `could not hold ${members.toLocaleString('en-US')} (${why})`);
      }
    }
  }
}

/** Workload e on every system and size. */
export function runBigRooms(deps: StormDeps, defs: SystemDef[], onResult: (r: BigRoomResult) => void): Promise<void> {
  return runCrowdWorkload(
    deps,
    defs,
    {
      run: runBigRoom,
      held: heldBigRoom,
      skip: (def, members, why) => ({
        system: def.id,
        label: def.label,
        protocol: def.protocol,
        members,
        senders: deps.settings.bigRoomSenders,
        join: null,
        step: null,
        durationS: 0,
        skipped: why,
      }),
    },
    onResult,
  );
}

/** Workload f on every system and size. */
export function runJoinStorms(
  deps: StormDeps,
  defs: SystemDef[],
  onResult: (r: JoinStormResult) => void,
): Promise<void> {
  return runCrowdWorkload(
    deps,
    defs,
    {
      run: runJoinStorm,
      held: (r) => r.error === undefined && r.join !== null && r.join.connected === r.members,
      skip: (def, members, why) => ({
        system: def.id,
        label: def.label,
        protocol: def.protocol,
        members,
        join: null,
        durationS: 0,
        skipped: why,
      }),
    },
    onResult,
  );
}

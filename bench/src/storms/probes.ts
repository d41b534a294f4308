// What the storm workloads read from outside the generator: CPU of the processes involved (and
// of everyone else), Parley's /metrics counters and Redis's per-command counts.
import { spawnSync } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { machineBusyMs } from '../machine.ts';
import { cpuMs, sleep, treeCpuSplitMs } from '../proc.ts';

export interface CpuSnapshot {
  t: number;
  server: number;
  serverKernel: number;
  redis: number;
  gen: number;
  harness: number;
  machine: number;
}

export function cpuSnapshot(serverPids: number[], redisPids: number[], genPid: number): CpuSnapshot {
  const own = process.cpuUsage();
  const server = treeCpuSplitMs(serverPids);
  return {
    t: performance.now(),
    server: server.user + server.kernel,
    serverKernel: server.kernel,
    redis: redisPids.reduce((sum, pid) => sum + cpuMs(pid), 0),
    gen: cpuMs(genPid),
    harness: (own.user + own.system) / 1000,
    machine: machineBusyMs(),
  };
}

/** CPU ms between two snapshots; `other` is what processes outside the benchmark used. */
export function cpuDelta(a: CpuSnapshot, b: CpuSnapshot) {
  const server = b.server - a.server;
  const redis = b.redis - a.redis;
  const gen = b.gen - a.gen;
  const other = Math.max(0, b.machine - a.machine - server - redis - gen - (b.harness - a.harness));
  return { wallMs: b.t - a.t, server, serverKernel: b.serverKernel - a.serverKernel, redis, gen, other };
}

/**
 * Waits until the server has been quiet (under 5 % of a core for 300 ms), at least `minMs`
 * and at most `maxMs`; returns how long it waited.
 */
export async function settle(serverPids: number[], minMs: number, maxMs: number): Promise<number> {
  const started = performance.now();
  await sleep(minMs);
  while (performance.now() - started < maxMs) {
    const c0 = treeCpuSplitMs(serverPids);
    await sleep(300);
    const c1 = treeCpuSplitMs(serverPids);
    if (c1.user + c1.kernel - c0.user - c0.kernel < 15) break;
  }
  return performance.now() - started;
}

/** One counter of Parley's /metrics (summed over labels), or undefined when it does not answer. */
export async function parleyCounter(endpoint: string, name: string): Promise<number | undefined> {
  try {
    const res = await fetch(`${endpoint.replace(/^ws/, 'http')}/metrics`, { signal: AbortSignal.timeout(5000) });
    if (!res.ok) return undefined;
    let total: number | undefined;
    for (const line of (await res.text()).split('\n')) {
      const m = /^([a-z_]+)(?:\{[^}]*\})? (\S+)$/.exec(line);
      if (m?.[1] === name) total = (total ?? 0) + Number(m[2]);
    }
    return total;
  } catch {
    return undefined;
  }
}

/** Calls per command from Redis's INFO commandstats (commands run by Lua scripts included). */
export function redisCommandStats(port: number): Map<string, number> {
  const out = spawnSync('redis-cli', ['-p', String(port), 'INFO', 'commandstats'], {
    encoding: 'utf8',
    timeout: 10_000,
  });
  const calls = new Map<string, number>();
  for (const line of (out.stdout ?? '').split('\n')) {
    const m = /^cmdstat_([^:]+):calls=(\d+)/.exec(line.trim());
    if (m !== null) calls.set(m[1]!, Number(m[2]));
  }
  return calls;
}

export function commandDelta(a: Map<string, number>, b: Map<string, number>): Map<string, number> {
  const out = new Map<string, number>();
  for (const [cmd, n] of b) out.set(cmd, n - (a.get(cmd) ?? 0));
  return out;
}

/** Least-squares slope of log(y) against log(x): the growth exponent (1 = linear). */
export function logLogSlope(points: Array<{ x: number; y: number }>): number | null {
  const ok = points.filter((p) => p.x > 0 && p.y > 0);
  if (ok.length < 2) return null;
  const xs = ok.map((p) => Math.log(p.x));
  const ys = ok.map((p) => Math.log(p.y));
  const mx = xs.reduce((a, b) => a + b, 0) / xs.length;
  const my = ys.reduce((a, b) => a + b, 0) / ys.length;
  let num = 0;
  let den = 0;
  for (let i = 0; i < xs.length; i++) {
    num += (xs[i]! - mx) * (ys[i]! - my);
    den += (xs[i]! - mx) ** 2;
  }
  return den === 0 ? null : num / den;
}

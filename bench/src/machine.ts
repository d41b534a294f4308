// Facts about the machine and software, for the results file.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { availableParallelism, release } from 'node:os';
import { join } from 'node:path';
import { djangoVersions, redisVersion } from './systems.ts';
import type { Machine } from './types.ts';

function read(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

function packageVersion(benchRoot: string, name: string): string {
  try {
    return (
      JSON.parse(readFileSync(join(benchRoot, 'node_modules', name, 'package.json'), 'utf8')) as { version: string }
    ).version;
  } catch {
    return 'missing';
  }
}

/** Read-only git facts: the commit and whether the server or protocol had local changes. */
function gitState(repoRoot: string): string {
  const git = (...args: string[]) =>
    spawnSync('git', ['-C', repoRoot, ...args], { encoding: 'utf8' }).stdout?.trim() ?? '';
  const commit = git('rev-parse', '--short', 'HEAD') || 'unknown';
  const dirty = git('status', '--porcelain', '--', 'apps/server', 'packages/protocol');
  return dirty === '' ? commit : `${commit} + uncommitted changes in apps/server or packages/protocol`;
}

export function machineFacts(repoRoot: string, benchRoot: string, serverCpus: string, auxCpus: string): Machine {
  const cpuinfo = read('/proc/cpuinfo');
  const memKb = Number(/^MemTotal:\s+(\d+)/m.exec(read('/proc/meminfo'))?.[1] ?? 0);
  const osName = /^PRETTY_NAME="?([^"\n]+)/m.exec(read('/etc/os-release'))?.[1] ?? 'unknown';
  const nproc = Number(spawnSync('nproc', { encoding: 'utf8' }).stdout?.trim()) || availableParallelism();
  return {
    nproc,
    cpuModel: /^model name\s*:\s*(.+)$/m.exec(cpuinfo)?.[1] ?? 'unknown',
    memTotalGiB: Math.round((memKb / 1024 / 1024) * 10) / 10,
    kernel: release(),
    os: osName,
    node: process.version,
    redis: redisVersion(),
    python: djangoVersions(),
    packages: Object.fromEntries(
      ['ws', 'hdr-histogram-js', 'socket.io', '@socket.io/redis-adapter', 'ioredis'].map((n) => [
        n,
        packageVersion(benchRoot, n),
      ]),
    ),
    git: gitState(repoRoot),
    pinning: `servers: taskset -c ${serverCpus}; load generator and redis-server: taskset -c ${auxCpus}; harness: ${auxCpus}`,
  };
}

/** Busy CPU time of the whole machine so far (all cores), in ms, from /proc/stat. */
export function machineBusyMs(): number {
  const line = read('/proc/stat').split('\n', 1)[0] ?? '';
  const f = line.trim().split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal
  const busy = (f[0] ?? 0) + (f[1] ?? 0) + (f[2] ?? 0) + (f[5] ?? 0) + (f[6] ?? 0) + (f[7] ?? 0);
  return busy * 10;
}

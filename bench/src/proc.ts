// Process plumbing for the harness: spawning pinned children that die with the harness, stopping
// them, and reading their CPU time and memory from /proc.
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { createServer } from 'node:net';

/** Clock ticks per second of /proc/<pid>/stat times (USER_HZ); 100 on every Linux we run on. */
const CLK_TCK = 100;

export interface Spawned {
  name: string;
  child: ChildProcess;
  pid: number;
  /** Resolves with the exit code (or signal name) once the process has exited. */
  exited: Promise<string>;
  /** The last lines of output, for error messages. */
  tail(): string;
}

const live = new Set<Spawned>();

/**
 * Starts a command pinned to `cpus` (taskset; undefined or '' for no pinning), with the open-file limit raised to the hard
 * limit, killed by the kernel if the harness dies (setpriv --pdeathsig), and remembered so that
 * {@link stopAll} ends it on exit, Ctrl-C or error.
 */
export function spawnPinned(
  name: string,
  cpus: string | undefined,
  command: string,
  args: string[],
  options: SpawnOptions & { ipc?: boolean; echo?: boolean } = {},
): Spawned {
  const pinned = cpus === undefined || cpus === '' ? [command, ...args] : ['taskset', '-c', cpus, command, ...args];
  const shell = 'ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"; exec "$@"';
  const argv = ['-c', shell, 'sh', 'setpriv', '--pdeathsig', 'SIGKILL', ...pinned];
  const stdio: SpawnOptions['stdio'] = options.ipc ? ['ignore', 'pipe', 'pipe', 'ipc'] : ['ignore', 'pipe', 'pipe'];
  const child = spawn('/bin/sh', argv, { ...options, stdio });
  // `sh`, setpriv and taskset each exec the next, so this pid ends up being the command itself.
  if (child.pid === undefined) throw new Error(`could not start ${name}`);
  const lines: string[] = [];
  const keep = (chunk: Buffer) => {
    const text = chunk.toString();
    if (options.echo) process.stderr.write(text.replace(/^(?=.)/gm, `[${name}] `));
    lines.push(...text.split('\n').filter((l) => l.trim() !== ''));
    if (lines.length > 40) lines.splice(0, lines.length - 40);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const spawned: Spawned = {
    name,
    child,
    pid: child.pid,
    exited: new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        live.delete(spawned);
        resolve(signal ?? String(code));
      });
    }),
    tail: () => lines.slice(-15).join('\n'),
  };
  live.add(spawned);
  return spawned;
}

/** Sends SIGTERM, then SIGKILL after `graceMs`; resolves once the process is gone. */
export async function stop(p: Spawned, graceMs = 5000): Promise<void> {
  if (p.child.exitCode !== null || p.child.signalCode !== null) return;
  p.child.kill('SIGTERM');
  const timer = setTimeout(() => p.child.kill('SIGKILL'), graceMs);
  await p.exited;
  clearTimeout(timer);
}

/** Stops every process this harness started (used on exit, Ctrl-C and errors). */
export async function stopAll(): Promise<void> {
  await Promise.all([...live].map((p) => stop(p, 3000)));
}

/** Synchronous last resort for process 'exit': SIGKILL whatever is still alive. */
export function killAllNow(): void {
  for (const p of live) {
    try {
      p.child.kill('SIGKILL');
    } catch {
      // already gone
    }
  }
}

/** A TCP port that was free a moment ago on 127.0.0.1 (from the kernel's ephemeral range). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address !== null ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}

/** Pids of `pid` and all its live descendants. */
export function processTree(pid: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      const list = children.get(ppid) ?? [];
      list.push(Number(entry));
      children.set(ppid, list);
    } catch {
      // exited meanwhile
    }
  }
  const out: number[] = [];
  const walk = (p: number) => {
    out.push(p);
    for (const c of children.get(p) ?? []) walk(c);
  };
  walk(pid);
  return out;
}

/** User and system (kernel) CPU time of one process (all its threads), in ms; 0 when it is gone. */
export function cpuSplitMs(pid: number): { user: number; kernel: number } {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // Fields 14 and 15 of stat (utime, stime) are at 11 and 12 after the command name.
    return { user: (Number(fields[11]) * 1000) / CLK_TCK, kernel: (Number(fields[12]) * 1000) / CLK_TCK };
  } catch {
    return { user: 0, kernel: 0 };
  }
}

/** User + system CPU time of one process (all its threads), in ms; 0 when it is gone. */
export function cpuMs(pid: number): number {
  const { user, kernel } = cpuSplitMs(pid);
  return user + kernel;
}

/** CPU ms of each root process and its descendants, summed, split into user and kernel time. */
export function treeCpuSplitMs(pids: number[]): { user: number; kernel: number } {
  const total = { user: 0, kernel: 0 };
  for (const root of pids) {
    for (const p of processTree(root)) {
      const { user, kernel } = cpuSplitMs(p);
      total.user += user;
      total.kernel += kernel;
    }
  }
  return total;
}

/** CPU ms of each root process and its descendants, summed. */
export function treeCpuMs(pids: number[]): number {
  const { user, kernel } = treeCpuSplitMs(pids);
  return user + kernel;
}

function statusKb(pid: number, field: string): number {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status);
    return match ? Number(match[1]) : 0;
  } catch {
    return 0;
  }
}

/** Resident set size now, in KiB, summed over the processes and their descendants. */
export function rssKb(pids: number[]): number {
  let total = 0;
  for (const root of pids) for (const p of processTree(root)) total += statusKb(p, 'VmRSS');
  return total;
}

/** Peak resident set size (VmHWM) over each process's life, in KiB, summed. */
export function hwmKb(pids: number[]): number {
  let total = 0;
  for (const root of pids) for (const p of processTree(root)) total += statusKb(p, 'VmHWM');
  return total;
}

/** Samples the summed RSS of `pids` every `everyMs` and keeps the peak, until stopped. */
export class RssSampler {
  private peak = 0;
  private readonly timer: NodeJS.Timeout;
  constructor(
    private readonly pids: number[],
    everyMs = 200,
  ) {
    this.sample();
    this.timer = setInterval(() => this.sample(), everyMs);
  }
  private sample(): void {
    this.peak = Math.max(this.peak, rssKb(this.pids));
  }
  /** Stops sampling and returns the peak in KiB. */
  stop(): number {
    clearInterval(this.timer);
    this.sample();
    return this.peak;
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls `check` every 100 ms until it returns true, or throws after `timeoutMs`. */
export async function waitFor(
  what: string,
  check: () => Promise<boolean>,
  timeoutMs: number,
  alive?: Spawned,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (alive && (alive.child.exitCode !== null || alive.child.signalCode !== null)) {
      throw new Error(`${alive.name} exited while waiting for ${what}:\n${alive.tail()}`);
    }
    if (await check().catch(() => false)) return;
    await sleep(100);
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${alive ? `:\n${alive.tail()}` : ''}`);
}

/** True when an HTTP GET of `url` answers 200. */
export async function httpOk(url: string): Promise<boolean> {
  const res = await fetch(url, { signal: AbortSignal.timeout(1000) });
  await res.arrayBuffer();
  return res.ok;
}

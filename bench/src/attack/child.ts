// The harness's handle on its two helper processes (attacker.ts, neighbour.ts): started pinned
// (the attacker under SCHED_IDLE), driven over IPC with commands, answering with events.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { spawnPinned, stop, type Spawned } from '../proc.ts';
import type { Context } from '../systems.ts';

export interface ChildEvent {
  event: string;
  [key: string]: unknown;
}

export class Child {
  private readonly inbox: ChildEvent[] = [];
  private readonly waiters: Array<{ event: string; resolve: (e: ChildEvent) => void; reject: (e: Error) => void }> = [];

  private constructor(private readonly proc: Spawned) {
    proc.child.on('message', (msg: ChildEvent) => {
      const i = this.waiters.findIndex((w) => w.event === msg.event);
      if (i >= 0) this.waiters.splice(i, 1)[0]!.resolve(msg);
      else this.inbox.push(msg);
    });
    void proc.exited.then((code) => {
      for (const w of this.waiters.splice(0)) w.reject(new Error(`${proc.name} exited (${code}):\n${proc.tail()}`));
    });
  }

  get pid(): number {
    return this.proc.pid;
  }

  /**
   * Starts `src/attack/<file>` (compiled when the harness runs compiled, else through tsx) on
   * `ctx.auxCpus`. `idle` runs it under Linux's SCHED_IDLE policy (`chrt --idle 0`): the attacker
   * shares the client core with the neighbour and Redis, and must only get what they leave
   * (as if it were on a machine of its own), so that the neighbour's latency measures the server,
   * not a client core the attacker keeps busy. (`nice` is not enough: a niced process that is
   * running is not preempted at once by one that wakes up.)
   */
  static start(ctx: Context, file: 'attacker' | 'neighbour', idle = false): Child {
    const compiled = join(ctx.benchRoot, `dist/src/attack/${file}.js`);
    const source = join(ctx.benchRoot, `src/attack/${file}.ts`);
    const script = import.meta.url.endsWith('.ts') || !existsSync(compiled) ? ['--import', 'tsx', source] : [compiled];
    const env = { ...process.env };
    delete env.NODE_OPTIONS;
    const node = [process.execPath, ...script];
    const [command, ...args] = idle ? ['chrt', '--idle', '0', ...node] : node;
    return new Child(
      spawnPinned(file, ctx.auxCpus, command!, args, { ipc: true, cwd: ctx.benchRoot, env, echo: true }),
    );
  }

  send(command: Record<string, unknown>): void {
    if (this.proc.child.connected) this.proc.child.send(command);
  }

  /** The next event named `event` (one that came earlier included), or an error after `timeoutMs`. */
  next<T extends ChildEvent>(event: string, timeoutMs: number): Promise<T> {
    const i = this.inbox.findIndex((m) => m.event === event);
    if (i >= 0) return Promise.resolve(this.inbox.splice(i, 1)[0] as T);
    if (this.proc.child.exitCode !== null || this.proc.child.signalCode !== null) {
      return Promise.reject(new Error(`${this.proc.name} has exited:\n${this.proc.tail()}`));
    }
    return new Promise<T>((resolve, reject) => {
      const waiter = {
        event,
        resolve: (e: ChildEvent) => {
          clearTimeout(timer);
          resolve(e as T);
        },
        reject: (e: Error) => {
          clearTimeout(timer);
          reject(e);
        },
      };
      const timer = setTimeout(() => {
        this.waiters.splice(this.waiters.indexOf(waiter), 1);
        reject(new Error(`${this.proc.name} sent no "${event}" within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiters.push(waiter);
    });
  }

  async stop(): Promise<void> {
    if (this.proc.child.connected) this.proc.child.disconnect();
    await stop(this.proc, 3000);
  }
}

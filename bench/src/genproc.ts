// The harness's handle on a load-generator process (src/loadgen.ts), pinned to the aux core.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type {
  ConnectRequest,
  ConnectResult,
  GeneratorCommand,
  GeneratorReply,
  RunRequest,
  RunResult,
  Traffic,
} from './loadgen.ts';
import type {
  DeployConnectRequest,
  DeployConnectResult,
  DeployFinishResult,
  DeployWaitResult,
} from './storms/deploygen.ts';
import { spawnPinned, stop, type Spawned } from './proc.ts';
import type { Context } from './systems.ts';

type WithoutId<T> = T extends unknown ? Omit<T, 'id'> : never;

export class GeneratorProcess {
  private seq = 0;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  /** Called at the start and end of each measured window. */
  onPhase: (phase: 'start' | 'end') => void = () => {};

  private constructor(private readonly proc: Spawned) {
    proc.child.on('message', (msg: GeneratorReply) => {
      if ('event' in msg) {
        this.onPhase(msg.phase);
        return;
      }
      const waiter = this.pending.get(msg.id);
      if (waiter === undefined) return;
      this.pending.delete(msg.id);
      if (msg.ok) waiter.resolve(msg.result);
      else waiter.reject(new Error(`load generator: ${msg.error}`));
    });
    void proc.exited.then((code) => {
      for (const w of this.pending.values()) w.reject(new Error(`load generator exited (${code}):\n${proc.tail()}`));
      this.pending.clear();
    });
  }

  get pid(): number {
    return this.proc.pid;
  }

  static start(ctx: Context): GeneratorProcess {
    const compiled = join(ctx.benchRoot, 'dist/src/loadgen.js');
    const source = join(ctx.benchRoot, 'src/loadgen.ts');
    // The compiled generator when the harness runs compiled, else the source through tsx.
    const args = import.meta.url.endsWith('.ts') || !existsSync(compiled) ? ['--import', 'tsx', source] : [compiled];
    const env = { ...process.env };
    delete env.NODE_OPTIONS;
    const proc = spawnPinned('loadgen', ctx.auxCpus, process.execPath, ['--max-old-space-size=4096', ...args], {
      ipc: true,
      cwd: ctx.benchRoot,
      env,
      echo: true,
    });
    return new GeneratorProcess(proc);
  }

  private request<T>(command: WithoutId<GeneratorCommand>, timeoutMs: number): Promise<T> {
    const id = ++this.seq;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`load generator did not answer ${command.cmd} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, {
        resolve: (v) => {
          clearTimeout(timer);
          resolve(v as T);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
      this.proc.child.send({ ...command, id } as GeneratorCommand);
    });
  }

  connect(args: ConnectRequest): Promise<ConnectResult> {
    return this.request({ cmd: 'connect', args }, args.timeoutMs + 30_000);
  }

  run(args: RunRequest): Promise<RunResult> {
    return this.request({ cmd: 'run', args }, args.warmupMs + args.durationMs + args.drainMs + 60_000);
  }

  close(): Promise<void> {
    return this.request({ cmd: 'close' }, 30_000);
  }

  /** Bytes and frames the clients of the last connect have received so far. */
  traffic(): Promise<Traffic> {
    return this.request({ cmd: 'traffic' }, 30_000);
  }

  // Workload g (src/storms/deploygen.ts): connect, start the flow, mark the deploy, wait for
  // every client to recover, then stop and compare.
  deployConnect(args: DeployConnectRequest): Promise<DeployConnectResult> {
    return this.request({ cmd: 'deploy-connect', args }, args.timeoutMs + 30_000);
  }

  deployStart(rate: number): Promise<void> {
    return this.request({ cmd: 'deploy-start', args: { rate } }, 30_000);
  }

  deployMark(): Promise<void> {
    return this.request({ cmd: 'deploy-mark' }, 30_000);
  }

  deployWait(timeoutMs: number): Promise<DeployWaitResult> {
    return this.request({ cmd: 'deploy-wait', args: { timeoutMs } }, timeoutMs + 30_000);
  }

  deployFinish(drainMs: number): Promise<DeployFinishResult> {
    return this.request({ cmd: 'deploy-finish', args: { drainMs } }, drainMs + 30_000);
  }

  async stop(): Promise<void> {
    if (this.proc.child.connected) this.proc.child.disconnect();
    await stop(this.proc, 5000);
  }
}

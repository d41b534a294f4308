import type { TestContext } from 'node:test';
import { buildApp } from '../../src/app.ts';
import { loadConfig } from '../../src/config.ts';
import { UNLIMITED, type RunningApp } from './app.ts';

/** Every log line an app wrote, as written (JSON text), with a parsed view. */
export class CapturedLog {
  readonly lines: string[] = [];

  /** What pino writes to: one call per line. */
  readonly stream = {
    write: (line: string): void => {
      this.lines.push(line);
    },
  };

  /** The lines as objects (pino writes JSON). */
  get records(): any[] {
    return this.lines.map((line) => JSON.parse(line));
  }

  /** The lines that contain `text` anywhere (message, fields, serialized request). */
  containing(text: string): string[] {
    return this.lines.filter((line) => line.includes(text));
  }
}

/**
 * Like startApp, but the app logs at `level` to a {@link CapturedLog} through
 * `BuildOptions.logger`, the way an embedding or a test passes its own logger.
 */
export async function startAppWithLog(
  t: TestContext,
  env: Record<string, string | undefined> = {},
  level = 'info',
): Promise<RunningApp & { log: CapturedLog }> {
  const config = loadConfig({ ...UNLIMITED, DRAIN_MS: '0', ...env });
  const log = new CapturedLog();
  const app = await buildApp(config, { logger: { level, stream: log.stream } });
  t.after(() => app.close());
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.server.address();
  if (address === null || typeof address === 'string') throw new Error('no address');
  return { app, config, log, httpUrl: `http://127.0.0.1:${address.port}`, wsUrl: `ws://127.0.0.1:${address.port}` };
}

// Parley's server as it was at another git revision, built aside for a before/after comparison
// in one run (pnpm attack --server-rev, and pnpm bench's -before systems).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, realpathSync, rmSync, symlinkSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

/**
 * Builds the protocol and server of git revision `rev` aside, in `<benchRoot>/.work/servers/<sha>`
 * (reused when it is there), with this checkout's installed dependencies linked in, and returns
 * its server.js and the full commit. For a "before" run while apps/server is being changed.
 */
export function buildRevision(repoRoot: string, benchRoot: string, rev: string): { script: string; commit: string } {
  const git = (...args: string[]) => {
    const r = spawnSync('git', ['-C', repoRoot, ...args], { encoding: 'utf8', maxBuffer: 64 << 20 });
    if (r.status !== 0) throw new Error(`git ${args.join(' ')}: ${r.stderr.trim()}`);
    return r.stdout.trim();
  };
  const commit = git('rev-parse', '--verify', `${rev}^{commit}`);
  const dir = join(benchRoot, '.work/servers', commit.slice(0, 12));
  const script = join(dir, 'apps/server/dist/server.js');
  if (existsSync(script)) return { script, commit };
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const archive = spawnSync(
    'sh',
    [
      '-c',
      'git -C "$1" archive "$2" tsconfig.base.json packages/protocol apps/server | tar -x -C "$3"',
      'sh',
      repoRoot,
      commit,
      dir,
    ],
    { encoding: 'utf8' },
  );
  if (archive.status !== 0) throw new Error(`git archive ${commit}: ${archive.stderr.trim()}`);
  for (const pkg of ['packages/protocol', 'apps/server'])
    linkDependencies(join(repoRoot, pkg), join(dir, pkg), join(dir, 'packages/protocol'));
  const tsc = createRequire(join(benchRoot, 'package.json')).resolve('typescript/bin/tsc');
  for (const pkg of ['packages/protocol', 'apps/server']) {
    const built = spawnSync(process.execPath, [tsc, '-p', join(dir, pkg, 'tsconfig.build.json')], { encoding: 'utf8' });
    if (built.status !== 0)
      throw new Error(`building ${pkg} at ${commit.slice(0, 12)} failed:\n${built.stdout}${built.stderr}`);
  }
  return { script, commit };
}

/** node_modules of `into` as links to what `from` has installed, @parley/protocol to the copy. */
function linkDependencies(from: string, into: string, protocolCopy: string): void {
  const source = join(from, 'node_modules');
  if (!existsSync(source)) return;
  const link = (name: string) => {
    const target = name === '@parley/protocol' ? protocolCopy : realpathSync(join(source, name));
    mkdirSync(join(into, 'node_modules', name, '..'), { recursive: true });
    symlinkSync(target, join(into, 'node_modules', name));
  };
  for (const entry of readdirSync(source)) {
    if (entry.startsWith('.')) continue;
    if (entry.startsWith('@')) for (const sub of readdirSync(join(source, entry))) link(`${entry}/${sub}`);
    else link(entry);
  }
}

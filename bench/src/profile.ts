// Summarises V8 .cpuprofile files (node --cpu-prof) by self time: top functions and a breakdown
// by package, optionally restricted to the measured window of a step.
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { ProfileFunction } from './types.ts';

interface CpuProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
  hitCount?: number;
}

interface CpuProfile {
  nodes: CpuProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

function listProfiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  for (const entry of readdirSync(dir)) {
    const p = join(dir, entry);
    if (statSync(p).isDirectory()) out.push(...listProfiles(p));
    else if (entry.endsWith('.cpuprofile')) out.push(p);
  }
  return out;
}

export function categoryOf(url: string, fn: string): string {
  if (fn === '(garbage collector)') return 'V8 garbage collector';
  if (fn === '(program)') return 'native / not attributed to JS ("(program)")';
  if (fn === '(idle)') return 'idle';
  const pkg = /node_modules\/(?:\.pnpm\/[^/]+\/node_modules\/)?((?:@[^/]+\/)?[^/]+)\//.exec(url);
  if (pkg) return `npm: ${pkg[1]}`;
  if (url.includes('/apps/server/')) return 'Parley server (apps/server)';
  if (url.includes('/packages/protocol/')) return 'Parley protocol (packages/protocol)';
  if (url.startsWith('node:')) return 'Node.js core (JS)';
  if (url === '') return 'V8/Node built-ins (native)';
  return 'other';
}

/**
 * Self time per function over every profile in `dir` (summed over instances). With `window`
 * (process.hrtime.bigint() values, the same monotonic clock V8 stamps samples with), only the
 * samples inside it count.
 */
export function summariseProfiles(
  dir: string,
  window: { from: bigint; to: bigint } | undefined,
  repoRoot: string,
  top = 25,
):
  | {
      totalMs: number;
      top: ProfileFunction[];
      byCategory: Array<{ category: string; selfMs: number; selfPct: number }>;
      files: string[];
    }
  | undefined {
  const files = listProfiles(dir);
  if (files.length === 0) return undefined;
  const selfUs = new Map<string, { name: string; location: string; us: number }>();
  const catUs = new Map<string, number>();
  let busyUs = 0;
  const fromUs = window === undefined ? -Infinity : Number(window.from / 1000n);
  const toUs = window === undefined ? Infinity : Number(window.to / 1000n);
  for (const file of files) {
    const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
    const byId = new Map(profile.nodes.map((n) => [n.id, n]));
    let t = profile.startTime;
    for (let i = 0; i < profile.samples.length; i++) {
      const delta = profile.timeDeltas[i] ?? 0;
      t += delta;
      if (t < fromUs || t > toUs) continue;
      // A sample's weight is the time until the next one.
      const weight = profile.timeDeltas[i + 1] ?? 0;
      const node = byId.get(profile.samples[i]!);
      if (node === undefined) continue;
      const { functionName, url, lineNumber } = node.callFrame;
      if (functionName === '(idle)') continue;
      const name = functionName === '' ? '(anonymous)' : functionName;
      const shortUrl = url.startsWith('file://') ? relative(repoRoot, url.slice('file://'.length)) : url;
      const location =
        shortUrl === ''
          ? ''
          : `${shortUrl.replace(/^.*node_modules\/(\.pnpm\/[^/]+\/node_modules\/)?/, '')}:${lineNumber + 1}`;
      const key = `${name}@${location}`;
      const entry = selfUs.get(key) ?? { name, location, us: 0 };
      entry.us += weight;
      selfUs.set(key, entry);
      const cat = categoryOf(url, functionName);
      catUs.set(cat, (catUs.get(cat) ?? 0) + weight);
      busyUs += weight;
    }
  }
  const pct = (us: number) => (busyUs === 0 ? 0 : (100 * us) / busyUs);
  return {
    totalMs: busyUs / 1000,
    top: [...selfUs.values()]
      .sort((a, b) => b.us - a.us)
      .slice(0, top)
      .map((e) => ({ name: e.name, location: e.location, selfMs: e.us / 1000, selfPct: pct(e.us) })),
    byCategory: [...catUs.entries()]
      .sort((a, b) => b[1] - a[1])
      .map(([category, us]) => ({ category, selfMs: us / 1000, selfPct: pct(us) })),
    files,
  };
}

// `node bench/dist/src/profile.js <dir>`: summarise profiles taken by hand.
if (process.argv[1]?.endsWith('profile.js') || process.argv[1]?.endsWith('profile.ts')) {
  const dir = process.argv[2];
  if (dir === undefined) {
    console.error('usage: node bench/dist/src/profile.js <directory with .cpuprofile files>');
    process.exit(2);
  }
  const s = summariseProfiles(dir, undefined, process.cwd(), 40);
  if (s === undefined) {
    console.error('no .cpuprofile files there');
    process.exit(1);
  }
  console.log(`busy ${s.totalMs.toFixed(0)} ms`);
  for (const c of s.byCategory) console.log(`${c.selfPct.toFixed(1).padStart(5)}%  ${c.category}`);
  console.log('');
  for (const f of s.top)
    console.log(
      `${f.selfPct.toFixed(1).padStart(5)}%  ${f.selfMs.toFixed(0).padStart(6)} ms  ${f.name}  ${f.location}`,
    );
}

// Writes the results: <date>.json (everything), <date>.md (tables, goals, method) and one SVG
// chart per workload (p99 latency against offered load, per system), drawn by hand.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stormNoisePct, stormSections, stormSettingsLine } from './storms/report.ts';
import type { IdleResult, Results, StepRecord, SystemWorkloadResult } from './types.ts';

const COLORS = ['#1f77b4', '#d62728', '#ff7f0e', '#8c564b', '#e377c2', '#2ca02c', '#7f7f7f', '#17becf', '#9467bd'];

const f = (n: number | null | undefined, digits = 1): string =>
  n === null || n === undefined || !Number.isFinite(n) ? '–' : n.toFixed(digits);
const int = (n: number | null | undefined): string =>
  n === null || n === undefined || !Number.isFinite(n) ? '–' : Math.round(n).toLocaleString('en-US');
const mib = (kb: number | null | undefined): string =>
  kb === null || kb === undefined || !Number.isFinite(kb) ? '–' : (kb / 1024).toFixed(0);

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length === 0 ? NaN : s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

/** Deliveries/s the server would reach at 100 % of one core at this cost: 10⁶ / (µs per delivery). */
export function perCore(s: StepRecord): number {
  return s.serverCpuMsPer1k > 0 ? 1e6 / s.serverCpuMsPer1k : NaN;
}

/** The run at the max sustainable rate with the median p99 (the representative one). */
export function runAtMax(run: SystemWorkloadResult): StepRecord | undefined {
  const rate = run.search?.maxRate;
  if (rate === null || rate === undefined) return undefined;
  const runs = run.steps
    .filter((s) => s.rate === rate && (s.phase === 'search' || s.phase === 'repeat'))
    .sort((a, b) => a.latencyMs.p99 - b.latencyMs.p99);
  return runs[Math.floor((runs.length - 1) / 2)];
}

function fileBase(r: Results): string {
  if (r.label !== undefined) return `${r.date}-${r.label}`;
  if (r.runs.length === 0 && r.idle.length === 0 && r.profile !== undefined) return `${r.date}-profile`;
  return r.settings.mode === 'quick' ? `${r.date}-quick` : r.date;
}

// ---------------------------------------------------------------------------------------------
// SVG

function chart(r: Results, workload: string): string | undefined {
  const runs = r.runs.filter((x) => x.workload === workload && x.steps.length > 0);
  if (runs.length === 0) return undefined;
  const series = runs.map((run, i) => {
    const byRate = new Map<number, StepRecord[]>();
    for (const s of run.steps) {
      if (!(s.latencyMs.p99 > 0) || s.phase === 'noisy' || s.phase === 'profile') continue;
      const list = byRate.get(s.offeredDeliveriesPerSec) ?? [];
      list.push(s);
      byRate.set(s.offeredDeliveriesPerSec, list);
    }
    const points = [...byRate.entries()]
      .sort((a, b) => a[0] - b[0])
      .map(([x, steps]) => ({
        x,
        y: median(steps.map((s) => s.latencyMs.p99)),
        pass: steps.filter((s) => s.pass).length * 2 > steps.length,
      }));
    const color = COLORS[r.systems.findIndex((s) => s.id === run.system) % COLORS.length] ?? COLORS[i % COLORS.length]!;
    return { id: run.system, color, points };
  });
  const all = series.flatMap((s) => s.points);
  if (all.length === 0) return undefined;
  const W = 860;
  const H = 440;
  const m = { l: 64, r: 250, t: 36, b: 52 };
  const pw = W - m.l - m.r;
  const ph = H - m.t - m.b;
  const x0 = Math.floor(Math.log10(Math.min(...all.map((p) => p.x))));
  const x1 = Math.ceil(Math.log10(Math.max(...all.map((p) => p.x)) * 1.01));
  const y0 = Math.min(-1, Math.floor(Math.log10(Math.max(0.01, Math.min(...all.map((p) => p.y))))));
  const y1 = Math.max(3, Math.ceil(Math.log10(Math.max(...all.map((p) => p.y)) * 1.01)));
  const X = (v: number) => m.l + ((Math.log10(v) - x0) / Math.max(1, x1 - x0)) * pw;
  const Y = (v: number) => m.t + ph - ((Math.log10(Math.max(v, 10 ** y0)) - y0) / Math.max(1, y1 - y0)) * ph;
  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="Helvetica, Arial, sans-serif" font-size="12">`,
  );
  out.push(`<rect width="${W}" height="${H}" fill="white"/>`);
  const wl = r.workloads.find((w) => w.id === workload);
  out.push(
    `<text x="${m.l}" y="20" font-size="14" font-weight="bold">Workload ${workload}: ${esc(wl?.title ?? '')} — p99 latency vs offered load</text>`,
  );
  for (let e = x0; e <= x1; e++) {
    for (const k of [1, 2, 5]) {
      const v = k * 10 ** e;
      if (Math.log10(v) > x1 + 1e-9) continue;
      const x = X(v);
      out.push(
        `<line x1="${x.toFixed(1)}" y1="${m.t}" x2="${x.toFixed(1)}" y2="${m.t + ph}" stroke="${k === 1 ? '#ccc' : '#eee'}"/>`,
      );
      if (k === 1 || x1 - x0 <= 3)
        out.push(`<text x="${x.toFixed(1)}" y="${m.t + ph + 16}" text-anchor="middle">${short(v)}</text>`);
    }
  }
  for (let e = y0; e <= y1; e++) {
    const y = Y(10 ** e);
    out.push(`<line x1="${m.l}" y1="${y.toFixed(1)}" x2="${m.l + pw}" y2="${y.toFixed(1)}" stroke="#ccc"/>`);
    out.push(`<text x="${m.l - 6}" y="${(y + 4).toFixed(1)}" text-anchor="end">${short(10 ** e)}</text>`);
  }
  const yl = Y(100);
  out.push(
    `<line x1="${m.l}" y1="${yl.toFixed(1)}" x2="${m.l + pw}" y2="${yl.toFixed(1)}" stroke="#000" stroke-dasharray="5,4"/>`,
  );
  out.push(
    `<text x="${m.l + pw - 4}" y="${(yl - 5).toFixed(1)}" text-anchor="end" font-size="11">p99 limit 100 ms</text>`,
  );
  out.push(`<rect x="${m.l}" y="${m.t}" width="${pw}" height="${ph}" fill="none" stroke="#666"/>`);
  out.push(
    `<text x="${m.l + pw / 2}" y="${H - 12}" text-anchor="middle">offered deliveries/s (publish rate × clients per room), log scale</text>`,
  );
  out.push(
    `<text transform="translate(16 ${m.t + ph / 2}) rotate(-90)" text-anchor="middle">p99 end-to-end latency, ms (log)</text>`,
  );
  series.forEach((s, i) => {
    if (s.points.length > 1) {
      out.push(
        `<polyline fill="none" stroke="${s.color}" stroke-width="1.8" points="${s.points.map((p) => `${X(p.x).toFixed(1)},${Y(p.y).toFixed(1)}`).join(' ')}"/>`,
      );
    }
    for (const p of s.points) {
      out.push(
        `<circle cx="${X(p.x).toFixed(1)}" cy="${Y(p.y).toFixed(1)}" r="3.5" fill="${p.pass ? s.color : 'white'}" stroke="${s.color}" stroke-width="1.5"/>`,
      );
    }
    const ly = m.t + 10 + i * 20;
    out.push(
      `<line x1="${m.l + pw + 16}" y1="${ly}" x2="${m.l + pw + 40}" y2="${ly}" stroke="${s.color}" stroke-width="2.5"/>`,
    );
    out.push(`<text x="${m.l + pw + 46}" y="${ly + 4}">${esc(s.id)}</text>`);
  });
  const ly = m.t + 10 + series.length * 20 + 10;
  out.push(
    `<circle cx="${m.l + pw + 28}" cy="${ly}" r="3.5" fill="#444"/><text x="${m.l + pw + 46}" y="${ly + 4}">sustained (median of runs)</text>`,
  );
  out.push(
    `<circle cx="${m.l + pw + 28}" cy="${ly + 18}" r="3.5" fill="white" stroke="#444" stroke-width="1.5"/><text x="${m.l + pw + 46}" y="${ly + 22}">failed (loss or p99)</text>`,
  );
  out.push('</svg>');
  return out.join('\n');
}

function short(v: number): string {
  if (v >= 1e6) return `${+(v / 1e6).toPrecision(3)}M`;
  if (v >= 1e3) return `${+(v / 1e3).toPrecision(3)}k`;
  return `${+v.toPrecision(3)}`;
}

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

// ---------------------------------------------------------------------------------------------
// Goals

interface Goal {
  goal: string;
  target: string;
  measured: string;
  ratio: string;
  met: boolean | null;
}

export function goals(r: Results): Goal[] {
  const b = (id: string) => r.runs.find((x) => x.workload === 'b' && x.system === id);
  const maxD = (id: string) => b(id)?.search?.maxDeliveriesPerSec ?? null;
  const out: Goal[] = [];
  const pr = maxD('parley-redis');
  const da = maxD('django-async');
  const ds = maxD('django-sync');
  const sio = maxD('socketio');
  const ratioGoal = (
    goal: string,
    target: number,
    a: number | null,
    bb: number | null,
    an: string,
    bn: string,
    higherIsBetter = true,
  ): Goal => {
    const ratio = a !== null && bb !== null && bb > 0 ? a / bb : null;
    return {
      goal,
      target: `${higherIsBetter ? '≥' : '≤'} ${target}×`,
      measured: `${an} ${int(a)} vs ${bn} ${int(bb)}`,
      ratio: ratio === null ? '–' : `${ratio.toFixed(2)}×`,
      met: ratio === null ? null : higherIsBetter ? ratio >= target : ratio <= target,
    };
  };
  out.push(
    ratioGoal('Max sustainable, Parley Redis vs Django async consumer (b)', 30, pr, da, 'Parley', 'Django async', true),
  );
  out.push(ratioGoal('Max sustainable, Parley Redis vs Socket.IO (b)', 1, pr, sio, 'Parley', 'Socket.IO', true));
  if (ds !== null)
    out.push({
      ...ratioGoal(
        '(for reference) Parley Redis vs Django sync consumer (b)',
        1,
        pr,
        ds,
        'Parley',
        'Django sync',
        true,
      ),
      target: '–',
      met: null,
    });
  for (const rate of costRates(r)) {
    const pc = costStep(r, 'parley-redis', rate);
    const sc = costStep(r, 'socketio', rate);
    out.push({
      ...ratioGoal(
        `Server CPU per delivery at the same offered load (${int(rate)} msg/s on b), Parley Redis vs Socket.IO`,
        0.7,
        pc?.serverCpuMsPer1k ?? null,
        sc?.serverCpuMsPer1k ?? null,
        'Parley',
        'Socket.IO',
        false,
      ),
      measured: `Parley ${f(pc?.serverCpuMsPer1k, 2)} vs Socket.IO ${f(sc?.serverCpuMsPer1k, 2)} ms per 1,000 deliveries`,
    });
  }
  const two = maxD('parley-redis-2x');
  // Steps of the search are coarse and runs vary by a few percent: only a clear lead counts as more.
  out.push({
    ...ratioGoal(
      'Two instances sustain more than one (b, both on the server core; a lead under 5% counts as equal)',
      1,
      two,
      pr,
      '2 instances',
      '1 instance',
      true,
    ),
    target: '> 1×',
    met: two !== null && pr !== null ? two > pr * 1.05 : null,
  });
  for (const id of ['parley-memory', 'parley-redis']) {
    const idle = r.idle.find((x) => x.system === id);
    if (idle === undefined) continue;
    const kib = idleKib(idle);
    out.push({
      goal: `${idle.connected.toLocaleString('en-US')} idle connections on one instance (${id}): RSS per connection above the idle baseline${idle.settleS ? `, settled (lowest within ${idle.settleS} s of idling)` : ''}`,
      target: '< 8 KiB',
      measured: `${f(kib, 2)} KiB${idle.settleS ? ` (${f(idle.kibPerConnection, 2)} KiB 2–6 s after the last open)` : ''}`,
      ratio: kib == null ? '–' : `${(kib / 8).toFixed(2)}× the limit`,
      met: kib == null || idle.connected < idle.requested ? null : kib < 8,
    });
  }
  const half = b('parley-redis')?.steps.find((s) => s.phase === 'half');
  out.push({
    goal: 'p99 at half the max sustainable rate, Parley Redis (b)',
    target: '< 20 ms',
    measured: half ? `${f(half.latencyMs.p99, 1)} ms at ${int(half.rate)} msg/s` : '–',
    ratio: half ? `${(half.latencyMs.p99 / 20).toFixed(2)}× the limit` : '–',
    met: half ? half.latencyMs.p99 < 20 : null,
  });
  return out;
}

/** Plain statements, from the data of this run, about what limited each system and goal. */
export function findings(r: Results): string[] {
  const out: string[] = [];
  const b = (id: string) => r.runs.find((x) => x.workload === 'b' && x.system === id);
  const us = (s: StepRecord | undefined) => (s ? `${f(s.serverCpuMsPer1k, 1)} µs` : '–');
  const describe = (id: string) => {
    const run = b(id);
    if (run === undefined || run.search === null) return undefined;
    const at = runAtMax(run);
    const sr = run.search;
    const fail = run.steps
      .filter((x) => !x.pass && x.phase !== 'noisy' && sr.failRate !== null && x.rate === sr.failRate)
      .at(-1);
    return (
      `**${id}**: sustained ${int(sr.maxRate)} msg/s (${int(sr.maxDeliveriesPerSec)} deliveries/s)` +
      (at
        ? ` with the server at ${f(at.serverCpuPct, 0)}% of its core, ${us(at)} of server CPU per delivery (≈ ${int(perCore(at))} deliveries/s per core), generator at ${f(at.genCpuPct, 0)}%`
        : '') +
      (fail
        ? `; at ${int(fail.rate)} msg/s it failed (${fail.reasons.join('; ')}) with the server at ${f(fail.serverCpuPct, 0)}% and the generator + Redis core at ${f(fail.auxCorePct, 0)}%`
        : '') +
      `. Limited by: ${sr.bound}.`
    );
  };
  for (const id of [
    'parley-redis',
    'parley-memory',
    'parley-redis-2x',
    'socketio',
    'ws-raw',
    'django-async',
    'django-sync',
  ]) {
    const line = describe(id);
    if (line !== undefined) out.push(`- ${line}`);
  }
  const p1 = costStep(r, 'parley-redis');
  const p2 = costStep(r, 'parley-redis-2x');
  const atRate = costRates(r)
    .map((rate) => ({
      rate,
      p: costStep(r, 'parley-redis', rate),
      sio: costStep(r, 'socketio', rate),
      raw: costStep(r, 'ws-raw', rate),
    }))
    .filter((x) => x.p !== undefined && x.sio !== undefined);
  if (atRate.length > 0) {
    const rawRatios = atRate
      .filter((x) => x.raw !== undefined)
      .map((x) => `${(x.raw!.serverCpuMsPer1k / x.sio!.serverCpuMsPer1k).toFixed(2)}×`);
    out.push(
      `- Cost at the same offered load (b): ` +
        atRate
          .map(
            (x) =>
              `at ${int(x.rate)} msg/s Parley Redis ${us(x.p!)} per delivery, Socket.IO ${us(x.sio!)}${x.raw ? `, raw ws ${us(x.raw)}` : ''}`,
          )
          .join('; ') +
        '.' +
        (rawRatios.length > 0
          ? ` The raw ws broadcast, which does nothing but parse and write one frame per delivery, costs ${rawRatios.join(' and ')} of Socket.IO's here: a ratio of 0.7 asks Parley, with history, acks and Redis, to cost about what that bare write costs.`
          : '') +
        kernelShares(atRate[0]!) +
        (r.profile
          ? ` The profile below (at ${int(r.profile.rate)} msg/s) puts ${f(socketWritePct(r.profile.top), 0)}% of Parley's CPU in the system calls that write frames to sockets (\`writeBuffer\`, \`writev\`, \`writeUtf8String\`; ` +
            "on loopback they also run the receiving side's TCP processing). The peers make one such write per delivery; Parley makes one per socket per batch (a room's events of one event-loop turn, or of 5 ms in a busy room, pre-framed once for all sockets; a sender's ack goes in the same write as the echo of its message), so its cost per delivery falls as the load rises, while at a light load, with about one message per batch, it pays the same write per delivery as the others, plus its own work (history, acks, Redis)."
          : ''),
    );
  }
  if (p1 && p2) {
    out.push(
      `- Two instances on one core: ${us(p2)} per delivery against ${us(p1)} for one instance at the same load. Every instance receives, parses and encodes every message of every room it has members in ` +
        '(clients of each room alternate between the instances, so that is every room), so the per-message work is done twice while the per-delivery work is split; the two processes also share one core ' +
        'and one set of caches. On 2 cores there is no free core for a second instance here: core 1 carries the generator and Redis (the optional `parley-redis-2x-2cores` system measures that setup).',
    );
  }
  const saturated = r.runs.filter((x) => {
    const at = runAtMax(x);
    return at !== undefined && at.genCpuPct >= 90;
  });
  if (saturated.length > 0) {
    out.push(
      `- The generator was near saturation (≥ 90% of its core) at the max of: ${saturated.map((x) => `${x.system} on ${x.workload}`).join(', ')}; there the limit is partly the generator's, and the CPU per delivery is the fair comparison.`,
    );
  }
  for (const id of ['parley-memory', 'parley-redis']) {
    const idle = r.idle.find((x) => x.system === id);
    const kib = idle === undefined ? null : idleKib(idle);
    if (kib == null || kib < 8) continue;
    const socket = r.idle.find((x) => x.system === 'ws-raw');
    const socketKib = socket === undefined ? null : idleKib(socket);
    out.push(
      `- Idle memory (${id}): ${f(kib, 1)} KiB per connection, ${f(kib / 8, 2)}× the 8 KiB goal` +
        (socketKib != null
          ? `; a bare \`ws\` socket costs ${f(socketKib, 1)} KiB in the raw ws server, so about ${f(kib - socketKib, 1)} KiB is Parley's own per-connection state and garbage not yet collected. Heap snapshots taken by hand on this build after a forced full GC (not part of this run) show about 3.5 KiB of live heap per Parley connection against 2.8 KiB for raw ws; the rest is garbage of the connection storm (welcome frames with the member list, join frames, Redis replies) that V8 had not collected when the RSS was sampled`
          : '') +
        '.',
    );
  }
  const prRun = b('parley-redis');
  const half = prRun?.steps.find((x) => x.phase === 'half');
  if (half !== undefined && half.latencyMs.p99 >= 20) {
    // What the same system's p99 was at loads the others can carry: the passing step closest to Socket.IO's max.
    const sioMax = b('socketio')?.search?.maxRate ?? null;
    const near =
      sioMax === null
        ? undefined
        : prRun!.steps
            .filter((x) => x.pass && x.phase !== 'half' && x.rate >= sioMax)
            .sort((x, y) => x.rate - y.rate)[0];
    out.push(
      `- p99 at half the max (Parley Redis, b): ${f(half.latencyMs.p99, 1)} ms at ${int(half.rate)} msg/s (${int(half.deliveredPerSec)} deliveries/s), with the server at ${f(half.serverCpuPct, 0)}% of its core and the generator + Redis core at ${f(half.auxCorePct, 0)}%. ` +
        'Writing a busy room at most every 5 ms, several messages per write, is what lets one core carry this load; it also means that half the max is still heavy work for both cores, not the light load the goal has in mind.' +
        (near !== undefined && sioMax !== null
          ? ` At ${int(near.rate)} msg/s, the first step at or above Socket.IO's max (${int(sioMax)} msg/s), Parley's p99 was ${f(near.latencyMs.p99, 1)} ms.`
          : ''),
    );
  }
  const noisy = r.runs.flatMap((x) => x.steps).filter((x) => x.phase === 'noisy').length;
  if (noisy > 0)
    out.push(
      `- ${noisy} failed step(s) were measured again because other processes loaded the machine meanwhile (marked \`noisy\` in the step tables).`,
    );
  return out;
}

/** The rates of the cost comparison, lowest first. */
function costRates(r: Results): number[] {
  return r.settings.commonRates ?? [r.settings.commonRate];
}

/**
 * A system's figures at a common rate on b (the first one unless given): the median of its cost
 * rounds when the run has them, else the single 'common' step of its workload-b run (results of
 * earlier versions).
 */
function costStep(r: Results, system: string, rate = r.settings.commonRate): StepRecord | undefined {
  const samples = (r.cost ?? [])
    .filter((c) => c.system === system && (c.rate ?? r.settings.commonRate) === rate)
    .map((c) => c.step);
  if (samples.length > 0) {
    const sorted = [...samples].sort((a, b) => a.serverCpuMsPer1k - b.serverCpuMsPer1k);
    return sorted[Math.floor((sorted.length - 1) / 2)];
  }
  return r.runs.find((x) => x.workload === 'b' && x.system === system)?.steps.find((x) => x.phase === 'common');
}

/** Share of profile self time in the system calls that write to sockets. */
/**
 * How much of each system's cost at the lightest common rate was kernel time: the part every
 * server pays for writing one frame per delivery, whatever it does in user space.
 */
function kernelShares(x: {
  rate: number;
  p?: StepRecord | undefined;
  sio?: StepRecord | undefined;
  raw?: StepRecord | undefined;
}): string {
  const named = [
    ['Parley Redis', x.p],
    ['Socket.IO', x.sio],
    ['raw ws', x.raw],
  ] as const;
  const parts = named
    .filter(([, s]) => s?.serverKernelPct !== undefined && Number.isFinite(s.serverKernelPct))
    .map(
      ([name, s]) =>
        `${name} ${f(s!.serverKernelPct, 0)}% (${f((s!.serverCpuMsPer1k * s!.serverKernelPct!) / 100, 1)} µs per delivery)`,
    );
  if (parts.length === 0) return '';
  return (
    ` At ${int(x.rate)} msg/s the kernel's share of the server's CPU (system calls: the socket writes, which on loopback also run the receiving side's TCP work) was ${parts.join(', ')}; ` +
    'what is left for a server to save is its user-space time above that floor.'
  );
}

function socketWritePct(top: Array<{ name: string; selfPct: number }>): number {
  const writes = new Set(['writev', 'writeBuffer', 'writeUtf8String', 'writeLatin1String']);
  return top.filter((t) => writes.has(t.name)).reduce((sum, t) => sum + t.selfPct, 0);
}

// ---------------------------------------------------------------------------------------------
// Markdown

function workloadTable(r: Results, workload: string): string[] {
  const lines: string[] = [];
  lines.push(
    '| system | max sustainable msg/s | deliveries/s | p50 ms | p90 ms | p99 ms | max ms | server CPU % | server ms / 1k deliveries | deliveries/s per server core (est.) | server peak RSS MiB | generator CPU % | Redis CPU % | other CPU % | p99 at ½ max | limited by |',
    '|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|---|',
  );
  for (const run of r.runs.filter((x) => x.workload === workload)) {
    if (run.skipped !== undefined || run.error !== undefined) {
      lines.push(
        `| ${run.system} | ${run.skipped ? `skipped: ${run.skipped}` : `error: ${run.error!.split('\n')[0]}`} ||||||||||||||| |`,
      );
      continue;
    }
    const s = runAtMax(run);
    const half = run.steps.find((x) => x.phase === 'half');
    const sr = run.search;
    if (s === undefined) {
      lines.push(`| ${run.system} | none | | | | | | | | | | | | | | ${sr?.bound ?? ''} ${sr?.note ?? ''} |`);
      continue;
    }
    lines.push(
      `| ${run.system} | ${int(sr!.maxRate)} | ${int(sr!.maxDeliveriesPerSec)} | ${f(s.latencyMs.p50, 2)} | ${f(s.latencyMs.p90, 2)} | ${f(s.latencyMs.p99, 2)} | ${f(s.latencyMs.max, 1)} | ${f(s.serverCpuPct, 0)} | ${f(s.serverCpuMsPer1k, 3)} | ${int(perCore(s))} | ${mib(s.serverPeakRssKb)} | ${f(s.genCpuPct, 0)} | ${s.redisCpuPct === null ? '–' : f(s.redisCpuPct, 0)} | ${f(s.otherCpuPct, 0)} | ${half ? `${f(half.latencyMs.p99, 1)} ms` : '–'} | ${sr!.bound}${sr!.note ? ` (${sr!.note})` : ''} |`,
    );
  }
  return lines;
}

function stepsTable(runs: SystemWorkloadResult[]): string[] {
  const lines = [
    '| system | phase | msg/s | deliveries/s | ratio | p50 ms | p99 ms | max ms | server CPU % | ms / 1k | gen CPU % | Redis CPU % | other CPU % | result |',
    '|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|---|',
  ];
  for (const run of runs) {
    for (const s of run.steps) {
      lines.push(
        `| ${run.system} | ${s.phase} | ${f(s.rate, s.rate < 10 ? 2 : 0)} | ${int(s.deliveredPerSec)} | ${s.ratio.toFixed(4)} | ${f(s.latencyMs.p50, 2)} | ${f(s.latencyMs.p99, 2)} | ${f(s.latencyMs.max, 1)} | ${f(s.serverCpuPct, 0)} | ${f(s.serverCpuMsPer1k, 3)} | ${f(s.genCpuPct, 0)} | ${s.redisCpuPct === null ? '–' : f(s.redisCpuPct, 0)} | ${f(s.otherCpuPct, 0)} | ${s.pass ? 'pass' : s.reasons.join('; ')} |`,
      );
    }
  }
  return lines;
}

/** KiB per idle connection as the goal counts it: settled when measured, else soon after opening. */
function idleKib(idle: IdleResult): number | null {
  return idle.settledKibPerConnection !== undefined ? idle.settledKibPerConnection : idle.kibPerConnection;
}

function idleTable(idle: IdleResult[]): string[] {
  const lines = [
    '| system | protocol | connections | open time s | opens/s | RSS before MiB | RSS after MiB | KiB per connection | RSS settled MiB | KiB per connection, settled | peak RSS MiB | idle CPU % (server) | note |',
    '|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|---|',
  ];
  for (const x of idle) {
    if (x.skipped !== undefined) {
      lines.push(`| ${x.system} | ${x.protocol} | skipped: ${x.skipped} ||||||||||| |`);
      continue;
    }
    lines.push(
      `| ${x.system} | ${x.protocol} | ${int(x.connected)} / ${int(x.requested)} | ${f(x.elapsedMs / 1000, 1)} | ${int(x.openPerSec)} | ${mib(x.baselineRssKb)} | ${mib(x.rssKb)} | ${f(x.kibPerConnection, 2)} | ${x.settledRssKb === undefined ? '–' : mib(x.settledRssKb)} | ${x.settledKibPerConnection == null ? '–' : f(x.settledKibPerConnection, 2)} | ${mib(x.peakRssKb)} | ${f(x.idleCpuPct, 1)} | ${x.error ?? x.firstError ?? ''} |`,
    );
  }
  return lines;
}

export function markdown(r: Results): string {
  const base = fileBase(r);
  const m = r.machine;
  const L: string[] = [];
  L.push(`# Parley benchmark — ${r.date}${r.settings.mode === 'quick' ? ' (quick mode)' : ''}`, '');
  L.push(
    `Started ${r.startedAt}, took ${(r.durationS / 60).toFixed(1)} min. All systems ran side by side in this one run, on the same workloads, ` +
      `one after another (each with a fresh server and a fresh Redis). Raw data: [${base}.json](${base}.json).`,
    '',
  );
  const noisy = Math.max(0, stormNoisePct(r), ...r.runs.flatMap((x) => x.steps.map((s) => s.otherCpuPct)));
  L.push(
    `> **Noise.** This machine is shared: other people's test suites ran at times during this run. The "other CPU %" column is the CPU that processes ` +
      `outside the benchmark used during each measured window (highest seen: ${noisy.toFixed(0)}% of a core); figures from windows with high "other" are the least reliable.`,
    '',
  );
  L.push('## Machine', '', '| | |', '|---|---|');
  L.push(`| CPUs (nproc) | ${m.nproc} × ${m.cpuModel} |`);
  L.push(`| memory | ${m.memTotalGiB} GiB |`);
  L.push(`| OS, kernel | ${m.os}, Linux ${m.kernel} |`);
  L.push(`| Node.js | ${m.node} |`);
  L.push(`| redis-server | ${m.redis} (one build for every system) |`);
  L.push(`| Python side | ${m.python ?? 'not installed'} |`);
  L.push(
    `| npm packages | ${Object.entries(m.packages)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')} |`,
  );
  L.push(`| Parley | git ${m.git} |`);
  L.push(`| pinning | ${m.pinning} |`, '');
  L.push('## Commands', '', '```sh', ...r.commands, '```', '');
  const s = r.settings;
  if (r.workloads.length > 0)
    L.push(
      `Settings: ${s.mode} mode; each step ${s.warmupMs} ms warm-up + ${s.durationMs} ms measured (+ up to ${s.drainMs} ms drain); ` +
        `${s.repeats} run(s) at the candidate limit; ${s.bisections} bisection(s); message text ${s.textBytes} bytes; cost comparison at ${costRates(r).map(int).join(' and ')} msg/s on b; ` +
        `${int(s.idleConnections)} idle connections in d; time budget ${s.budgetMinutes} min.`,
      '',
    );
  const stormLine = stormSettingsLine(r);
  if (stormLine !== undefined) L.push(stormLine, '');

  if (r.runs.some((x) => x.workload === 'b')) {
    L.push(
      '## Goals (workload b unless noted; every ratio from this run)',
      '',
      '| goal | target | measured | ratio | met |',
      '|---|---|---|--:|---|',
    );
    for (const g of goals(r))
      L.push(
        `| ${g.goal} | ${g.target} | ${g.measured} | ${g.ratio} | ${g.met === null ? 'n/a' : g.met ? 'yes' : '**no**'} |`,
      );
    L.push('', '### What bounds it', '', ...findings(r), '');
  }

  for (const wl of r.workloads) {
    if (wl.idle) continue;
    const runs = r.runs.filter((x) => x.workload === wl.id);
    if (runs.length === 0) continue;
    L.push(`## Workload ${wl.id}: ${wl.title}`, '');
    L.push(
      `${wl.rooms} × ${wl.clientsPerRoom} = ${int(wl.rooms * wl.clientsPerRoom)} connections; every message is delivered to the ${wl.clientsPerRoom} clients of its room, the sender included.`,
      '',
    );
    L.push(`![p99 latency vs offered load, workload ${wl.id}](${base}-${wl.id}.svg)`, '');
    L.push(...workloadTable(r, wl.id), '');
    L.push(
      'Latency and CPU figures are those of the median run at the max sustainable rate. "server ms / 1k deliveries" is server CPU time (all its processes) per 1,000 messages delivered: ' +
        'the cost figure that stays fair when the generator saturates or the machine is noisy. "deliveries/s per server core" = 10⁶ / µs per delivery at that point: what one core would carry at that cost if the server had it to itself.',
      '',
    );
    const systems = [
      ...new Set([...(wl.id === 'b' ? (r.cost ?? []).map((c) => c.system) : []), ...runs.map((x) => x.system)]),
    ];
    for (const rate of wl.id === 'b' ? costRates(r) : []) {
      const common = systems.map((id) => ({ id, st: costStep(r, id, rate) })).filter((x) => x.st !== undefined);
      if (common.length === 0) continue;
      const sio = common.find((x) => x.id === 'socketio')?.st;
      const rounds = r.cost !== undefined && r.cost.length > 0;
      L.push(`### Same offered load: ${int(rate)} msg/s (${int(rate * wl.clientsPerRoom)} deliveries/s offered)`, '');
      if (rounds && rate === costRates(r)[0]) {
        L.push(
          `Measured in rounds: each round starts every system fresh, one after another, so a change in the machine's speed during the run affects all of them alike; each row is the system's median round (by CPU per delivery), and the last column lists every round. "of which kernel" is the share of the server's CPU that was system time (from /proc/<pid>/stat).`,
          '',
        );
      }
      L.push(
        `| system | deliveries/s | ratio | p50 ms | p99 ms | server CPU % | server ms / 1k deliveries | of which kernel | vs Socket.IO | server peak RSS MiB |${rounds ? ' every round, ms / 1k |' : ''}`,
        `|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|${rounds ? '---|' : ''}`,
      );
      for (const { id, st } of common) {
        const all = (r.cost ?? [])
          .filter((c) => c.system === id && (c.rate ?? r.settings.commonRate) === rate)
          .map((c) => f(c.step.serverCpuMsPer1k, 2));
        L.push(
          `| ${id} | ${int(st!.deliveredPerSec)} | ${st!.ratio.toFixed(4)} | ${f(st!.latencyMs.p50, 2)} | ${f(st!.latencyMs.p99, 2)} | ${f(st!.serverCpuPct, 0)} | ${f(st!.serverCpuMsPer1k, 3)} | ${st!.serverKernelPct === undefined ? '–' : `${f(st!.serverKernelPct, 0)}%`} | ${sio ? `${(st!.serverCpuMsPer1k / sio.serverCpuMsPer1k).toFixed(2)}×` : '–'} | ${mib(st!.serverPeakRssKb)} |${rounds ? ` ${all.join(', ')} |` : ''}`,
        );
      }
      L.push('');
    }
  }

  if (r.idle.length > 0) {
    const d = r.workloads.find((w) => w.idle);
    L.push(`## Workload d: ${int(r.settings.idleConnections)} idle connections`, '');
    L.push(
      `${int(Math.ceil(r.settings.idleConnections / 100))} rooms × 100 connections (${d?.id === 'd' ? 'v1 for Parley' : ''}), opened 200 at a time (50 for Django), nobody sending. "RSS after" is the lowest of 16 samples over 4 s once all are open (2–6 s after the last open); ` +
        `"RSS settled" is the lowest sample (every 0.5 s) within ${r.idle.find((x) => x.settleS)?.settleS ?? 30} s after the last open, once the runtime has had time to collect the garbage of the connection storm: the goal counts that one, for every system alike. ` +
        '"KiB per connection" = (RSS − RSS before) / connections. Opens/s counts a connection when it is usable: the WebSocket open (reference), the welcome (v1), the namespace connect (Socket.IO).',
      '',
    );
    L.push(...idleTable(r.idle), '');
  }

  L.push(...stormSections(r));

  if (r.profile !== undefined) {
    const p = r.profile;
    L.push(`## CPU profile: Parley, Redis engine, workload b at ${int(p.rate)} msg/s`, '');
    L.push(
      `\`node --cpu-prof\` on the server during one measured window (${f(p.totalMs / 1000, 1)} s of busy CPU sampled` +
        `${p.step ? `; ${int(p.step.deliveredPerSec)} deliveries/s, server CPU ${f(p.step.serverCpuPct, 0)}%, p99 ${f(p.step.latencyMs.p99, 1)} ms` : ''}). ` +
        'Profiling slows the server; these shares, not the speeds, are the point.',
      '',
    );
    L.push('| where | self time % |', '|---|--:|');
    for (const c of p.byCategory.slice(0, 12)) L.push(`| ${c.category} | ${f(c.selfPct, 1)} |`);
    L.push('', '| function | location | self % |', '|---|---|--:|');
    for (const fn of p.top.slice(0, 25)) L.push(`| \`${fn.name}\` | ${fn.location} | ${f(fn.selfPct, 1)} |`);
    L.push('');
  }

  L.push('## Method', '');
  for (const n of r.notes) L.push(`- ${n}`);
  L.push(
    '- Load generator: Node with its own minimal WebSocket client (`src/wire-client.ts`, reading into one shared buffer; `ws` before 2026-12-06 and still in workload g) and `hdr-histogram-js`, one process on the aux core, open loop (a sender never waits for deliveries). Each message text carries `~<id>~<send time µs>~`; receivers read the marker from the raw frame bytes (no JSON parse), so the generator stays cheap. Latency is receive time minus send time in the same process and clock.',
    '- Delivery ratio = deliveries received (by the end of the drain) of the messages sent in the measured window / deliveries owed (one per client open in the room at send time). Deliveries/s counts deliveries received during the window.',
    '- Server CPU = utime + stime of the server processes (and their children; both instances summed for two-instance Parley) from /proc/<pid>/stat over the window; peak RSS = highest sampled VmRSS sum (every 200 ms). The generator reports its own CPU; Redis CPU comes from its /proc stat.',
  );
  if (r.workloads.length > 0)
    L.push(
      '- Two-instance Parley: both instances on the server core (the fair "server gets one core" setup), clients of each room alternating between them, so every room spans both instances.',
    );
  L.push('');

  for (const wl of r.workloads) {
    const runs = r.runs.filter((x) => x.workload === wl.id && x.steps.length > 0);
    if (runs.length === 0) continue;
    L.push(
      `<details><summary>Every step of workload ${wl.id}</summary>`,
      '',
      ...stepsTable(runs),
      '',
      '</details>',
      '',
    );
  }
  return L.join('\n');
}

/** Writes JSON, Markdown and the charts; returns the paths written. */
export function writeReport(r: Results, dir: string, _repoRoot: string): string[] {
  const base = fileBase(r);
  const files: string[] = [];
  const json = join(dir, `${base}.json`);
  writeFileSync(json, JSON.stringify(r, null, 1) + '\n');
  files.push(json);
  for (const wl of r.workloads) {
    if (wl.idle) continue;
    const svg = chart(r, wl.id);
    if (svg === undefined) continue;
    const p = join(dir, `${base}-${wl.id}.svg`);
    writeFileSync(p, svg + '\n');
    files.push(p);
  }
  const md = join(dir, `${base}.md`);
  writeFileSync(md, markdown(r) + '\n');
  files.push(md);
  return files;
}

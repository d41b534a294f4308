// Writes the attack results: attack-<date>[-label].json (everything) and .md (the goal per
// attack, what the attacker achieved, what the server paid, the method, machine and commands).
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ATTACK_TITLES } from './attacks.ts';
import type { AttackResults, AttackRun, Counts, LatencySummary, NeighbourWindow } from './types.ts';

const ms = (v: number | null | undefined): string =>
  v === undefined ? '–' : v === null ? '∞' : v < 10 ? v.toFixed(2) : v.toFixed(1);
const int = (n: number | undefined): string => (n === undefined ? '–' : Math.round(n).toLocaleString('en-US'));
const mib = (kb: number | undefined): string => (kb === undefined ? '–' : (kb / 1024).toFixed(0));
const bytes = (b: number | undefined): string => {
  if (b === undefined) return '–';
  if (b >= 1e9) return `${(b / 1e9).toFixed(1)} GB`;
  if (b >= 1e6) return `${(b / 1e6).toFixed(1)} MB`;
  if (b >= 1e3) return `${(b / 1e3).toFixed(0)} kB`;
  return `${b} B`;
};
const counts = (c: Counts | undefined): string => {
  const entries = Object.entries(c ?? {}).sort((a, b) => b[1] - a[1]);
  return entries.length === 0 ? '–' : entries.map(([k, v]) => `${k} × ${int(v)}`).join(', ');
};
const sum = (c: Counts | undefined): number => Object.values(c ?? {}).reduce((a, b) => a + b, 0);
const p50p99 = (l: LatencySummary | undefined): string => (l === undefined ? '–' : `${ms(l.p50)} / ${ms(l.p99)}`);

export function fileBase(r: AttackResults): string {
  return `attack-${r.date}${r.label === undefined ? '' : `-${r.label}`}`;
}

/** What went wrong for the neighbour in a window, or '–'. */
function hurt(w: NeighbourWindow | undefined): string {
  if (w === undefined) return '–';
  const parts: string[] = [];
  if (w.unacked > 0) parts.push(`${int(w.unacked)} of ${int(w.sent)} unacked`);
  if (w.skipped > 0) parts.push(`${int(w.skipped)} not sent (socket down)`);
  if (sum(w.errors) > 0) parts.push(`errors: ${counts(w.errors)}`);
  if (sum(w.disconnects) > 0) parts.push(`dropped: ${counts(w.disconnects)}`);
  return parts.length === 0 ? '–' : parts.join('; ');
}

/** One phrase: what the attacker got out of the server. */
export function achieved(run: AttackRun): string {
  const a = run.attacker;
  if (a === undefined) return '–';
  const refused = sum(a.refused);
  const refusals = refused > 0 ? `${int(refused)} refused (${counts(a.refused)})` : 'none refused';
  const closes = sum(a.closes) > 0 ? `; closed by the server: ${counts(a.closes)}` : '';
  switch (a.attack) {
    case 'big-since':
      return `held up to ${int(a.maxHeld)} never-reading sockets (${int(a.heldAtEnd)} at the end) of ${int(a.opened)} opened; ${refusals}${closes}`;
    case 'reconnect':
      return `${int(a.welcomes)} welcomes read (largest ${bytes(a.maxWelcomeBytes)}, ${bytes(a.bytesReceived)} in all); ${refusals}${closes}`;
    case 'room-flood':
      return `${int(a.welcomes)} rooms opened; ${refusals}${closes}`;
    case 'join-leave':
      return `${int(a.welcomes)} joins (and leaves) in the neighbours' room; ${refusals}${closes}`;
    case 'conn-flood':
      return `held up to ${int(a.maxHeld)} sockets; ${refusals} of ${int(a.attempts)} attempts${closes}`;
    case 'pre-welcome':
      return `${int(a.framesSent)} early 16 KiB frames on ${int(a.opened)} sockets; ${refusals}${closes}`;
    case 'invalid-frames':
      return `${int(a.framesSent)} invalid 16 KiB frames (${bytes(a.bytesSent)}), ${int(sum(a.errorFrames))} error frames back; ${refusals}${closes}`;
    case 'http':
      return `${int(a.httpStatus['200'])} answered 200 (${bytes(a.bytesReceived)}); ${refusals} of ${int(a.attempts)} requests`;
  }
}

/** Other processes loaded the machine beyond the threshold during the run's quiet or attack window. */
function noisy(run: AttackRun, threshold: number | undefined): boolean {
  return Math.max(run.otherCpuPctQuiet ?? 0, run.otherCpuPctAttack ?? 0) > (threshold ?? 50);
}

function goalCell(run: AttackRun, factor: number): string {
  if (run.error !== undefined && run.underAttack === undefined) return '**error**';
  if (run.server?.survived === false) return '**missed** (server down)';
  if (run.p99Ratio === null) return '**missed** (unacked messages)';
  return run.goalMet ? 'met' : `**missed** (> ${factor}×)`;
}

function summaryTable(r: AttackResults): string[] {
  const before = r.before;
  const lines = [
    `| attack | system | quiet p50 / p99 | under attack p50 / p99 | p99 ÷ quiet | goal (≤ ${r.settings.goalFactor}×) | after p99 |${before ? ' before: under attack p99 (÷ quiet) |' : ''} neighbour hurt | what the attacker achieved | server RSS before → peak (MiB) | server CPU quiet → attack |`,
    `|---|---|--:|--:|--:|---|--:|${before ? '--:|' : ''}---|---|--:|--:|`,
  ];
  for (const run of r.runs) {
    const prior = before?.runs.find((b) => b.system === run.system && b.attack === run.attack);
    const priorCell =
      prior === undefined
        ? '–'
        : `${ms(prior.underAttack?.ack.p99)} (${prior.p99Ratio === null ? '∞' : `${prior.p99Ratio}×`})`;
    const sv = run.server;
    lines.push(
      `| ${run.attack}${noisy(run, r.settings.noisyOtherPct) ? ' ‡' : ''} | ${run.system} | ${p50p99(run.quiet?.ack)} | ${p50p99(run.underAttack?.ack)} | ${run.p99Ratio === null ? '–' : `${run.p99Ratio}×`} | ${goalCell(run, r.settings.goalFactor)} | ${ms(run.after?.ack.p99)} |` +
        `${before ? ` ${priorCell} |` : ''} ${hurt(run.underAttack)} | ${achieved(run)} | ${sv ? `${mib(sv.rssBeforeKb)} → ${mib(sv.rssPeakKb)}` : '–'} | ${sv ? `${sv.cpuPctQuiet} → ${sv.cpuPctAttack} %` : '–'} |`,
    );
  }
  return lines;
}

/** The attacker's own failures, and a loop cap that ended it early. */
function attackerSide(a: AttackRun['attacker']): string {
  if (a === undefined) return '–';
  const parts = Object.keys(a.attackerErrors).length > 0 ? [counts(a.attackerErrors)] : [];
  if (a.capped !== undefined)
    parts.push(`stopped early: capped at ${a.capped} (after ${(a.elapsedMs / 1000).toFixed(1)} s)`);
  return parts.length === 0 ? '–' : parts.join('; ');
}

function detailTable(r: AttackResults): string[] {
  const lines = [
    '| attack | system | attempts | opened | refused | Retry-After | max held / at end | closed by server | frames sent | error frames back | welcomes (largest) | bytes received | HTTP answers | attacker-side errors | server log during attack | server after | Redis RSS before → peak (MiB) | other CPU quiet / attack |',
    '|---|---|--:|--:|---|---|--:|---|--:|---|--:|--:|---|---|--:|---|--:|--:|',
  ];
  for (const run of r.runs) {
    const a = run.attacker;
    const sv = run.server;
    const after =
      sv === undefined
        ? '–'
        : sv.survived
          ? `up; RSS ${mib(sv.rssAfterKb)} MiB${sv.metricsAfter?.parley_rooms === undefined ? '' : `, ${int(sv.metricsAfter.parley_rooms)} rooms`}`
          : `**down**`;
    lines.push(
      `| ${run.attack} | ${run.system} | ${int(a?.attempts)} | ${int(a?.opened)} | ${counts(a?.refused)} | ${a?.retryAfter ?? '–'} | ${a ? `${int(a.maxHeld)} / ${int(a.heldAtEnd)}` : '–'} | ${counts(a?.closes)} | ${int(a?.framesSent)} | ${counts(a?.errorFrames)} | ` +
        `${a ? `${int(a.welcomes)} (${bytes(a.maxWelcomeBytes)})` : '–'} | ${bytes(a?.bytesReceived)} | ${counts(a?.httpStatus)} | ${attackerSide(a)} | ${bytes(sv?.logBytesAttack)} | ${after} | ${sv?.redisRssBeforeKb === undefined ? '–' : `${mib(sv.redisRssBeforeKb)} → ${mib(sv.redisRssPeakKb)}`} | ${run.otherCpuPctQuiet ?? '–'} / ${run.otherCpuPctAttack ?? '–'} % |`,
    );
  }
  return lines;
}

function neighbourTable(r: AttackResults): string[] {
  const lines = [
    '| attack | system | window | sent | acked | ack p50 / p90 / p99 / max | delivery p50 / p99 | neighbour client loop delay p99 |',
    '|---|---|---|--:|--:|--:|--:|--:|',
  ];
  for (const run of r.runs) {
    for (const w of [run.quiet, run.underAttack, run.after]) {
      if (w === undefined) continue;
      lines.push(
        `| ${run.attack} | ${run.system} | ${w.phase} | ${int(w.sent)} | ${int(w.acked)} | ${ms(w.ack.p50)} / ${ms(w.ack.p90)} / ${ms(w.ack.p99)} / ${ms(w.ack.max)} | ${ms(w.delivery.p50)} / ${ms(w.delivery.p99)} | ${ms(w.clientLoopDelayP99Ms)} |`,
      );
    }
  }
  return lines;
}

export function renderMarkdown(r: AttackResults): string {
  const s = r.settings;
  const met = r.runs.filter((x) => x.goalMet).length;
  const m = r.machine;
  const seeded = r.runs.find((x) => x.seed !== undefined)?.seed;
  const out: string[] = [
    `# Parley under attack: ${r.date}${r.label === undefined ? '' : ` (${r.label})`}`,
    '',
    `**Goal: p99 during any one attack from one address within ${s.goalFactor}× of the quiet p99**: the neighbour's send → ack latency, on another address, while one address attacks. ` +
      `Met in **${met} of ${r.runs.length}** runs.`,
    '',
    `Server: ${s.server}, every limit at its default (no limit variable set), LOG_LEVEL=${s.logLevel}. ` +
      `Neighbour: ${s.rate} msg/s over ${s.senders} sockets plus one receiving socket, from ${'127.0.0.2'}; attacker: 127.0.0.1. ` +
      `Windows: ${s.quietMs / 1000} s quiet, ${s.attackMs / 1000} s attack, ${s.afterMs / 1000} s after (each run on a fresh server${r.runs.some((x) => x.system === 'parley-redis') ? ' and a fresh Redis' : ''}).`,
    '',
    ...summaryTable(r),
    '',
    'Latencies in ms; ∞: the percentile falls on messages never acknowledged. "neighbour hurt" lists the neighbour\'s unacknowledged messages, refusals and dropped sockets during the attack. ' +
      '‡: other processes used more than ' +
      `${r.settings.noisyOtherPct ?? 50} % of a core during the quiet or attack window (see "other CPU" below): the machine, not only the attack, moved that row. ` +
      'RSS peak: the highest VmRSS of the server process sampled every 100 ms from the start of the attack to the end of the "after" window. CPU: % of the server\'s one core.',
  ];
  if (r.before !== undefined)
    out.push('', `"before": the same attack on ${r.before.server} (${r.before.file}, ${r.before.date}).`);
  for (const run of r.runs.filter((x) => x.error !== undefined))
    out.push('', `**${run.attack} on ${run.system}**: ${run.error!.split('\n').join(' ')}`);
  out.push(
    '',
    '## What the attacker achieved',
    '',
    ...detailTable(r),
    '',
    '"closed by the server": close codes the attacker received (1008 policy, 1009 frame too big, 4008 slow consumer), `drop` for connections ended without a close frame. ' +
      '"server log during attack": bytes the server wrote to its log in the attack window. "other CPU": what processes outside this benchmark used meanwhile (% of a core): high values mean a noisy run.',
    '',
    '## The neighbour, window by window',
    '',
    ...neighbourTable(r),
    '',
    '## The attacks',
    '',
    ...Object.entries(ATTACK_TITLES).map(([id, title]) => `- **${id}**: ${title}.`),
    '',
    seeded === undefined
      ? ''
      : `The seeded room (\`big-since\`, \`reconnect\`, \`http\`): ${int(seeded.stored)} messages of ${int(seeded.textBytes)} bytes, sent from 127.0.0.3–12 before the quiet window; ` +
          `a \`since=0-0\` welcome of it was ${bytes(seeded.welcomeBytes)} (${int(seeded.welcomeMessages)} messages${seeded.welcomeHasNewer === undefined ? '' : `, hasNewer ${seeded.welcomeHasNewer}`}).`,
    '',
    '## Method',
    '',
    ...r.notes.map((n) => `- ${n}`),
    '',
    '## Machine',
    '',
    `${m.nproc} CPUs (${m.cpuModel}), ${m.memTotalGiB} GiB, ${m.os}, Linux ${m.kernel}, Node ${m.node}, redis-server ${m.redis}; ws ${m.packages.ws ?? '?'}; git ${m.git}. Pinning: ${m.pinning}.`,
    '',
    '## Commands',
    '',
    '```sh',
    ...r.commands,
    '```',
    '',
    `Started ${r.startedAt}, took ${Math.round(r.durationS / 60)} min.`,
    '',
  );
  return out.join('\n');
}

/** Writes the JSON and the Markdown; returns their paths. */
export function writeAttackReport(r: AttackResults, outDir: string): string[] {
  const base = join(outDir, fileBase(r));
  writeFileSync(`${base}.json`, JSON.stringify(r, null, 1) + '\n');
  writeFileSync(`${base}.md`, renderMarkdown(r));
  return [`${base}.md`, `${base}.json`];
}

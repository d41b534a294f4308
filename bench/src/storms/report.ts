// The Markdown of workloads e, f and g: a table per workload, systems side by side, and for f
// the growth exponents over the sizes.
import type { Results } from '../types.ts';
import { logLogSlope } from './probes.ts';
import type { BigRoomResult, DeployStormResult, JoinPhase, JoinStormResult } from './types.ts';

const f = (n: number | null | undefined, digits = 1): string =>
  n === null || n === undefined || !Number.isFinite(n) ? '–' : n.toFixed(digits);
const int = (n: number | null | undefined): string =>
  n === null || n === undefined || !Number.isFinite(n) ? '–' : Math.round(n).toLocaleString('en-US');
const kib = (bytes: number | null | undefined): string =>
  bytes === null || bytes === undefined ? '–' : f(bytes / 1024, 1);

/** Bytes per join on the wire: everything the clients received while the room filled, over the joins. */
export function bytesPerJoin(j: JoinPhase): number {
  return j.connected > 0 ? j.totalBytes / j.connected : NaN;
}

/** A join within this many bytes on the wire, all frames included, meets f's goal. */
export const JOIN_BYTES_GOAL = 10 * 1024;
/** f's growth counts as linear up to this exponent (three noisy sizes). */
export const LINEAR_EXPONENT_MAX = 1.15;

function order(r: Results, system: string): number {
  const i = r.systems.findIndex((s) => s.id === system);
  return i < 0 ? 99 : i;
}

function rowNote(x: { error?: string; skipped?: string }, j: JoinPhase | null): string {
  if (x.skipped !== undefined) return `skipped: ${x.skipped}`;
  if (x.error !== undefined) return `error: ${x.error.split('\n')[0]}`;
  return j?.firstError ?? '';
}

function bigRoomSection(r: Results, rows: BigRoomResult[]): string[] {
  const st = r.settings.storms;
  const L: string[] = [];
  L.push('## Workload e: one big room', '');
  L.push(
    `One room of N members (${(st?.bigRoomSizes ?? [...new Set(rows.map((x) => x.members))]).map(int).join(', ')}), filled ${int(st?.joinConcurrency)} connections at a time (25 for Django); then ${int(st?.bigRoomSenders)} senders post one message a second each ` +
      `(${f((st?.bigRoomWarmupMs ?? NaN) / 1000, 0)} s warm-up, ${f((st?.bigRoomDurationMs ?? NaN) / 1000, 0)} s measured, up to 5 s drain): every message goes to all N members, the sender included. ` +
      'A fresh server (and Redis) for every size and system, pinned like the other workloads. **Bytes per join** are counted by the generator for every system alike: ' +
      'what the server wrote to a joining client until it was in the room (the 101 response and every frame up to and including the welcome for Parley, the namespace connect for Socket.IO, the open for raw ws and Django, with their WebSocket headers); ' +
      '"all bytes per join" is everything every client received while the room filled (join and presence frames to the others included), over the joins. ' +
      'A system that could not hold a size (not everyone connected, or under 99 % delivered) is not tried at the larger ones.',
    '',
  );
  L.push(
    '| system | members | joined in s | welcome KiB per join (mean / max) | all bytes per join KiB | server µs per join | delivered / owed | p50 ms | p99 ms | max ms | server CPU % | server µs per delivery | Redis CPU % | generator CPU % | other CPU % | note |',
    '|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|---|',
  );
  const sorted = [...rows].sort((a, b) => a.members - b.members || order(r, a.system) - order(r, b.system));
  for (const x of sorted) {
    const j = x.join;
    const s = x.step;
    const note = [rowNote(x, j), s && s.duplicates > 0 ? `${s.duplicates} duplicates` : '', s?.firstError ?? '']
      .filter(Boolean)
      .join('; ');
    L.push(
      `| ${x.system} | ${int(x.members)} | ${j ? f(j.elapsedMs / 1000, 2) : '–'} | ${j?.joins ? `${kib(j.joins.readyBytes.mean)} / ${kib(j.joins.readyBytes.max)}` : '–'} | ${j ? kib(bytesPerJoin(j)) : '–'} | ${j && j.connected > 0 ? int((1000 * j.serverCpuMs) / j.connected) : '–'} | ${s ? `${int(s.delivered)} / ${int(s.expected)}${s.ratio < 1 ? ` (${(100 * s.ratio).toFixed(2)} %)` : ''}` : '–'} | ${f(s?.latencyMs.p50, 2)} | ${f(s?.latencyMs.p99, 2)} | ${f(s?.latencyMs.max, 1)} | ${f(s?.serverCpuPct, 0)} | ${f(s?.serverUsPerDelivery, 2)} | ${s?.redisCpuPct == null ? '–' : f(s.redisCpuPct, 0)} | ${f(s?.genCpuPct, 0)} | ${f(s?.otherCpuPct, 0)} | ${note} |`,
    );
  }
  L.push('');
  return L;
}

interface Fit {
  system: string;
  sizes: number[];
  bytes: number | null;
  cpu: number | null;
  time: number | null;
  worstKibPerJoin: number;
}

export function joinStormFits(rows: JoinStormResult[]): Fit[] {
  const systems = [...new Set(rows.map((x) => x.system))];
  return systems.map((system) => {
    const ok = rows.filter((x) => x.system === system && x.join !== null && x.join.connected === x.members);
    return {
      system,
      sizes: ok.map((x) => x.members),
      bytes: logLogSlope(ok.map((x) => ({ x: x.members, y: x.join!.totalBytes }))),
      cpu: logLogSlope(ok.map((x) => ({ x: x.members, y: x.join!.serverCpuMs }))),
      time: logLogSlope(ok.map((x) => ({ x: x.members, y: x.join!.elapsedMs }))),
      worstKibPerJoin: Math.max(...ok.map((x) => bytesPerJoin(x.join!) / 1024)),
    };
  });
}

function joinStormSection(r: Results, rows: JoinStormResult[]): string[] {
  const st = r.settings.storms;
  const L: string[] = [];
  L.push('## Workload f: the join storm', '');
  L.push(
    `N clients join one empty room as fast as they can: ${int(st?.stormConcurrency)} connection attempts in flight at once, each opening the next as soon as it is in. ` +
      '"all in" is the time from the first attempt until every client had its welcome (Parley) or its first joined state (the Socket.IO namespace connect, the WebSocket open for raw ws and Django). ' +
      'Server CPU and bytes run from the first attempt until the server was quiet again (at least 1.5 s after the last join, so that trailing presence counts, sent at most once a second, are in). ' +
      "Bytes are what the clients received, counted by the generator for every system alike (the 101 responses, every frame with its WebSocket header); Parley's own counter `parley_bytes_out_total` " +
      '(payloads only, no headers, no handshake) over the same span is beside it.',
    '',
  );
  L.push(
    '| system | clients | all in, s | in after p50 / p99 ms | welcome KiB per join (mean / max) | all bytes MiB | KiB per join | Parley counter KiB per join | server CPU ms | server µs per join | generator CPU ms | other CPU ms | note |',
    '|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|---|',
  );
  const sorted = [...rows].sort((a, b) => order(r, a.system) - order(r, b.system) || a.members - b.members);
  for (const x of sorted) {
    const j = x.join;
    L.push(
      `| ${x.system} | ${int(x.members)}${j && j.connected < j.requested ? ` (${int(j.connected)} in)` : ''} | ${j ? f(j.elapsedMs / 1000, 2) : '–'} | ${j?.joins ? `${int(j.joins.readyAtMs.p50)} / ${int(j.joins.readyAtMs.p99)}` : '–'} | ${j?.joins ? `${kib(j.joins.readyBytes.mean)} / ${kib(j.joins.readyBytes.max)}` : '–'} | ${j ? f(j.totalBytes / 1024 / 1024, 2) : '–'} | ${j ? kib(bytesPerJoin(j)) : '–'} | ${j?.parleyPayloadBytes === undefined ? '–' : kib(j.parleyPayloadBytes / Math.max(1, j.connected))} | ${j ? int(j.serverCpuMs) : '–'} | ${j && j.connected > 0 ? int((1000 * j.serverCpuMs) / j.connected) : '–'} | ${j ? int(j.genCpuMs) : '–'} | ${j ? int(j.otherCpuMs) : '–'} | ${rowNote(x, j)} |`,
    );
  }
  L.push('');
  const fits = joinStormFits(rows).filter((x) => x.sizes.length >= 2);
  if (fits.length > 0) {
    L.push(
      '**Growth with N**: the least-squares slope of log(value) against log(N) over the sizes every client got in (1 = linear, 2 = quadratic). ' +
        `Goal (Parley): linear (an exponent of at most ${LINEAR_EXPONENT_MAX}: three sizes on a shared machine are noisy) and under ${JOIN_BYTES_GOAL / 1024} KiB per join on the wire, all frames to everyone included, at every size.`,
      '',
      '| system | sizes | bytes exponent | server CPU exponent | time-to-all-in exponent | most KiB per join | goal |',
      '|---|---|--:|--:|--:|--:|---|',
    );
    for (const x of fits) {
      const parley = rows.find((y) => y.system === x.system)?.protocol === 'v1';
      const met =
        x.bytes !== null &&
        x.cpu !== null &&
        x.bytes <= LINEAR_EXPONENT_MAX &&
        x.cpu <= LINEAR_EXPONENT_MAX &&
        x.worstKibPerJoin * 1024 < JOIN_BYTES_GOAL;
      L.push(
        `| ${x.system} | ${x.sizes.map(int).join(', ')} | ${f(x.bytes, 2)} | ${f(x.cpu, 2)} | ${f(x.time, 2)} | ${f(x.worstKibPerJoin, 1)} | ${parley ? (met ? 'met' : '**missed**') : '(reference)'} |`,
      );
    }
    L.push('');
    const largest = Math.max(...rows.map((x) => x.members));
    const at = (system: string) => rows.find((x) => x.system === system && x.members === largest)?.join;
    const sio = at('socketio');
    const lines = ['parley-memory', 'parley-redis']
      .map((id) => ({ id, j: at(id) }))
      .filter((x) => x.j != null && sio != null && sio.connected > 0 && x.j.connected > 0)
      .map(
        ({ id, j }) =>
          `${id} ${kib(bytesPerJoin(j!))} KiB and ${int((1000 * j!.serverCpuMs) / j!.connected)} µs of server CPU per join, all in after ${f(j!.elapsedMs / 1000, 2)} s`,
      );
    if (lines.length > 0 && sio)
      L.push(
        `Against Socket.IO's join of the same room at ${int(largest)}: ${lines.join('; ')}; Socket.IO ${kib(bytesPerJoin(sio))} KiB and ${int((1000 * sio.serverCpuMs) / sio.connected)} µs, all in after ${f(sio.elapsedMs / 1000, 2)} s ` +
          "(Socket.IO tells nobody who joined and sends no member list: its join is a handshake and a namespace connect; Parley's welcome carries the room's state: up to 50 members (WELCOME_MEMBERS_MAX), the member count, history, the identity token).",
        '',
      );
  }
  return L;
}

function deployStormSection(r: Results, rows: DeployStormResult[]): string[] {
  const st = r.settings.storms;
  const L: string[] = [];
  L.push('## Workload g: the deploy storm', '');
  L.push(
    'Two instances of the system on one Redis, both on the server core; every client starts on instance 1, one sender per room posting (open loop, evenly spread). ' +
      'After a baseline window instance 1 gets SIGTERM, as a deploy stops it (Parley closes its sockets with 1012 in jittered batches over `DRAIN_MS`, acking what is in flight first; Socket.IO closes them at once). ' +
      `Each client then reconnects to instance 2 the way the web client does: after the web client's full-jitter backoff (${int(st?.deployBackoff.minMs)} ms, then a random point below a window doubling per failed attempt up to ${int(st?.deployBackoff.maxMs)} ms: ` +
      'the first retry lands in [500, 1000) ms), with its identity token and `since` = the newest log id it holds (Parley), fetching `after` pages when the welcome says `hasNewer`; each sender resends what was not acked with the same clientMsgId, and sends what it made meanwhile once welcomed. ' +
      '"Recovered" is a welcome with `recovered: true` after the drop (Socket.IO has no recovery: back in the room). ' +
      'At the end every client\'s messages are compared with what was acked to the senders of its room ("missed", goal 0; Socket.IO has no acks: a message written to an open socket counts). ' +
      'Redis commands per recovering client: `INFO commandstats` over the window from the SIGTERM until every client recovered and instance 1 exited, less the commands the flow of messages itself issued at its rate before the SIGTERM, over the clients that recovered. ' +
      'Redis counts the commands a Lua script runs as well as the EVALSHA that ran it.',
    '',
  );
  L.push(
    '| system | clients / rooms | msg/s | DRAIN_MS | all recovered in, s | last drop, s | outage per client p50 / p99 ms | recovered: false | attempts (failed) | hasNewer (pages) | sent / acked / unacked | missed (clients) | duplicates | Redis commands per recovering client | most (per client) | CPU ms: old / new instance / Redis | note |',
    '|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|---|--:|---|',
  );
  for (const x of rows) {
    const rec = x.recovery;
    const o = x.outcome;
    const note = [
      x.skipped !== undefined ? `skipped: ${x.skipped}` : '',
      x.error !== undefined ? `error: ${x.error.split('\n')[0]}` : '',
      o?.firstError ?? '',
      x.oldInstanceExit
        ? `instance 1 exited (${x.oldInstanceExit.code}) after ${f(x.oldInstanceExit.afterMs / 1000, 1)} s`
        : '',
    ]
      .filter(Boolean)
      .join('; ');
    const recoveredIn = rec
      ? rec.allRecovered
        ? f(rec.lastRecoveredMs / 1000, 2)
        : `**not all**: ${int(rec.recoveredClients)} of ${int(rec.clients)}`
      : '–';
    L.push(
      `| ${x.system} | ${int(x.clients)} / ${int(x.rooms)} | ${int(x.rate)} | ${x.protocol === 'v1' ? int(x.drainMs) : '–'} | ${recoveredIn} | ${rec ? f(rec.lastDroppedMs / 1000, 2) : '–'} | ${rec ? `${int(rec.outageMs.p50)} / ${int(rec.outageMs.p99)}` : '–'} | ${x.protocol === 'v1' ? int(rec?.recoveredFalse) : 'n/a'} | ${rec ? `${int(rec.attempts)} (${int(rec.failedAttempts)})` : '–'} | ${rec ? `${int(rec.hasNewer)} (${int(rec.pages)})` : '–'} | ${o ? `${int(o.sent)} / ${int(o.acked)} / ${int(o.unacked)}` : '–'} | ${o ? `${o.missed > 0 ? '**' : ''}${int(o.missed)}${o.missed > 0 ? '**' : ''} (${int(o.clientsMissing)})` : '–'} | ${o ? int(o.duplicates) : '–'} | ${x.redis ? f(x.redis.perClient, 1) : '–'} | ${x.redis && x.redis.top.length > 0 ? x.redis.top.map((t) => `${t.command} ${f(t.perClient, 1)}`).join(', ') : '–'} | ${x.cpu ? `${int(x.cpu.oldInstanceMs)} / ${int(x.cpu.newInstanceMs)} / ${int(x.cpu.redisMs)}` : '–'} | ${note} |`,
    );
  }
  L.push('');
  return L;
}

/** The most CPU (% of a core) processes outside the benchmark used during a window of e, f or g. */
export function stormNoisePct(r: Results): number {
  const pct = (ms: number, wall: number) => (wall > 0 ? (100 * ms) / wall : 0);
  const join = (j: JoinPhase | null) => (j === null ? 0 : pct(j.otherCpuMs, j.elapsedMs + j.settleMs));
  return Math.max(
    0,
    ...(r.bigRoom ?? []).map((x) => Math.max(join(x.join), x.step?.otherCpuPct ?? 0)),
    ...(r.joinStorm ?? []).map((x) => join(x.join)),
    ...(r.deployStorm ?? []).map((x) => (x.cpu ? pct(x.cpu.otherMs, x.cpu.windowMs) : 0)),
  );
}

/** One line of the settings of the storm workloads this file holds. */
export function stormSettingsLine(r: Results): string | undefined {
  const st = r.settings.storms;
  if (st === undefined) return undefined;
  const parts: string[] = [];
  if ((r.bigRoom?.length ?? 0) > 0)
    parts.push(
      `e: rooms of ${st.bigRoomSizes.map(int).join(', ')} members, ${st.bigRoomSenders} senders at one message a second, ${int(st.bigRoomDurationMs)} ms measured`,
    );
  if ((r.joinStorm?.length ?? 0) > 0)
    parts.push(
      `f: ${st.bigRoomSizes.map(int).join(', ')} clients, ${int(st.stormConcurrency)} connection attempts at once`,
    );
  if ((r.deployStorm?.length ?? 0) > 0)
    parts.push(
      `g: ${int(st.deployClients)} clients in ${int(st.deployRooms)} rooms at ${int(st.deployRate)} msg/s, DRAIN_MS ${int(st.deployDrainMs)}`,
    );
  return parts.length === 0 ? undefined : `Big rooms and storms: ${parts.join('; ')}.`;
}

/** The sections of workloads e, f and g that this results file holds. */
export function stormSections(r: Results): string[] {
  const L: string[] = [];
  if (r.bigRoom !== undefined && r.bigRoom.length > 0) L.push(...bigRoomSection(r, r.bigRoom));
  if (r.joinStorm !== undefined && r.joinStorm.length > 0) L.push(...joinStormSection(r, r.joinStorm));
  if (r.deployStorm !== undefined && r.deployStorm.length > 0) L.push(...deployStormSection(r, r.deployStorm));
  return L;
}

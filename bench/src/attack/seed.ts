// Seeding the big room before the `since` attacks: N messages of 4 KiB, sent by ordinary
// clients from ten addresses of their own (127.0.0.3 …), each well within the message limits,
// so seeding takes seconds and spends nobody else's budget. Then a probe reads the room's
// `since=0-0` welcome once, to show what each attacking socket asks the server for.
import { performance } from 'node:perf_hooks';
import WebSocket from 'ws';
import { RawWs, frameType } from './rawws.ts';
import { ADDRESSES, type SeedFigures } from './types.ts';

/** Sockets per seeding address, and the least time between two sends on one socket. */
const SOCKETS_PER_ADDRESS = 3;
const SEND_INTERVAL_MS = 200;

/** A text of exactly `bytes` ASCII bytes, starting with its number. */
function seedText(i: number, bytes: number): string {
  const head = `seed message ${i} `;
  return head + 'abcdefghij'.repeat(Math.ceil(bytes / 10)).slice(0, bytes - head.length);
}

export async function seedRoom(
  port: number,
  room: string,
  count: number,
  textBytes: number,
  timeoutMs = 60_000,
): Promise<SeedFigures> {
  const started = performance.now();
  const deadline = started + timeoutMs;
  const queue = Array.from({ length: count }, (_, i) => i);
  const figures: SeedFigures = {
    room,
    requested: count,
    stored: 0,
    textBytes,
    elapsedMs: 0,
    rateLimited: 0,
    welcomeBytes: 0,
    welcomeMessages: 0,
  };
  const seeders: Array<Promise<void>> = [];
  for (let a = 0; a < ADDRESSES.seedCount; a++) {
    const address = `127.0.0.${ADDRESSES.seedFirst + a}`;
    for (let s = 0; s < SOCKETS_PER_ADDRESS; s++)
      seeders.push(seeder(port, room, address, `Seeder ${a}-${s}`, queue, figures, deadline));
  }
  const outcomes = await Promise.allSettled(seeders);
  figures.elapsedMs = Math.round(performance.now() - started);
  if (figures.stored < count) {
    const reason = outcomes.find((o) => o.status === 'rejected')?.reason as Error | undefined;
    figures.error = `stored ${figures.stored} of ${count}${reason ? `: ${reason.message}` : ''}`;
  }
  Object.assign(figures, await probeWelcome(port, room));
  return figures;
}

/** One seeding socket: takes the next message off the shared queue, sends it, waits for its ack. */
async function seeder(
  port: number,
  room: string,
  address: string,
  name: string,
  queue: number[],
  figures: SeedFigures,
  deadline: number,
): Promise<void> {
  const ws = new WebSocket(
    `ws://127.0.0.1:${port}/ws/chat/${encodeURIComponent(room)}/?name=${encodeURIComponent(name)}`,
    ['parley.v1'],
    {
      localAddress: address,
      perMessageDeflate: false,
    },
  );
  const waiting = new Map<string, (code: string | undefined) => void>();
  let welcomed!: () => void;
  const welcome = new Promise<void>((resolve) => (welcomed = resolve));
  ws.on('message', (data) => {
    const frame = JSON.parse(data.toString()) as { type: string; clientMsgId?: string; code?: string };
    if (frame.type === 'welcome') welcomed();
    else if ((frame.type === 'ack' || frame.type === 'error') && frame.clientMsgId !== undefined)
      waiting.get(frame.clientMsgId)?.(frame.type === 'ack' ? undefined : frame.code);
  });
  const closed = new Promise<never>((_, reject) =>
    ws.on('close', (code) => reject(new Error(`seeding socket closed (${code})`))),
  );
  closed.catch(() => {});
  ws.on('error', () => {});
  try {
    await Promise.race([welcome, closed]);
    while (queue.length > 0 && performance.now() < deadline) {
      const i = queue.shift()!;
      const sentAt = performance.now();
      const answer = new Promise<string | undefined>((resolve) => {
        waiting.set(`s${i}`, resolve);
        setTimeout(() => resolve('timeout'), 5000);
      });
      ws.send(JSON.stringify({ type: 'message', text: seedText(i, figures.textBytes), clientMsgId: `s${i}` }));
      const code = await Promise.race([answer, closed]);
      waiting.delete(`s${i}`);
      if (code === undefined) figures.stored += 1;
      else {
        // Refused (rate limit, quota) or unanswered: someone sends it again later.
        queue.push(i);
        if (code === 'rate_limited') figures.rateLimited += 1;
        if (code === 'quota_exceeded') return;
        await sleep(1000);
      }
      await sleep(SEND_INTERVAL_MS - (performance.now() - sentAt));
    }
  } finally {
    ws.close(1000);
  }
}

/** Reads the seeded room's `since=0-0` welcome once, whole. */
async function probeWelcome(port: number, room: string): Promise<Partial<SeedFigures>> {
  return new Promise((resolve) => {
    let done = false;
    const finish = (figures: Partial<SeedFigures>) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      ws.close(1000, 100);
      resolve(figures);
    };
    const ws = new RawWs(
      {
        host: '127.0.0.1',
        port,
        localAddress: ADDRESSES.probe,
        path: `/ws/chat/${encodeURIComponent(room)}/?name=Probe&since=0-0`,
        protocols: ['parley.v1'],
        keep: 64 << 20,
      },
      {
        frame: (_opcode, length, head) => {
          if (frameType(head) !== 'welcome') return;
          const welcome = JSON.parse(head.toString()) as { history: unknown[]; hasNewer?: boolean };
          finish({
            welcomeBytes: length,
            welcomeMessages: welcome.history.length,
            ...(welcome.hasNewer === undefined ? {} : { welcomeHasNewer: welcome.hasNewer }),
          });
        },
        closed: () => finish({}),
      },
    );
    const timer = setTimeout(() => finish({}), 10_000);
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));
}

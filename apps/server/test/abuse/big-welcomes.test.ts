// Attacks on recovery: `since=0-0` asks for a room's whole history. Each attack runs against a
// server with its default limits, from one address (127.0.0.1), while neighbours (127.0.0.2)
// chat in another room; each is bounded in count and time.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Neighbour, waitUntil } from '../helpers/neighbour.ts';
import { clientFrame, closedBy, rawUpgrade } from '../helpers/raw-socket.ts';
import { seedRoom } from '../helpers/seed.ts';
import { ServerProcess } from '../helpers/server-process.ts';
import { connectV1, json } from '../helpers/ws-client.ts';

const ROOM = 'big';
const MESSAGES = 1000;
const TEXT = (i: number) => `${String(i).padStart(4, '0')} ${'x'.repeat(3995)}`; // 4,000 bytes
/** Stated bound: what 100 non-reading sockets with full-size welcomes may add to the server's RSS. */
const RSS_GROWTH_LIMIT = 48 * 1024 * 1024;

test('non-reading sockets with big since welcomes: bounded welcomes, bounded memory, cut off however many pongs they send', async (t) => {
  const server = await ServerProcess.start({ PING_INTERVAL_MS: '2000', LOG_LEVEL: 'error' });
  t.after(() => server.stop());
  const acked = await seedRoom(server.wsUrl, ROOM, MESSAGES, TEXT);
  assert.equal(acked.length, MESSAGES);

  // A client that reads gets a bounded welcome, and all the rest in bounded pages, in order.
  const reader = await connectV1(server.wsUrl, ROOM, { since: '0-0', localAddress: '127.0.0.3' });
  const welcomeBytes = Buffer.byteLength(JSON.stringify(reader.welcome));
  assert.equal(reader.welcome.recovered, true);
  assert.equal(reader.welcome.hasNewer, true, 'the welcome says more follows');
  assert.ok(reader.welcome.history.length <= 200, `${reader.welcome.history.length} messages in the welcome`);
  assert.ok(welcomeBytes <= 300 * 1024, `the welcome is ${welcomeBytes} bytes`);
  const recovered = reader.welcome.history.map((m: any) => m.id);
  // As the web app does: a page refused because the address was sent too much history lately
  // is asked again after its Retry-After.
  for (let page = 0, more = true; more && page < 80; page++) {
    const res = await fetch(`${server.httpUrl}/api/rooms/${ROOM}/messages?after=${recovered.at(-1)}&limit=200`);
    if (res.status === 429) {
      await res.arrayBuffer();
      await new Promise((r) => setTimeout(r, Number(res.headers.get('retry-after')) * 1000));
      continue;
    }
    assert.equal(res.status, 200);
    const body = Buffer.from(await res.arrayBuffer());
    assert.ok(body.length <= 300 * 1024, `a page is ${body.length} bytes`);
    const parsed = JSON.parse(body.toString());
    recovered.push(...parsed.messages.map((m: any) => m.id));
    more = parsed.hasNewer;
  }
  assert.deepEqual(recovered, [...acked].sort(compareIds), 'every message once, in order');
  reader.client.close();

  const neighbour = await Neighbour.join(server.wsUrl);
  neighbour.start();
  const rssBefore = server.rssBytes();
  let rssPeak = rssBefore;
  const sampler = setInterval(() => (rssPeak = Math.max(rssPeak, server.rssBytes())), 100);
  t.after(() => clearInterval(sampler)); // also when an assertion below fails

  // The attack: as many upgrades as the address may open, each asking for everything, none of
  // them ever reading, all of them sending pongs nobody asked for, to look alive.
  const held: Array<Awaited<ReturnType<typeof rawUpgrade>>> = [];
  let refused = 0;
  const deadline = Date.now() + 12_000;
  while (held.length < 100 && Date.now() < deadline) {
    const attempt = await rawUpgrade(server.port, `/ws/chat/${ROOM}/?name=Slow&since=0-0`, {
      protocols: ['parley.v1'],
    });
    if (attempt.status === 101) {
      attempt.socket.pause(); // never read again
      held.push(attempt);
    } else {
      refused += 1;
      attempt.socket.destroy();
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  const pongs = setInterval(() => {
    for (const { socket } of held) if (!socket.destroyed) socket.write(clientFrame(0xa, Buffer.from('alive')));
  }, 300);
  t.after(() => clearInterval(pongs));
  console.log(`  attacker: ${held.length} sockets upgraded, ${refused} refused (429)`);
  assert.ok(held.length >= 40, 'the attack really held many sockets');
  assert.ok(refused > 0, 'the connection rate limit answered with 429s');

  // Two ping rounds later, every one of them is gone: unsolicited pongs do not count.
  await Promise.race([
    Promise.all(held.map(({ socket }) => closedBy(socket))),
    new Promise((_, reject) =>
      setTimeout(() => reject(new Error('non-reading sockets still open after 15 s')), 15_000),
    ),
  ]);
  clearInterval(pongs);
  clearInterval(sampler);
  await neighbour.stop();
  const growth = rssPeak - rssBefore;
  console.log(
    `  server RSS ${mib(rssBefore)} MiB before, peak ${mib(rssPeak)} MiB (+${mib(growth)} MiB; limit +${mib(RSS_GROWTH_LIMIT)})`,
  );
  assert.ok(growth < RSS_GROWTH_LIMIT, `RSS grew by ${mib(growth)} MiB`);
});

test('reconnect amplification: connect with since=0-0, read the welcome, drop, in a loop: bounded by the connection rate', async (t) => {
  const server = await ServerProcess.start({ LOG_LEVEL: 'error' });
  t.after(() => server.stop());
  await seedRoom(server.wsUrl, ROOM, 300, TEXT);
  const neighbour = await Neighbour.join(server.wsUrl);
  neighbour.start();

  const seconds = 5;
  let welcomes = 0;
  let refused = 0;
  const until = Date.now() + seconds * 1000;
  await Promise.all(
    Array.from({ length: 4 }, async () => {
      while (Date.now() < until) {
        try {
          const { client } = await connectV1(server.wsUrl, ROOM, { since: '0-0' });
          welcomes += 1;
          client.socket.terminate();
        } catch {
          refused += 1;
          await new Promise((r) => setTimeout(r, 50));
        }
      }
    }),
  );
  await neighbour.stop();
  console.log(`  attacker: ${welcomes} welcomes in ${seconds} s, ${refused} upgrades refused`);
  // The default allowance: a burst of 20, then 10 a second.
  assert.ok(welcomes <= 20 + 10 * (seconds + 1), `${welcomes} welcomes`);
  assert.ok(refused > 0);
  const metrics = await (await fetch(`${server.httpUrl}/metrics`)).text();
  assert.match(metrics, /parley_refused_requests_total [1-9]/);
  await waitUntil(async () => (await json(await fetch(`${server.httpUrl}/healthz`))).status === 'ok', 2000, 'healthz');
});

function compareIds(a: string, b: string): number {
  const [am, as] = a.split('-').map(BigInt) as [bigint, bigint];
  const [bm, bs] = b.split('-').map(BigInt) as [bigint, bigint];
  return am === bm ? Number(as - bs) : am < bm ? -1 : 1;
}

function mib(bytes: number): string {
  return (bytes / 1024 / 1024).toFixed(1);
}

test('history sent to one address is bounded in bytes a second: welcomes shrink, pages wait (429)', async (t) => {
  const server = await ServerProcess.start({ LOG_LEVEL: 'error' });
  t.after(() => server.stop());
  await seedRoom(server.wsUrl, ROOM, 200, TEXT);

  // Reconnects asking for everything, one after the other, faster than the allowance refills.
  const sizes: number[] = [];
  for (let i = 0; i < 12; i++) {
    const { client, welcome } = await connectV1(server.wsUrl, ROOM, { since: '0-0' });
    sizes.push(Buffer.byteLength(JSON.stringify(welcome.history)));
    assert.ok(welcome.history.length >= 1, 'a welcome always holds at least one message');
    client.socket.terminate();
  }
  const total = sizes.reduce((a, b) => a + b, 0);
  console.log(
    `  12 big reconnects: welcome history of ${sizes.map((b) => Math.round(b / 1024)).join(', ')} KiB (${Math.round(total / 1024)} KiB in all)`,
  );
  // The default allowance: a burst of 1 MiB, then 1 MiB a second (plus a message per welcome).
  assert.ok(sizes[0]! > 200 * 1024, 'the first welcome is full');
  assert.ok(sizes.at(-1)! < 64 * 1024, 'the last ones are cut short');
  assert.ok(total < 3 * 1024 * 1024, `${total} bytes of history in all`);

  // HTTP pages once the allowance is spent: 429 with Retry-After, then served again.
  let refused: Response | undefined;
  for (let i = 0; i < 20 && refused === undefined; i++) {
    const res = await fetch(`${server.httpUrl}/api/rooms/${ROOM}/messages?limit=200`);
    if (res.status === 429) refused = res;
    await res.arrayBuffer();
  }
  assert.ok(refused !== undefined, 'a page is refused when the allowance is spent');
  const wait = Number(refused.headers.get('retry-after'));
  assert.ok(wait >= 1 && wait <= 2, `Retry-After: ${wait}`);
  await new Promise((r) => setTimeout(r, wait * 1000));
  assert.equal((await fetch(`${server.httpUrl}/api/rooms/${ROOM}/messages?limit=200`)).status, 200);
});

// Attacks on connections: a flood of upgrades, half-open requests that trickle their headers,
// and more TCP connections than the server takes. Default limits unless a test narrows one.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import WebSocket from 'ws';
import { DEFAULT_LIMITS, startApp } from '../helpers/app.ts';
import { Neighbour } from '../helpers/neighbour.ts';
import { startAppWithLog } from '../helpers/captured-log.ts';
import { closedBy } from '../helpers/raw-socket.ts';

test('a connection flood from one address: 429 with Retry-After past its allowance; the neighbours chat on', async (t) => {
  const { wsUrl } = await startApp(t, { ...DEFAULT_LIMITS });
  const neighbour = await Neighbour.join(wsUrl);
  neighbour.start();

  const seconds = 3;
  const open: WebSocket[] = [];
  const statuses = new Map<number, number>();
  let retryAfter: string | undefined;
  const until = Date.now() + seconds * 1000;
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      while (Date.now() < until) {
        const socket = new WebSocket(`${wsUrl}/ws/chat/flood/`);
        const status = await new Promise<number>((resolve) => {
          socket.once('open', () => resolve(101));
          socket.once('unexpected-response', (_req, res) => {
            retryAfter ??= res.headers['retry-after'];
            resolve(res.statusCode ?? 0);
            res.resume();
          });
          socket.once('error', () => resolve(0));
        });
        statuses.set(status, (statuses.get(status) ?? 0) + 1);
        if (status === 101) open.push(socket);
      }
    }),
  );
  await neighbour.stop();
  console.log(`  attacker: ${JSON.stringify(Object.fromEntries(statuses))} (status: count) in ${seconds} s`);
  // A burst of 20, then 10 a second; the total per address is capped at 100 besides.
  assert.ok(open.length <= 20 + 10 * (seconds + 1), `${open.length} sockets opened`);
  assert.ok((statuses.get(429) ?? 0) > 0, 'refusals are 429s');
  assert.ok(Number(retryAfter) >= 1, `Retry-After: ${retryAfter}`);
  for (const socket of open) socket.terminate();
});

test('half-open upgrade requests that trickle their headers are cut off after HEADERS_TIMEOUT_MS', async (t) => {
  const { app, wsUrl } = await startApp(t, { ...DEFAULT_LIMITS, HEADERS_TIMEOUT_MS: '2000' });
  const port = (app.server.address() as { port: number }).port;
  const sockets: Socket[] = [];
  for (let i = 0; i < 50; i++) {
    const socket = connect(port, '127.0.0.1');
    socket.on('error', () => {});
    socket.write(`GET /ws/chat/slow/ HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n`);
    sockets.push(socket);
  }
  // One more header line every half second: each keeps the socket busy, none completes it.
  let n = 0;
  const trickle = setInterval(() => {
    n += 1;
    for (const socket of sockets) if (!socket.destroyed) socket.write(`X-Slow-${n}: 1\r\n`);
  }, 500);
  t.after(() => clearInterval(trickle)); // also when an assertion below fails
  const neighbour = await Neighbour.join(wsUrl);
  neighbour.start();
  const started = Date.now();
  await Promise.race([
    Promise.all(sockets.map(closedBy)),
    new Promise((_, reject) => setTimeout(() => reject(new Error('half-open requests still open after 10 s')), 10_000)),
  ]);
  clearInterval(trickle);
  console.log(`  50 half-open requests closed by the server after ${Date.now() - started} ms`);
  await neighbour.stop(3);
});

test('TCP connections past MAX_TCP_CONNECTIONS are not accepted', async (t) => {
  const { app, httpUrl } = await startApp(t, { ...DEFAULT_LIMITS, MAX_CONNECTIONS: '20', MAX_TCP_CONNECTIONS: '30' });
  const port = (app.server.address() as { port: number }).port;
  const sockets = await Promise.all(
    Array.from(
      { length: 45 },
      () =>
        new Promise<Socket>((resolve) => {
          const socket = connect(port, '127.0.0.1', () => resolve(socket));
          socket.on('error', () => resolve(socket));
        }),
    ),
  );
  // Node closes the connections over the cap at once; the others stay open (idle).
  await new Promise((r) => setTimeout(r, 500));
  const alive = sockets.filter((s) => !s.destroyed && s.readyState === 'open').length;
  console.log(`  ${alive} of 45 TCP connections kept (MAX_TCP_CONNECTIONS 30)`);
  assert.ok(alive <= 30, `${alive} connections kept`);
  for (const socket of sockets) socket.destroy();
  await new Promise((r) => setTimeout(r, 200));
  assert.equal((await fetch(`${httpUrl}/healthz`)).status, 200, 'the server serves again once they are gone');
});

test('an HTTP flood: refusals cost one line a minute in the log, not one each; the keep-alive connection is closed', async (t) => {
  // Every refusal answered (none dropped at accept), so that each can be checked for its header.
  const { httpUrl, log } = await startAppWithLog(t, { ...DEFAULT_LIMITS, SHED_ANSWERS_PER_SECOND: '0' });
  const statuses = new Map<number, number>();
  let connectionClose = 0;
  for (let i = 0; i < 200; i++) {
    const res = await fetch(`${httpUrl}/api/rooms`);
    statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
    if (res.status === 429 && res.headers.get('connection') === 'close') connectionClose += 1;
    await res.arrayBuffer();
  }
  const refused = statuses.get(429) ?? 0;
  console.log(`  200 GET /api/rooms: ${JSON.stringify(Object.fromEntries(statuses))}; ${log.lines.length} log lines`);
  // The burst (60) passed, the rest were refused, and each refusal asked to close the connection.
  assert.ok(refused >= 100, `${refused} refused`);
  assert.equal(connectionClose, refused);
  // One line per answered request; none per refusal.
  const requestLines = log.records.filter((r) => r.msg === 'request');
  assert.equal(requestLines.length, 200 - refused);
  assert.ok(log.lines.length < 200 - refused + 20, `${log.lines.length} log lines`);
});

test('a flooding address is answered 429 as soon as its connections are accepted, its requests never read; other addresses are served', async (t) => {
  const { app, httpUrl, log } = await startAppWithLog(t, { ...DEFAULT_LIMITS, SHED_AFTER_REFUSALS: '10' });
  const { port } = new URL(httpUrl);
  const statuses = new Map<number, number>();
  const bodies = new Set<string>();
  let withRetryAfter = 0;
  // One GET per connection (a refusal closes it anyway), as fast as they are answered.
  for (let i = 0; i < 150; i++) {
    const res = await rawGet(Number(port), '/api/rooms');
    statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
    if (res.status === 429) {
      bodies.add(res.body);
      if (Number(res.headers['retry-after']) >= 1) withRetryAfter += 1;
    }
  }
  const shed = app.stats.shedConnections;
  console.log(`  150 GET /api/rooms: ${JSON.stringify(Object.fromEntries(statuses))}; ${shed} answered at accept`);
  // The burst (60) passed; past 10 refusals in a second, the rest were answered at accept, with
  // the same status, Retry-After and JSON error as any refusal.
  // (The allowance refills at 20 a second meanwhile: a few more may pass.)
  const served = statuses.get(200) ?? 0;
  assert.ok(served >= 60 && served <= 70, `${served} served`);
  assert.equal(statuses.get(429), 150 - served);
  assert.equal(withRetryAfter, 150 - served);
  assert.ok(shed >= 30, `${shed} answered at accept`);
  for (const body of bodies) assert.equal(JSON.parse(body).error, 'rate_limited');
  // What was shed never reached Fastify: no request line, no hook ran.
  assert.equal(log.records.filter((r) => r.msg === 'request').length, served);
  // Another address is served meanwhile.
  const other = await rawGet(Number(port), '/api/rooms', '127.0.0.2');
  assert.equal(other.status, 200);
});

test('past SHED_ANSWERS_PER_SECOND answers at accept, a flooding address’s connections are closed unanswered; other addresses are served', async (t) => {
  const { app, httpUrl } = await startApp(t, {
    ...DEFAULT_LIMITS,
    SHED_AFTER_REFUSALS: '10',
    SHED_ANSWERS_PER_SECOND: '5',
  });
  const port = Number(new URL(httpUrl).port);
  const statuses = new Map<number, number>();
  const started = Date.now();
  // 400 connections, 20 at a time: far more than 60 (burst) + 10 refusals + 5 answers a second.
  let next = 0;
  await Promise.all(
    Array.from({ length: 20 }, async () => {
      while (next < 400) {
        next += 1;
        const res = await rawGet(port, '/api/rooms');
        statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
      }
    }),
  );
  const seconds = Math.ceil((Date.now() - started) / 1000);
  const { shedConnections: answered, droppedConnections: dropped } = app.stats;
  console.log(
    `  400 GET /api/rooms in ${seconds} s: ${JSON.stringify(Object.fromEntries(statuses))} (0: closed unanswered); ${answered} answered at accept, ${dropped} dropped`,
  );
  // Dropped connections got no answer at all (status 0), and they are what the server counted.
  assert.ok(dropped > 0, 'some connections were dropped at accept');
  assert.equal(statuses.get(0) ?? 0, dropped);
  // At most 5 answers at accept in each second the flood lasted (a second may be cut in two).
  assert.ok(answered <= 5 * (seconds + 1), `${answered} answered at accept in ${seconds} s`);
  assert.equal(app.stats.refusedRequests, (statuses.get(429) ?? 0) + dropped);
  // Another address is served meanwhile, and so is the flooding one a second later.
  assert.equal((await rawGet(port, '/api/rooms', '127.0.0.2')).status, 200);
  await new Promise((resolve) => setTimeout(resolve, 1100));
  assert.notEqual((await rawGet(port, '/api/rooms')).status, 0);
});

test('an address cooling down after policy closes is answered 429 at accept, with the cool-down in Retry-After', async (t) => {
  const { app, wsUrl, httpUrl } = await startApp(t, { ...DEFAULT_LIMITS, ABUSE_CLOSES_MAX: '1' });
  // One connection closed for breaking the rules (frames before its welcome can't be told
  // apart from a valid start; junk that is not JSON, over and over, is closed with 1008).
  const socket = new WebSocket(`${wsUrl}/ws/chat/cool/?name=Junk`, ['parley.v1']);
  await new Promise((resolve) => socket.once('open', resolve));
  const closed = new Promise<number>((resolve) => socket.once('close', resolve));
  for (let i = 0; i < 40; i++) socket.send('not json');
  assert.equal(await closed, 1008);
  const before = app.stats.shedConnections;
  const res = await rawGet(Number(new URL(httpUrl).port), '/');
  assert.equal(res.status, 429);
  assert.ok(Number(res.headers['retry-after']) > 1, `Retry-After ${res.headers['retry-after']}`);
  assert.equal(app.stats.shedConnections, before + 1);
});

/** A GET over a fresh TCP connection from a given loopback address; the whole answer, parsed. */
async function rawGet(
  port: number,
  path: string,
  localAddress = '127.0.0.1',
): Promise<{ status: number; headers: Record<string, string>; body: string }> {
  const socket = connect({ port, host: '127.0.0.1', localAddress });
  socket.on('error', () => {});
  socket.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nConnection: close\r\n\r\n`);
  const chunks: Buffer[] = [];
  socket.on('data', (chunk: Buffer) => chunks.push(chunk));
  await closedBy(socket);
  const text = Buffer.concat(chunks).toString();
  const [head = '', body = ''] = text.split('\r\n\r\n', 2);
  const [statusLine = '', ...lines] = head.split('\r\n');
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    if (colon > 0) headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
  }
  return { status: Number(/^HTTP\/1\.1 (\d{3})/.exec(statusLine)?.[1] ?? 0), headers, body };
}

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
  const { httpUrl, log } = await startAppWithLog(t, { ...DEFAULT_LIMITS });
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

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { IncomingHttpHeaders } from 'node:http';
import WebSocket from 'ws';
import { startApp, roomPath } from './helpers/app.ts';
import { startAppWithLog } from './helpers/captured-log.ts';
import { TestRedis } from './helpers/redis-server.ts';

/**
 * The HTTP edges of the hardened server: PUBLIC_ORIGIN, METRICS_TOKEN, the warning about an
 * untrusted X-Forwarded-For, per-address HTTP and upgrade rates, and IPv6 addresses grouped by
 * prefix when they come through a trusted proxy.
 */

interface UpgradeAnswer {
  /** 101 when the socket opened, else the HTTP status of the refusal. */
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

/** Tries a WebSocket upgrade and reports how it was answered; an opened socket is closed again. */
function upgrade(
  url: string,
  options: { origin?: string; headers?: Record<string, string>; protocols?: string[] } = {},
): Promise<UpgradeAnswer> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url, options.protocols ?? [], {
      ...(options.origin === undefined ? {} : { origin: options.origin }),
      headers: options.headers ?? {},
    });
    socket.once('open', () => {
      socket.close();
      resolve({ status: 101, headers: {}, body: '' });
    });
    socket.once('unexpected-response', (request, response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => {
        body += chunk;
      });
      response.on('end', () => {
        request.destroy();
        resolve({ status: response.statusCode ?? 0, headers: response.headers, body });
      });
    });
    socket.once('error', reject);
  });
}

for (const engine of ['memory', 'redis'] as const) {
  describe(`HTTP edges over the ${engine} engine`, () => {
    let redis: TestRedis | undefined;
    let REDIS_URL: string | undefined;

    before(async () => {
      if (engine === 'redis') redis = await TestRedis.start();
      REDIS_URL = redis?.url;
    });
    after(async () => {
      await redis?.stop();
    });

    test('PUBLIC_ORIGIN: only pages from that origin (scheme, host and port) may open a socket', async (t) => {
      const { wsUrl } = await startApp(t, { REDIS_URL, PUBLIC_ORIGIN: 'https://chat.example.com' });
      const url = wsUrl + roomPath('lobby');
      assert.equal((await upgrade(url, { origin: 'https://chat.example.com' })).status, 101, 'the public origin');
      assert.equal(
        (await upgrade(url, { origin: 'https://chat.example.com', protocols: ['parley.v1'] })).status,
        101,
        'the public origin, parley.v1',
      );
      const refusals: Array<[string, { origin: string; headers?: Record<string, string> }]> = [
        ['the scheme differs', { origin: 'http://chat.example.com' }],
        ['the port differs', { origin: 'https://chat.example.com:8443' }],
        [
          'a foreign page whose Host matches its origin (DNS rebinding)',
          { origin: 'http://evil.example', headers: { Host: 'evil.example' } },
        ],
        ['the Host the server was reached at', { origin: wsUrl.replace('ws:', 'http:') }],
      ];
      for (const [what, options] of refusals) {
        const answer = await upgrade(url, options);
        assert.equal(answer.status, 403, what);
        assert.equal(JSON.parse(answer.body).error, 'origin_not_allowed', what);
      }
      assert.equal((await upgrade(url)).status, 101, 'no Origin at all: not a browser, passes');
    });

    test('without PUBLIC_ORIGIN, the origin must be an http(s) page on the Host: ws://<host> and "null" are refused', async (t) => {
      const { wsUrl } = await startApp(t, { REDIS_URL });
      const url = wsUrl + roomPath('lobby');
      const host = wsUrl.slice('ws://'.length);
      assert.equal((await upgrade(url, { origin: `http://${host}` })).status, 101, 'the own origin');
      for (const origin of [`ws://${host}`, `wss://${host}`, `ftp://${host}`, 'null', `http://${host}.evil.example`]) {
        assert.equal((await upgrade(url, { origin })).status, 403, origin);
      }
    });

    test('METRICS_TOKEN: /metrics answers 401 without the bearer token or with a wrong one, 200 with it', async (t) => {
      const token = 'metrics-token-for-the-tests-0001';
      const { httpUrl } = await startApp(t, { REDIS_URL, METRICS_TOKEN: token });
      const get = (authorization?: string) =>
        fetch(`${httpUrl}/metrics`, { headers: authorization === undefined ? {} : { authorization } });
      for (const [what, authorization] of [
        ['no Authorization', undefined],
        ['a wrong token of the same length', `Bearer ${token.slice(0, -1)}X`],
        ['a wrong token of another length', 'Bearer nope'],
        ['the token without "Bearer"', token],
        ['the token as Basic', `Basic ${token}`],
      ] as const) {
        const res = await get(authorization);
        assert.equal(res.status, 401, what);
        assert.equal(res.headers.get('www-authenticate'), 'Bearer', what);
        const body = await res.text();
        assert.ok(!body.includes('parley_'), `${what}: no metrics in the refusal`);
      }
      const ok = await get(`Bearer ${token}`);
      assert.equal(ok.status, 200);
      assert.match(await ok.text(), /parley_connections/);
      // Without METRICS_TOKEN, /metrics stays open (the default).
      const open = await startApp(t, { REDIS_URL });
      assert.equal((await fetch(`${open.httpUrl}/metrics`)).status, 200);
    });

    test('X-Forwarded-For with TRUST_PROXY unset: exactly one warning, however many requests carry it; with TRUST_PROXY=1 none', async (t) => {
      const warnings = (lines: any[]) => lines.filter((r) => r.level === 40 && /X-Forwarded-For/.test(r.msg));

      const untrusted = await startAppWithLog(t, { REDIS_URL });
      assert.equal((await fetch(`${untrusted.httpUrl}/healthz`)).status, 200);
      assert.equal(warnings(untrusted.log.records).length, 0, 'no warning without the header');
      for (const path of ['/healthz', '/api/rooms', '/healthz']) {
        assert.equal(
          (await fetch(`${untrusted.httpUrl}${path}`, { headers: { 'x-forwarded-for': '203.0.113.7' } })).status,
          200,
        );
      }
      assert.equal(
        (await upgrade(untrusted.wsUrl + roomPath('lobby'), { headers: { 'X-Forwarded-For': '203.0.113.8' } })).status,
        101,
      );
      assert.equal(warnings(untrusted.log.records).length, 1, 'one warning line');
      assert.match(warnings(untrusted.log.records)[0].msg, /TRUST_PROXY/);

      const trusted = await startAppWithLog(t, { REDIS_URL, TRUST_PROXY: '1' });
      for (const path of ['/healthz', '/api/rooms']) {
        assert.equal(
          (await fetch(`${trusted.httpUrl}${path}`, { headers: { 'x-forwarded-for': '203.0.113.7' } })).status,
          200,
        );
      }
      assert.equal(warnings(trusted.log.records).length, 0, 'the proxy is trusted: nothing to warn about');
      assert.ok(trusted.log.lines.length > 0, 'the trusted app did log its requests');
    });

    test('HTTP API rate: with HTTP_RATE_PER_IP=1 and a burst of 3, the 4th quick request gets 429, Retry-After and rate_limited', async (t) => {
      const { httpUrl } = await startApp(t, { REDIS_URL, HTTP_RATE_PER_IP: '1', HTTP_BURST_PER_IP: '3' });
      for (let i = 0; i < 3; i++) assert.equal((await fetch(`${httpUrl}/api/rooms`)).status, 200, `request ${i + 1}`);
      const refused = await fetch(`${httpUrl}/api/rooms`);
      assert.equal(refused.status, 429);
      const retryAfter = refused.headers.get('retry-after');
      assert.match(retryAfter ?? '', /^\d+$/, 'Retry-After in whole seconds');
      assert.ok(Number(retryAfter) >= 1);
      const body: any = await refused.json();
      assert.equal(body.error, 'rate_limited');
      // The history API counts against the same budget; health checks are not API requests.
      assert.equal((await fetch(`${httpUrl}/api/rooms/lobby/messages`)).status, 429);
      assert.equal((await fetch(`${httpUrl}/healthz`)).status, 200);
    });

    test('upgrade rate: with CONNECT_RATE_PER_IP=1 and a burst of 3, the 4th quick upgrade is refused with HTTP 429 and Retry-After', async (t) => {
      const { wsUrl } = await startApp(t, { REDIS_URL, CONNECT_RATE_PER_IP: '1', CONNECT_BURST_PER_IP: '3' });
      const url = `${wsUrl}${roomPath('lobby')}?name=Quick`;
      for (let i = 0; i < 3; i++)
        assert.equal((await upgrade(url, { protocols: ['parley.v1'] })).status, 101, `upgrade ${i + 1}`);
      const refused = await upgrade(url, { protocols: ['parley.v1'] });
      assert.equal(refused.status, 429);
      assert.match(String(refused.headers['retry-after']), /^\d+$/);
      assert.ok(Number(refused.headers['retry-after']) >= 1);
      assert.equal(JSON.parse(refused.body).error, 'rate_limited');
      // Another address has its own budget.
      const elsewhere = await new Promise<number>((resolve, reject) => {
        const socket = new WebSocket(url, ['parley.v1'], { localAddress: '127.0.0.3' });
        socket.once('open', () => {
          socket.close();
          resolve(101);
        });
        socket.once('unexpected-response', (request, response) => {
          request.destroy();
          resolve(response.statusCode ?? 0);
        });
        socket.once('error', reject);
      });
      assert.equal(elsewhere, 101, 'a client at another address');
    });

    test('IPv6 through a trusted proxy: addresses of one /64 share a connect budget, another /64 has its own; IPV6_PREFIX_BITS=128 counts each address', async (t) => {
      const limits = { REDIS_URL, TRUST_PROXY: '1', CONNECT_RATE_PER_IP: '1', CONNECT_BURST_PER_IP: '2' };
      const from = (address: string) => ({ headers: { 'X-Forwarded-For': address } });

      const grouped = await startApp(t, limits);
      const url = grouped.wsUrl + roomPath('lobby');
      assert.equal((await upgrade(url, from('2001:db8:1:2::a'))).status, 101);
      assert.equal((await upgrade(url, from('2001:db8:1:2::b'))).status, 101);
      const third = await upgrade(url, from('2001:db8:1:2::c'));
      assert.equal(third.status, 429, 'the third address of the same /64');
      assert.ok(third.headers['retry-after'] !== undefined);
      assert.equal((await upgrade(url, from('2001:db8:1:2:ffff:ffff:ffff:ffff'))).status, 429, 'anywhere in that /64');
      assert.equal((await upgrade(url, from('2001:db8:1:3::a'))).status, 101, 'another /64');

      const exact = await startApp(t, { ...limits, IPV6_PREFIX_BITS: '128' });
      const exactUrl = exact.wsUrl + roomPath('lobby');
      for (const address of ['2001:db8:1:2::a', '2001:db8:1:2::b', '2001:db8:1:2::c', '2001:db8:1:3::a']) {
        assert.equal((await upgrade(exactUrl, from(address))).status, 101, `${address} with /128`);
      }
    });
  });
}

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startApp, roomPath } from './helpers/app.ts';
import { loadConfig } from '../src/config.ts';
import { TestRedis } from './helpers/redis-server.ts';
import { TestClient, json } from './helpers/ws-client.ts';

describe('health and readiness', () => {
  test('memory engine: /healthz and /readyz answer JSON', async (t) => {
    const { httpUrl } = await startApp(t);
    const health = await fetch(`${httpUrl}/healthz`);
    assert.equal(health.status, 200);
    assert.equal((await json(health)).status, 'ok');
    const ready = await fetch(`${httpUrl}/readyz`);
    assert.equal(ready.status, 200);
    assert.deepEqual(await json(ready), {
      status: 'ready',
      engine: 'memory',
      detail: 'memory engine (single instance)',
    });
  });

  test('redis engine: /readyz is 503 while Redis is down and 200 once it is back', async (t) => {
    const redis = await TestRedis.start();
    t.after(() => redis.stop());
    const { httpUrl, wsUrl } = await startApp(t, { REDIS_URL: redis.url });
    assert.equal((await fetch(`${httpUrl}/readyz`)).status, 200);

    await redis.kill();
    const down = await fetch(`${httpUrl}/readyz`);
    assert.equal(down.status, 503);
    const body = await json(down);
    assert.equal(body.status, 'unready');
    assert.equal(body.engine, 'redis');
    assert.equal((await fetch(`${httpUrl}/healthz`)).status, 200, 'liveness does not depend on Redis');

    await redis.restart();
    const deadline = Date.now() + 10_000;
    let status = 0;
    while (Date.now() < deadline && status !== 200) {
      status = (await fetch(`${httpUrl}/readyz`)).status;
      if (status !== 200) await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(status, 200);
    // And chat works again after the restart (ioredis resubscribes).
    const client = await TestClient.connect(wsUrl + roomPath('after_restart'));
    client.send({ message: 'back' });
    assert.deepEqual(await client.next(), { message: 'back' });
    client.close();
  });

  test('a send while Redis is down gets an "unavailable" error, never silence', async (t) => {
    const redis = await TestRedis.start();
    t.after(() => redis.stop());
    const { wsUrl } = await startApp(t, { REDIS_URL: redis.url });
    const client = await TestClient.connect(wsUrl + roomPath('outage'));
    client.send({ message: 'before' });
    assert.deepEqual(await client.next(), { message: 'before' });
    await redis.kill();
    client.send({ message: 'during' });
    const reply = await client.next(5000);
    assert.equal(reply.type, 'error');
    assert.equal(reply.code, 'unavailable');
    client.close();
  });
});

describe('origins', () => {
  test('a page from a foreign origin may not open a socket; the own origin and configured ones may', async (t) => {
    const { wsUrl, httpUrl } = await startApp(t, { ALLOWED_ORIGINS: 'https://chat.example.com' });
    await assert.rejects(
      TestClient.connect(wsUrl + roomPath('lobby'), { origin: 'https://evil.example.net' }),
      /HTTP 403/,
    );
    const own = await TestClient.connect(wsUrl + roomPath('lobby'), { origin: httpUrl });
    const configured = await TestClient.connect(wsUrl + roomPath('lobby'), { origin: 'https://chat.example.com' });
    configured.send({ message: 'cross-origin ok' });
    assert.deepEqual(await own.next(), { message: 'cross-origin ok' });
    own.close();
    configured.close();
  });

  test('CORS admits configured origins on the HTTP API', async (t) => {
    const { httpUrl } = await startApp(t, { ALLOWED_ORIGINS: 'https://chat.example.com' });
    const allowed = await fetch(`${httpUrl}/healthz`, { headers: { origin: 'https://chat.example.com' } });
    assert.equal(allowed.headers.get('access-control-allow-origin'), 'https://chat.example.com');
    const foreign = await fetch(`${httpUrl}/healthz`, { headers: { origin: 'https://evil.example.net' } });
    assert.equal(foreign.headers.get('access-control-allow-origin'), null);
  });
});

describe('HTTP on the WebSocket path', () => {
  test('a plain GET is told to upgrade (426)', async (t) => {
    const { httpUrl } = await startApp(t);
    const res = await fetch(`${httpUrl}/ws/chat/lobby/`);
    assert.equal(res.status, 426);
    assert.equal((await json(res)).error, 'upgrade_required');
  });
});

describe('serving the web app', () => {
  let dist: string;
  before(() => {
    dist = mkdtempSync(join(tmpdir(), 'parley-web-'));
    mkdirSync(join(dist, 'assets'));
    writeFileSync(join(dist, 'index.html'), '<!doctype html><title>Parley</title><div id="app"></div>');
    writeFileSync(join(dist, 'assets', 'main-abc123.js'), 'console.log(1)');
  });
  after(() => rmSync(dist, { recursive: true, force: true }));

  test('client-side routes, deep links and reloads get index.html, never cached', async (t) => {
    const { httpUrl } = await startApp(t, { WEB_DIST_DIR: dist });
    for (const path of ['/', '/chat/', '/chat/lobby/', `/chat/${encodeURIComponent('한국어')}/`, '/chat/room_1']) {
      const res = await fetch(httpUrl + path);
      assert.equal(res.status, 200, path);
      assert.match(res.headers.get('content-type') ?? '', /text\/html/, path);
      assert.equal(res.headers.get('cache-control'), 'no-cache', path);
      assert.match(await res.text(), /<div id="app">/, path);
    }
  });

  test('hashed assets are cached for a year; API paths stay JSON 404s', async (t) => {
    const { httpUrl } = await startApp(t, { WEB_DIST_DIR: dist });
    const asset = await fetch(`${httpUrl}/assets/main-abc123.js`);
    assert.equal(asset.status, 200);
    assert.match(asset.headers.get('cache-control') ?? '', /immutable/);
    const api = await fetch(`${httpUrl}/api/nothing`);
    assert.equal(api.status, 404);
    assert.equal((await json(api)).error, 'not_found');
    assert.equal((await fetch(`${httpUrl}/healthz`)).status, 200);
  });

  test('without WEB_DIST_DIR the server runs the API alone', async (t) => {
    const { httpUrl } = await startApp(t);
    const root = await fetch(httpUrl + '/');
    assert.equal((await json(root)).name, 'parley');
    assert.equal((await fetch(`${httpUrl}/chat/lobby/`)).status, 404);
  });
});

describe('security headers', () => {
  test('every response carries helmet headers and a CSP with no inline scripts and no framing', async (t) => {
    const { httpUrl } = await startApp(t, { CSP_CONNECT_SRC: 'https://chat.example.com wss://chat.example.com' });
    const res = await fetch(`${httpUrl}/healthz`);
    const csp = res.headers.get('content-security-policy') ?? '';
    assert.match(csp, /default-src 'self'/);
    assert.match(csp, /script-src 'self'(;|$)/);
    assert.match(csp, /object-src 'none'/);
    assert.match(csp, /frame-ancestors 'none'/);
    assert.match(csp, /connect-src 'self' https:\/\/chat\.example\.com wss:\/\/chat\.example\.com/);
    assert.doesNotMatch(csp, /upgrade-insecure-requests/);
    assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
    assert.ok(res.headers.get('strict-transport-security'));
  });

  test('CSP_CONNECT_SRC must hold sources, not directives', () => {
    assert.throws(() => loadConfig({ CSP_CONNECT_SRC: "'unsafe-inline'; script-src *" }), /CSP_CONNECT_SRC/);
  });
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, loadConfig } from '../src/config.ts';

test('defaults: port 3000 on all interfaces, memory engine, no web app', () => {
  const config = loadConfig({});
  assert.equal(config.port, 3000);
  assert.equal(config.host, '0.0.0.0');
  assert.equal(config.redisUrl, undefined);
  assert.equal(config.webDistDir, undefined);
  assert.deepEqual(config.allowedOrigins, []);
  assert.equal(config.maxTextBytes, 4096);
  assert.equal(config.maxPayloadBytes, 16384);
});

test('every invalid variable is reported at once', () => {
  assert.throws(
    () =>
      loadConfig({
        PORT: 'eighty',
        REDIS_URL: 'localhost:6379',
        WEB_DIST_DIR: '/nonexistent/dist',
        ALLOWED_ORIGINS: 'https://ok.example.com, not-an-origin',
        LOG_LEVEL: 'loud',
      }),
    (err: unknown) => {
      assert.ok(err instanceof ConfigError);
      assert.equal(err.problems.length, 5);
      for (const name of ['PORT', 'REDIS_URL', 'WEB_DIST_DIR', 'ALLOWED_ORIGINS', 'LOG_LEVEL']) {
        assert.match(err.message, new RegExp(name));
      }
      return true;
    },
  );
});

test('origins are trimmed and lose trailing slashes', () => {
  const config = loadConfig({ ALLOWED_ORIGINS: ' https://a.example.com/ ,https://b.example.com' });
  assert.deepEqual(config.allowedOrigins, ['https://a.example.com', 'https://b.example.com']);
});

test('REDIS_CLUSTER_NODES: host:port seeds (IPv6 in brackets); not together with REDIS_URL', () => {
  const config = loadConfig({ REDIS_CLUSTER_NODES: 'redis-1:7000, 10.0.0.2:7001,[::1]:7002' });
  assert.deepEqual(config.redisClusterNodes, [
    { host: 'redis-1', port: 7000 },
    { host: '10.0.0.2', port: 7001 },
    { host: '::1', port: 7002 },
  ]);
  assert.throws(
    () => loadConfig({ REDIS_CLUSTER_NODES: 'redis-1', REDIS_URL: 'redis://x:6379' }),
    (err: unknown) => {
      assert.ok(err instanceof ConfigError);
      assert.equal(err.problems.length, 2, err.message);
      assert.match(err.message, /host:port/);
      assert.match(err.message, /not both/);
      return true;
    },
  );
});

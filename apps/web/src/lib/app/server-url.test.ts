import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { serverBase } from '@parley/client';
import { parseServerUrl, pickServerUrl, serverAddress } from './server-url.ts';

const httpPage = { protocol: 'http:', host: 'localhost:5173' };
const httpsPage = { protocol: 'https:', host: 'chat.example.org' };

function parsed(raw: string): URL | null {
  const result = parseServerUrl(raw);
  assert.ok(result.ok, `expected ${raw} to parse`);
  return result.url;
}

describe('pickServerUrl', () => {
  test('the run-time value wins over the build-time one', () => {
    assert.equal(pickServerUrl('https://build.example', 'https://run.example'), 'https://run.example');
  });
  test('an empty run-time value means same origin, deliberately', () => {
    assert.equal(pickServerUrl('https://build.example', ''), '');
  });
  test('falls back to the build-time value when config.js sets nothing', () => {
    assert.equal(pickServerUrl('https://build.example', undefined), 'https://build.example');
    assert.equal(pickServerUrl(' https://build.example ', 42), 'https://build.example');
    assert.equal(pickServerUrl(undefined, undefined), '');
  });
});

describe('parseServerUrl', () => {
  test('empty means the page origin', () => {
    assert.deepEqual(parseServerUrl(''), { ok: true, url: null });
  });
  test('accepts http(s) and ws(s) URLs', () => {
    for (const raw of ['http://127.0.0.1:3000', 'https://chat.example.com/', 'ws://a.test', 'wss://b.test/x']) {
      assert.ok(parseServerUrl(raw).ok, raw);
    }
  });
  test('refuses relative URLs, other schemes, queries and fragments with a reason', () => {
    for (const raw of ['chat.example.com', '/api', 'ftp://x.test', 'https://x.test/?a=1', 'https://x.test/#top']) {
      const result = parseServerUrl(raw);
      assert.equal(result.ok, false, raw);
      if (!result.ok) assert.match(result.reason, /server URL/);
    }
  });
});

describe('serverAddress', () => {
  test("same origin is the page's origin: an http page gets ws, an https page wss", () => {
    assert.equal(serverAddress(null, httpPage), 'http://localhost:5173');
    assert.equal(serverBase(serverAddress(null, httpPage)).ws, 'ws://localhost:5173');
    assert.equal(serverBase(serverAddress(null, httpsPage)).ws, 'wss://chat.example.org');
    assert.equal(serverBase(serverAddress(null, httpsPage)).http, 'https://chat.example.org');
  });
  test('another origin is the configured one, whatever the page is, with its path prefix', () => {
    assert.equal(serverBase(serverAddress(parsed('http://127.0.0.1:4310'), httpsPage)).ws, 'ws://127.0.0.1:4310');
    assert.equal(serverBase(serverAddress(parsed('https://chat.example.com'), httpPage)).ws, 'wss://chat.example.com');
    assert.equal(
      serverBase(serverAddress(parsed('https://example.com/parley/'), httpPage)).ws,
      'wss://example.com/parley',
    );
  });
});

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { TOKEN_PROTOCOL_PREFIX, tokenFromProtocols, type ConnectParams } from '@parley/protocol';
import {
  connectProtocols,
  httpUrl,
  parseServerUrl,
  pickServerUrl,
  socketUrl,
  withConnectParams,
} from './server-url.ts';

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

describe('socketUrl', () => {
  test('same origin follows the page: http -> ws, https -> wss', () => {
    assert.equal(socketUrl(null, httpPage, '/ws/chat/lobby/'), 'ws://localhost:5173/ws/chat/lobby/');
    assert.equal(socketUrl(null, httpsPage, '/ws/chat/lobby/'), 'wss://chat.example.org/ws/chat/lobby/');
  });
  test('another origin: http -> ws, https -> wss, whatever the page is', () => {
    assert.equal(
      socketUrl(parsed('http://127.0.0.1:4310'), httpsPage, '/ws/chat/a/'),
      'ws://127.0.0.1:4310/ws/chat/a/',
    );
    assert.equal(
      socketUrl(parsed('https://chat.example.com'), httpPage, '/ws/chat/a/'),
      'wss://chat.example.com/ws/chat/a/',
    );
    assert.equal(
      socketUrl(parsed('wss://chat.example.com'), httpPage, '/ws/chat/a/'),
      'wss://chat.example.com/ws/chat/a/',
    );
  });
  test('keeps a path prefix and avoids double slashes', () => {
    assert.equal(
      socketUrl(parsed('https://example.com/parley/'), httpPage, '/ws/chat/a/'),
      'wss://example.com/parley/ws/chat/a/',
    );
    assert.equal(socketUrl(parsed('https://example.com/'), httpPage, '/ws/chat/a/'), 'wss://example.com/ws/chat/a/');
  });
  test('keeps percent-encoded room names as they are', () => {
    const path = '/ws/chat/%ED%95%9C%EA%B5%AD%EC%96%B4/';
    assert.equal(socketUrl(null, httpPage, path), `ws://localhost:5173${path}`);
  });
});

describe('httpUrl', () => {
  test('same origin gives the bare path', () => {
    assert.equal(httpUrl(null, '/healthz'), '/healthz');
  });
  test('another origin gives an absolute http(s) URL', () => {
    assert.equal(httpUrl(parsed('wss://chat.example.com'), '/healthz'), 'https://chat.example.com/healthz');
    assert.equal(httpUrl(parsed('http://127.0.0.1:4310/p'), '/healthz'), 'http://127.0.0.1:4310/p/healthz');
  });
});

describe('withConnectParams', () => {
  test('adds the name, and since only when given, percent-encoded; never the token', () => {
    const base = 'ws://h/ws/chat/a/';
    assert.equal(withConnectParams(base, { name: 'Zoë & Bob' }), 'ws://h/ws/chat/a/?name=Zo%C3%AB+%26+Bob');
    const params: ConnectParams = { name: 'A', token: 'u_1.x-y', since: '17-0' };
    assert.equal(withConnectParams(base, params), 'ws://h/ws/chat/a/?name=A&since=17-0');
    assert.equal(
      withConnectParams(base, { ...params, invite: 'k1.ab.cd' }),
      'ws://h/ws/chat/a/?name=A&since=17-0&invite=k1.ab.cd',
    );
  });
});

describe('connectProtocols', () => {
  test('offers parley.v1, and the token as a second subprotocol when there is one', () => {
    assert.deepEqual(connectProtocols(undefined), ['parley.v1']);
    assert.deepEqual(connectProtocols(''), ['parley.v1']);
    const offered = connectProtocols('u_Qm9iLWlzLWhl.k1.mq2x8.3q2-7w_x');
    assert.deepEqual(offered, ['parley.v1', `${TOKEN_PROTOCOL_PREFIX}u_Qm9iLWlzLWhl.k1.mq2x8.3q2-7w_x`]);
    assert.equal(tokenFromProtocols(offered), 'u_Qm9iLWlzLWhl.k1.mq2x8.3q2-7w_x');
  });

  test('leaves out a token that is not a valid subprotocol (the WebSocket constructor would throw)', () => {
    for (const bad of ['a b', 'a,b', 'x"y', 'é', 'a/b']) assert.deepEqual(connectProtocols(bad), ['parley.v1'], bad);
  });
});

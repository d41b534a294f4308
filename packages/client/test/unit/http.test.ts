/**
 * The HTTP helpers against a real HTTP server on loopback that answers as the test says: the
 * address handling, the schema check, and the retry rules (429 with Retry-After, 5xx, never 4xx).
 */
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { test, type TestContext } from 'node:test';
import { TOKEN_PROTOCOL_PREFIX, tokenFromProtocols } from '@parley/protocol';
import {
  connectProtocols,
  fetchActiveRooms,
  fetchHistoryPage,
  ParleyError,
  parseRetryAfter,
  roomSocketUrl,
  serverBase,
} from '../../src/index.ts';

type Answer = { status: number; body: unknown; headers?: Record<string, string> };

/** An HTTP server that gives the scripted answers in turn and records the requested paths. */
async function scripted(t: TestContext, answers: Answer[]): Promise<{ url: string; paths: string[] }> {
  const paths: string[] = [];
  const server = createServer((request: IncomingMessage, response: ServerResponse) => {
    paths.push(request.url ?? '');
    const answer = answers.shift() ?? { status: 500, body: { error: 'internal', message: 'no more answers' } };
    response.writeHead(answer.status, { 'content-type': 'application/json', ...answer.headers });
    response.end(JSON.stringify(answer.body));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise((resolve) => server.close(resolve)));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no address');
  return { url: `http://127.0.0.1:${address.port}`, paths };
}

const emptyPage = { room: 'lobby', messages: [], hasMore: false };

test('server addresses: http and ws bases, with a path prefix, and the socket URL without the token', () => {
  assert.deepEqual(serverBase('http://localhost:3000'), { http: 'http://localhost:3000', ws: 'ws://localhost:3000' });
  assert.deepEqual(serverBase('wss://chat.example.com/parley/'), {
    http: 'https://chat.example.com/parley',
    ws: 'wss://chat.example.com/parley',
  });
  assert.equal(
    roomSocketUrl(serverBase('https://x.example'), '한국어', { name: 'Bot 1', since: '5-0' }),
    'wss://x.example/ws/chat/%ED%95%9C%EA%B5%AD%EC%96%B4/?name=Bot%201&since=5-0',
  );
});

test('server addresses: http -> ws, https -> wss, whatever scheme is given; a prefix without double slashes', () => {
  assert.equal(serverBase('http://127.0.0.1:4310').ws, 'ws://127.0.0.1:4310');
  assert.equal(serverBase('https://chat.example.com').ws, 'wss://chat.example.com');
  assert.equal(serverBase('wss://chat.example.com').ws, 'wss://chat.example.com');
  assert.equal(serverBase('wss://chat.example.com').http, 'https://chat.example.com');
  assert.equal(serverBase('http://127.0.0.1:4310/p').http, 'http://127.0.0.1:4310/p');
  assert.equal(serverBase('https://example.com/parley/').ws, 'wss://example.com/parley');
  assert.equal(serverBase('https://example.com/').ws, 'wss://example.com');
  assert.throws(() => serverBase('chat.example.com'), TypeError);
  assert.throws(() => serverBase('ftp://x.test'), TypeError);
});

test('the socket URL: the room percent-encoded, the name, since and invite only when given, never the token', () => {
  const base = serverBase('http://h');
  assert.equal(
    roomSocketUrl(serverBase('https://example.com/parley/'), 'a', { name: 'A' }),
    'wss://example.com/parley/ws/chat/a/?name=A',
  );
  assert.equal(roomSocketUrl(base, '한국어', { name: 'A' }), 'ws://h/ws/chat/%ED%95%9C%EA%B5%AD%EC%96%B4/?name=A');
  assert.equal(roomSocketUrl(base, 'a', { name: 'Zoë & Bob' }), 'ws://h/ws/chat/a/?name=Zo%C3%AB%20%26%20Bob');
  const params = { name: 'A', token: 'u_1.x-y', since: '17-0' };
  assert.equal(roomSocketUrl(base, 'a', params), 'ws://h/ws/chat/a/?name=A&since=17-0');
  assert.equal(
    roomSocketUrl(base, 'a', { ...params, invite: 'k1.ab.cd' }),
    'ws://h/ws/chat/a/?name=A&since=17-0&invite=k1.ab.cd',
  );
});

test('the subprotocols: parley.v1, and the token as a second one when there is one', () => {
  assert.deepEqual(connectProtocols(undefined), ['parley.v1']);
  assert.deepEqual(connectProtocols(''), ['parley.v1']);
  const offered = connectProtocols('u_Qm9iLWlzLWhl.k1.mq2x8.3q2-7w_x');
  assert.deepEqual(offered, ['parley.v1', `${TOKEN_PROTOCOL_PREFIX}u_Qm9iLWlzLWhl.k1.mq2x8.3q2-7w_x`]);
  assert.equal(tokenFromProtocols(offered), 'u_Qm9iLWlzLWhl.k1.mq2x8.3q2-7w_x');
  // Not a valid subprotocol (the WebSocket constructor would throw): left out.
  for (const bad of ['a b', 'a,b', 'x"y', 'é', 'a/b']) assert.deepEqual(connectProtocols(bad), ['parley.v1'], bad);
});

test('a history page is fetched from the protocol path and checked against its schema', async (t) => {
  const server = await scripted(t, [
    { status: 200, body: { ...emptyPage, hasNewer: false } },
    { status: 200, body: { room: 'lobby', messages: 'not a list', hasMore: false } },
  ]);
  const page = await fetchHistoryPage(server.url, 'lobby', { after: '5-0', limit: 10 });
  assert.equal(page.hasNewer, false);
  assert.deepEqual(server.paths, ['/api/rooms/lobby/messages?after=5-0&limit=10']);
  await assert.rejects(
    fetchHistoryPage(server.url, 'lobby', {}),
    (e: unknown) => e instanceof ParleyError && e.code === 'bad_server_frame',
  );
});

test('a 429 is tried again after its Retry-After, a 503 after a backoff', async (t) => {
  const server = await scripted(t, [
    { status: 429, body: { error: 'rate_limited', message: 'slow down' }, headers: { 'retry-after': '0' } },
    { status: 503, body: { error: 'unavailable', message: 'bus down' } },
    { status: 200, body: { rooms: [{ room: 'lobby', members: 2, lastActivity: 1 }] } },
  ]);
  const rooms = await fetchActiveRooms(server.url, { backoff: { minMs: 10, maxMs: 20 } });
  assert.deepEqual(
    rooms.map((r) => r.room),
    ['lobby'],
  );
  assert.equal(server.paths.length, 3);
});

test('a 4xx is not tried again, and the error says the status; the attempts are bounded', async (t) => {
  const server = await scripted(t, [
    { status: 400, body: { error: 'bad_request', message: 'bad id' } },
    { status: 500, body: { error: 'internal', message: 'oops' } },
    { status: 500, body: { error: 'internal', message: 'oops' } },
  ]);
  await assert.rejects(
    fetchHistoryPage(server.url, 'lobby', { before: '1-0' }),
    (e: unknown) => e instanceof ParleyError && e.code === 'http_error' && e.status === 400,
  );
  assert.equal(server.paths.length, 1);
  await assert.rejects(
    fetchHistoryPage(server.url, 'lobby', {}, { attempts: 2, backoff: { minMs: 5, maxMs: 10 } }),
    (e: unknown) => e instanceof ParleyError && e.status === 500,
  );
  assert.equal(server.paths.length, 3);
});

test('Retry-After in seconds or as a date', () => {
  assert.equal(parseRetryAfter('3'), 3_000);
  assert.equal(parseRetryAfter(new Date(10_000).toUTCString(), 4_000), 6_000);
  assert.equal(parseRetryAfter('soon'), undefined);
  assert.equal(parseRetryAfter(null), undefined);
});

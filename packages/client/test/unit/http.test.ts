/**
 * The HTTP helpers against a real HTTP server on loopback that answers as the test says: the
 * address handling, the schema check, and the retry rules (429 with Retry-After, 5xx, never 4xx).
 */
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { test, type TestContext } from 'node:test';
import { TOKEN_PROTOCOL_PREFIX, tokenFromProtocols } from '@parley/protocol';
import { retryDelay } from '../../src/http/http.ts';
import {
  connectProtocols,
  fetchActiveRooms,
  fetchHistoryPage,
  fetchMemberPage,
  ParleyError,
  parseRetryAfter,
  roomSocketUrl,
  serverBase,
} from '../../src/index.ts';

type Answer = { status: number; body: unknown; headers?: Record<string, string> };

/**
 * An HTTP server that gives the scripted answers in turn and records the requested paths and
 * their Authorization headers.
 */
async function scripted(
  t: TestContext,
  answers: Answer[],
): Promise<{ url: string; paths: string[]; authorizations: (string | undefined)[] }> {
  const paths: string[] = [];
  const authorizations: (string | undefined)[] = [];
  const server = createServer((request: IncomingMessage, response: ServerResponse) => {
    paths.push(request.url ?? '');
    authorizations.push(request.headers.authorization);
    const answer = answers.shift() ?? { status: 500, body: { error: 'internal', message: 'no more answers' } };
    response.writeHead(answer.status, { 'content-type': 'application/json', ...answer.headers });
    response.end(JSON.stringify(answer.body));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise((resolve) => server.close(resolve)));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no address');
  return { url: `http://127.0.0.1:${address.port}`, paths, authorizations };
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
  assert.equal(parseRetryAfter(' 0 '), 0);
  assert.equal(parseRetryAfter(new Date(10_000).toUTCString(), 4_000), 6_000);
  assert.equal(parseRetryAfter(new Date(1_000).toUTCString(), 4_000), 0);
  assert.equal(parseRetryAfter('soon'), undefined);
  assert.equal(parseRetryAfter(null), undefined);
});

test('the page paths: scroll-back before an id, recovery after one, member pages from a cursor; the room encoded', async (t) => {
  const server = await scripted(t, [
    { status: 200, body: emptyPage },
    { status: 200, body: { ...emptyPage, hasMore: true, hasNewer: true, recovered: true } },
    { status: 200, body: { room: 'lobby', members: [], memberCount: 0 } },
    { status: 200, body: { room: 'lobby', members: [], memberCount: 0, cursor: '7' } },
  ]);
  await fetchHistoryPage(server.url, '한국어', { before: '17-3', limit: 20 });
  // A page of newer messages comes with hasNewer and recovered.
  assert.deepEqual(await fetchHistoryPage(server.url, 'lobby', { after: '17-3', limit: 200 }), {
    ...emptyPage,
    hasMore: true,
    hasNewer: true,
    recovered: true,
  });
  await fetchMemberPage(server.url, 'lobby');
  assert.equal((await fetchMemberPage(server.url, 'lobby', { cursor: '3' })).cursor, '7');
  assert.deepEqual(server.paths, [
    '/api/rooms/%ED%95%9C%EA%B5%AD%EC%96%B4/messages?before=17-3&limit=20',
    '/api/rooms/lobby/messages?after=17-3&limit=200',
    '/api/rooms/lobby/members',
    '/api/rooms/lobby/members?cursor=3',
  ]);
});

test('the identity token goes as Authorization: Bearer with a room’s pages, never in the URL nor with the room list', async (t) => {
  const token = 'u_Qm9iLWlzLWhl.k1.mq2x8.3q2-7w_x';
  const server = await scripted(t, [
    { status: 200, body: emptyPage },
    { status: 200, body: { room: 'lobby', members: [], memberCount: 0 } },
    { status: 200, body: { rooms: [] } },
    { status: 200, body: emptyPage },
  ]);
  await fetchHistoryPage(server.url, 'lobby', { before: '17-3' }, { token });
  await fetchMemberPage(server.url, 'lobby', {}, { token });
  await fetchActiveRooms(server.url, { token });
  await fetchHistoryPage(server.url, 'lobby', {});
  assert.deepEqual(server.authorizations, [`Bearer ${token}`, `Bearer ${token}`, undefined, undefined]);
  for (const path of server.paths) assert.doesNotMatch(path, /token|u_Qm9/);
});

test('a room’s page refused as banned carries the ban’s until; invite_required its 403', async (t) => {
  const until = Date.now() + 3_600_000;
  const server = await scripted(t, [
    { status: 403, body: { error: 'banned', message: 'You are banned from this room.', until } },
    { status: 403, body: { error: 'invite_required', message: 'This room is invite-only.' } },
  ]);
  const banned = await fetchHistoryPage(server.url, 'lobby', {}, { token: 't' }).catch((e: unknown) => e);
  assert.ok(banned instanceof ParleyError);
  assert.deepEqual([banned.code, banned.status, banned.until], ['http_error', 403, until]);
  const uninvited = await fetchMemberPage(server.url, 'lobby').catch((e: unknown) => e);
  assert.ok(uninvited instanceof ParleyError);
  assert.deepEqual([uninvited.status, uninvited.until], [403, undefined]);
  assert.match(uninvited.message, /invite-only/);
  // A 403 is not tried again.
  assert.equal(server.paths.length, 2);
});

test('failures: a refusal with its status, Retry-After and message; no answer; an answer the schemas refuse', async (t) => {
  const server = await scripted(t, [
    { status: 429, body: { error: 'rate_limited', message: 'Slow down.' }, headers: { 'retry-after': '3' } },
    { status: 503, body: { error: 'unavailable', message: 'Try again shortly.' } },
    { status: 200, body: { rooms: [{ room: 1 }] } },
    { status: 200, body: { room: 'lobby', members: 'nobody' } },
  ]);
  const once = { attempts: 1 };
  const tooMany = await fetchHistoryPage(server.url, 'lobby', {}, once).catch((e: unknown) => e);
  assert.ok(tooMany instanceof ParleyError);
  assert.deepEqual([tooMany.code, tooMany.status, tooMany.retryAfterMs], ['http_error', 429, 3_000]);
  assert.match(tooMany.message, /Slow down/);
  await assert.rejects(fetchActiveRooms(server.url, once), /The server refused \(503\): Try again shortly\./);
  await assert.rejects(
    fetchActiveRooms(server.url),
    (e: unknown) => e instanceof ParleyError && e.code === 'bad_server_frame',
  );
  await assert.rejects(
    fetchMemberPage(server.url, 'lobby'),
    (e: unknown) => e instanceof ParleyError && e.code === 'bad_server_frame',
  );
  const unreachable = await fetchActiveRooms(server.url, {
    attempts: 1,
    fetch: async () => {
      throw new TypeError('Failed to fetch');
    },
  }).catch((e: unknown) => e);
  assert.ok(unreachable instanceof ParleyError);
  assert.deepEqual([unreachable.code, unreachable.status], ['http_error', undefined]);
  assert.match(unreachable.message, /Could not reach the server/);
});

test('retry rules: a 429 waits as long as Retry-After says, within a bound', () => {
  const tooMany = (retryAfterMs?: number) =>
    new ParleyError('http_error', 'The server refused (429): Too many requests.', {
      status: 429,
      ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
    });
  assert.equal(retryDelay(tooMany(3_000), 0), 3_000);
  assert.equal(retryDelay(tooMany(0), 0), 0);
  assert.equal(retryDelay(tooMany(120_000), 0), undefined, 'too long: fail rather than hang');
  assert.equal(retryDelay(tooMany(120_000), 0, { maxWaitMs: 200_000 }), 120_000);
  // Without Retry-After, as after a 5xx or no answer: a jittered backoff of a second or more.
  for (const error of [
    tooMany(),
    new ParleyError('http_error', 'x', { status: 503 }),
    new ParleyError('http_error', 'x'),
  ]) {
    const first = Array.from({ length: 50 }, () => retryDelay(error, 0) ?? -1);
    assert.ok(
      first.every((wait) => wait >= 1_000 && wait < 2_000),
      `first waits ${Math.min(...first)}..${Math.max(...first)}`,
    );
    const later = Array.from({ length: 50 }, () => retryDelay(error, 3) ?? -1);
    assert.ok(Math.max(...later) > 5_000 && later.every((wait) => wait >= 1_000 && wait <= 10_000));
  }
  // Anything else is not tried again: a 4xx, an answer not understood, an error of another kind.
  assert.equal(retryDelay(new ParleyError('http_error', 'x', { status: 400 }), 0), undefined);
  assert.equal(retryDelay(new ParleyError('http_error', 'x', { status: 404 }), 0), undefined);
  assert.equal(retryDelay(new ParleyError('bad_server_frame', 'does not match'), 0), undefined);
  assert.equal(retryDelay(new Error('does not understand'), 0), undefined);
});

test('tried again until it succeeds, up to the attempts allowed (the last error thrown); an abort ends a wait at once', async (t) => {
  const server = await scripted(t, [
    { status: 429, body: { error: 'rate_limited', message: 'a' }, headers: { 'retry-after': '0' } },
    { status: 429, body: { error: 'rate_limited', message: 'b' }, headers: { 'retry-after': '0' } },
    { status: 200, body: emptyPage },
    { status: 503, body: { error: 'unavailable', message: 'try 1' } },
    { status: 503, body: { error: 'unavailable', message: 'try 2' } },
    { status: 503, body: { error: 'unavailable', message: 'try 3' } },
    { status: 429, body: { error: 'rate_limited', message: 'wait' }, headers: { 'retry-after': '10' } },
  ]);
  assert.deepEqual(await fetchHistoryPage(server.url, 'lobby', {}, { attempts: 5 }), emptyPage);
  assert.equal(server.paths.length, 3);
  await assert.rejects(
    fetchHistoryPage(server.url, 'lobby', {}, { attempts: 3, backoff: { minMs: 1, maxMs: 2 } }),
    /try 3/,
  );
  assert.equal(server.paths.length, 6);

  const controller = new AbortController();
  const started = Date.now();
  const waiting = fetchHistoryPage(server.url, 'lobby', {}, { signal: controller.signal });
  // The 429 came, and the 10 s wait began.
  while (server.paths.length < 7) await new Promise((resolve) => setTimeout(resolve, 5));
  await new Promise((resolve) => setTimeout(resolve, 20));
  controller.abort();
  await assert.rejects(waiting, { name: 'AbortError' });
  assert.ok(Date.now() - started < 2_000);
});

/**
 * The web's side of the HTTP API: which rooms the lobby can link to, how many tries each request
 * gets, and failures as sentences. The requests themselves (paths, schemas, Retry-After, the
 * retry rules) are @parley/client's, tested there.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ApiError, fetchMemberPage, fetchMessagePage, fetchRoomList } from './rooms-api.ts';

const server = 'http://chat.test';

/** A fetch that gives the answers in turn and records the URLs asked for, and their Authorization. */
function answers(...list: { status: number; body: unknown; headers?: Record<string, string> }[]) {
  const urls: string[] = [];
  const authorizations: (string | undefined)[] = [];
  const fetch = async (url: string, init?: { headers: Record<string, string> }) => {
    urls.push(url);
    authorizations.push(init?.headers.authorization);
    const answer = list.shift() ?? { status: 500, body: { error: 'internal', message: 'no more answers' } };
    return new Response(JSON.stringify(answer.body), { status: answer.status, headers: answer.headers });
  };
  return { urls, authorizations, fetch };
}

describe('rooms API', () => {
  test('the room list leaves out rooms whose names are not canonical (kept from an earlier release)', async () => {
    const rooms = [
      { room: 'lobby', members: 2, lastActivity: 1 },
      { room: 'Lobby', members: 0, lastActivity: 1 },
      { room: '한국어', members: 1, lastActivity: 1 },
    ];
    const { fetch, urls } = answers({ status: 200, body: { rooms } });
    assert.deepEqual(
      (await fetchRoomList(server, { fetch })).map((r) => r.room),
      ['lobby', '한국어'],
    );
    assert.deepEqual(urls, ['http://chat.test/api/rooms']);
  });

  test('the room list is tried once; a page of messages or members up to four times', async () => {
    const busy = {
      status: 429,
      body: { error: 'rate_limited', message: 'Slow down.' },
      headers: { 'retry-after': '0' },
    };
    const list = answers(busy);
    await assert.rejects(fetchRoomList(server, { fetch: list.fetch }), ApiError);
    assert.equal(list.urls.length, 1);
    const page = { room: 'lobby', hasMore: true, hasNewer: true, recovered: true, messages: [] };
    const messages = answers(busy, busy, busy, { status: 200, body: page });
    assert.deepEqual(await fetchMessagePage(server, 'lobby', { after: '17-3', limit: 200 }, messages), page);
    assert.deepEqual(messages.urls, Array(4).fill('http://chat.test/api/rooms/lobby/messages?after=17-3&limit=200'));
    const members = answers(busy, busy, busy, busy);
    await assert.rejects(fetchMemberPage(server, 'lobby', '3', members), ApiError);
    assert.deepEqual(members.urls, Array(4).fill('http://chat.test/api/rooms/lobby/members?cursor=3'));
  });

  test('failures become sentences: refused (with its status and Retry-After), unreachable, not understood', async () => {
    const refused = await fetchMessagePage(
      server,
      'lobby',
      { before: '5-0' },
      answers({
        status: 400,
        body: { error: 'bad_request', message: 'Not a message id.' },
        headers: { 'retry-after': '3' },
      }),
    ).catch((e: unknown) => e);
    assert.ok(refused instanceof ApiError);
    assert.equal(refused.status, 400);
    assert.equal(refused.retryAfterMs, 3_000);
    assert.match(refused.message, /The server refused \(400\): Not a message id\./);
    const unreachable = await fetchRoomList(server, {
      fetch: async () => {
        throw new TypeError('Failed to fetch');
      },
    }).catch((e: unknown) => e);
    assert.ok(unreachable instanceof ApiError);
    assert.equal(unreachable.status, null);
    assert.equal(unreachable.message, 'Could not reach the server.');
    await assert.rejects(
      fetchRoomList(server, answers({ status: 200, body: { rooms: [{ room: 1 }] } })),
      /does not match the protocol/,
    );
  });

  test('a room’s pages go with the reader’s token as Authorization: Bearer (never in the URL); the room list without', async () => {
    const token = 'u_Qm9iLWlzLWhl.k1.mq2x8.3q2-7w_x';
    const page = { room: 'club', hasMore: false, messages: [] };
    const asked = answers(
      { status: 200, body: page },
      { status: 200, body: { room: 'club', memberCount: 0, members: [] } },
      { status: 200, body: { rooms: [] } },
      { status: 200, body: page },
    );
    await fetchMessagePage(server, 'club', { before: '5-0' }, { fetch: asked.fetch, token });
    await fetchMemberPage(server, 'club', undefined, { fetch: asked.fetch, token });
    await fetchRoomList(server, { fetch: asked.fetch, token });
    // Before the first welcome there is no token yet: the page goes without one.
    await fetchMessagePage(server, 'club', { after: '5-0' }, { fetch: asked.fetch, token: undefined });
    assert.deepEqual(asked.authorizations, [`Bearer ${token}`, `Bearer ${token}`, undefined, undefined]);
    for (const url of asked.urls) assert.doesNotMatch(url, /token|u_Qm9/);
  });

  test('a room’s page refused to a banned or uninvited reader says why, with its status', async () => {
    const refused = await fetchMessagePage(
      server,
      'club',
      { before: '5-0' },
      {
        ...answers({ status: 403, body: { error: 'invite_required', message: 'This room is invite-only.' } }),
        token: 't',
      },
    ).catch((e: unknown) => e);
    assert.ok(refused instanceof ApiError);
    assert.equal(refused.status, 403);
    assert.match(refused.message, /invite-only/);
  });

  test('an abort is passed on as it is', async () => {
    const controller = new AbortController();
    controller.abort();
    const { fetch } = answers({ status: 200, body: { rooms: [] } });
    await assert.rejects(
      fetchRoomList(server, {
        fetch: (url, init) => (init.signal?.aborted ? Promise.reject(init.signal.reason) : fetch(url)),
        signal: controller.signal,
      }),
      { name: 'AbortError' },
    );
  });
});

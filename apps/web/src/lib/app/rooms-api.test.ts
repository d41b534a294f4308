import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { roomMessagesPath } from '@parley/protocol';
import { ApiError, fetchMessagePage, fetchOlderMessages, fetchRoomList, parseRetryAfter } from './rooms-api.ts';

const respond =
  (status: number, body: unknown, headers: Record<string, string> = {}) =>
  async () =>
    new Response(JSON.stringify(body), { status, headers });

describe('rooms API', () => {
  test('the scroll-back path encodes the room and asks for a page before an id', () => {
    assert.equal(
      roomMessagesPath('한국어', { before: '17-3', limit: 20 }),
      '/api/rooms/%ED%95%9C%EA%B5%AD%EC%96%B4/messages?before=17-3&limit=20',
    );
    assert.equal(roomMessagesPath('lobby', { before: '17-3' }), '/api/rooms/lobby/messages?before=17-3');
  });

  test('the room list leaves out rooms whose names are not canonical (kept from an earlier release)', async () => {
    const rooms = [
      { room: 'lobby', members: 2, lastActivity: 1 },
      { room: 'Lobby', members: 0, lastActivity: 1 },
      { room: '한국어', members: 1, lastActivity: 1 },
    ];
    assert.deepEqual(
      (await fetchRoomList('/x', { fetch: respond(200, { rooms }) })).map((r) => r.room),
      ['lobby', '한국어'],
    );
  });

  test('decodes a page of newer messages with hasNewer and recovered', async () => {
    const page = { room: 'lobby', hasMore: true, hasNewer: true, recovered: true, messages: [] };
    assert.deepEqual(await fetchMessagePage('/x', { fetch: respond(200, page) }), page);
  });

  test('a refusal carries its status and Retry-After', async () => {
    const error = await fetchMessagePage('/x', {
      fetch: respond(429, { message: 'Slow down.' }, { 'retry-after': '3' }),
    }).catch((e: unknown) => e);
    assert.ok(error instanceof ApiError);
    assert.equal(error.status, 429);
    assert.equal(error.retryAfterMs, 3_000);
    assert.match(error.message, /Slow down/);
  });

  test('Retry-After in seconds or as a date', () => {
    assert.equal(parseRetryAfter('2'), 2_000);
    assert.equal(parseRetryAfter(' 0 '), 0);
    assert.equal(parseRetryAfter(new Date(10_000).toUTCString(), 4_000), 6_000);
    assert.equal(parseRetryAfter(new Date(1_000).toUTCString(), 4_000), 0);
    assert.equal(parseRetryAfter(null), undefined);
    assert.equal(parseRetryAfter('soon'), undefined);
  });

  test('decodes a room list and a page of messages', async () => {
    const rooms = [{ room: 'lobby', members: 2, lastActivity: 5 }];
    assert.deepEqual(await fetchRoomList('/api/rooms', { fetch: respond(200, { rooms }) }), rooms);
    const page = { room: 'lobby', hasMore: false, messages: [] };
    assert.deepEqual(await fetchOlderMessages('/x', { fetch: respond(200, page) }), page);
  });

  test('failures become sentences: refused, unreachable, or not understood', async () => {
    await assert.rejects(
      fetchRoomList('/api/rooms', { fetch: respond(503, { error: 'unavailable', message: 'Try again shortly.' }) }),
      /The server refused: Try again shortly\./,
    );
    await assert.rejects(
      fetchRoomList('/api/rooms', {
        fetch: async () => {
          throw new TypeError('Failed to fetch');
        },
      }),
      /Could not reach the server/,
    );
    await assert.rejects(
      fetchRoomList('/api/rooms', { fetch: respond(200, { rooms: [{ room: 1 }] }) }),
      /does not understand/,
    );
  });
});

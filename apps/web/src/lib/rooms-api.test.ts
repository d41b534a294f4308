import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { fetchOlderMessages, fetchRoomList, olderMessagesPath } from './rooms-api.ts';

const respond = (status: number, body: unknown) => async () => new Response(JSON.stringify(body), { status });

describe('rooms API', () => {
  test('the scroll-back path encodes the room and asks for a page before an id', () => {
    assert.equal(olderMessagesPath('한국어', '17-3', 20), '/api/rooms/%ED%95%9C%EA%B5%AD%EC%96%B4/messages?before=17-3&limit=20');
    assert.equal(olderMessagesPath('lobby', '17-3'), '/api/rooms/lobby/messages?before=17-3');
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
    await assert.rejects(fetchRoomList('/api/rooms', { fetch: respond(200, { rooms: [{ room: 1 }] }) }), /does not understand/);
  });
});

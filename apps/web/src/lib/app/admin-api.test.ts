/**
 * The operator page's requests for a room's messages, a message's deletion and an invite: the
 * paths, methods, bodies and token they carry, and the server's refusal as a sentence.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { AdminApi } from './admin-api.ts';
import { ApiError } from './rooms-api.ts';

/** A fetch that gives the answers in turn and records what was asked. */
function answers(...list: { status: number; body?: unknown }[]) {
  const asked: { url: string; method: string; body: unknown; authorization: string | undefined }[] = [];
  const fetch = async (url: string, init: RequestInit) => {
    const headers = init.headers as Record<string, string>;
    asked.push({
      url,
      method: init.method ?? 'GET',
      body: typeof init.body === 'string' ? JSON.parse(init.body) : undefined,
      authorization: headers.authorization,
    });
    const answer = list.shift() ?? { status: 500, body: { error: 'internal', message: 'no more answers' } };
    return new Response(answer.body === undefined ? null : JSON.stringify(answer.body), { status: answer.status });
  };
  return { asked, api: new AdminApi('the-token', (path) => `http://chat.test${path}`, fetch) };
}

const message = { type: 'message', id: '5-0', room: 'café', ts: 5, user: { id: 'u_bob', name: 'Bob' }, text: 'hi' };

describe('the operator API: messages and invites', () => {
  test('a page of a room’s messages, older ones before an id', async () => {
    const { asked, api } = answers(
      { status: 200, body: { room: 'café', messages: [message], hasMore: true } },
      { status: 200, body: { room: 'café', messages: [], hasMore: false } },
    );
    const page = await api.messages('café', { limit: 20 });
    assert.deepEqual(
      page.messages.map((m) => m.id),
      ['5-0'],
    );
    assert.equal(page.hasMore, true);
    await api.messages('café', { before: '5-0', limit: 20 });
    assert.deepEqual(
      asked.map((a) => [a.method, a.url, a.authorization]),
      [
        ['GET', 'http://chat.test/api/admin/rooms/caf%C3%A9/messages?limit=20', 'Bearer the-token'],
        ['GET', 'http://chat.test/api/admin/rooms/caf%C3%A9/messages?before=5-0&limit=20', 'Bearer the-token'],
      ],
    );
  });

  test('deleting a message: DELETE its path; a refusal carries the server’s sentence', async () => {
    const { asked, api } = answers(
      { status: 200, body: { eventId: '6-0' } },
      { status: 404, body: { error: 'not_found', message: 'No such message in this room.' } },
    );
    assert.deepEqual(await api.deleteMessage('lobby', '5-0'), { eventId: '6-0' });
    await assert.rejects(
      api.deleteMessage('lobby', '5-0'),
      (error: unknown) =>
        error instanceof ApiError &&
        error.status === 404 &&
        error.message === 'The server refused: No such message in this room.',
    );
    assert.deepEqual(
      asked.map((a) => [a.method, a.url]),
      [
        ['DELETE', 'http://chat.test/api/admin/rooms/lobby/messages/5-0'],
        ['DELETE', 'http://chat.test/api/admin/rooms/lobby/messages/5-0'],
      ],
    );
  });

  test('an invite: POST with how long it works (or an empty body for the server’s default)', async () => {
    const made = { invite: 'x.y.z', url: 'http://chat.test/chat/lobby/?invite=x.y.z', expiresTs: 10 };
    const { asked, api } = answers({ status: 201, body: made }, { status: 201, body: made });
    assert.deepEqual(await api.invite('lobby', 3600), made);
    await api.invite('lobby');
    assert.deepEqual(
      asked.map((a) => [a.method, a.url, a.body]),
      [
        ['POST', 'http://chat.test/api/admin/rooms/lobby/invites', { expiresInSeconds: 3600 }],
        ['POST', 'http://chat.test/api/admin/rooms/lobby/invites', {}],
      ],
    );
  });
});

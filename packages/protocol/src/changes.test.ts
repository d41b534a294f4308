import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeClientFrame, decodeServerFrame, encodeFrame } from './codec.ts';
import { checkEmoji, isEmoji, MAX_EMOJI_LENGTH } from './emoji.ts';
import type { ServerFrame } from './server-frames.ts';

const id = '1700000000000-0';
const user = { id: 'u_abcdefghijkl', name: 'Alice' };

test('emoji: exactly one emoji of the recommended set, sequences included', () => {
  for (const emoji of ['👍', '👍🏽', '❤️', '🇫🇷', '1️⃣', '👨‍👩‍👧', '🏳️‍🌈']) assert.ok(isEmoji(emoji), emoji);
  for (const notOne of ['', 'a', ':+1:', '👍👍', '👍 ', ' 👍', '<script>', '\u200d', '❤'.repeat(40)]) {
    const result = checkEmoji(notOne);
    assert.ok(!result.ok && result.code === 'bad_frame', JSON.stringify(notOne));
  }
  assert.ok(!isEmoji('😀'.repeat(MAX_EMOJI_LENGTH)), 'long strings are refused before the pattern runs');
});

test('client change frames decode; a change needs its message id, clientMsgId and (for reactions) one emoji', () => {
  const good = [
    { type: 'edit', id, text: 'fixed', clientMsgId: 'e1' },
    { type: 'delete', id, clientMsgId: 'd1' },
    { type: 'react', id, emoji: '👍', clientMsgId: 'r1' },
    { type: 'unreact', id, emoji: '👍', clientMsgId: 'r2' },
    { type: 'message', text: 'answer', clientMsgId: 'm1', replyTo: id },
  ];
  for (const frame of good) assert.deepEqual(decodeClientFrame(JSON.stringify(frame)), { ok: true, value: frame });
  const bad = [
    { type: 'edit', id, clientMsgId: 'e1' },
    { type: 'edit', id: 'not-an-id', text: 'x', clientMsgId: 'e1' },
    { type: 'delete', id },
    { type: 'react', id, emoji: 'yes', clientMsgId: 'r1' },
    { type: 'react', id, clientMsgId: 'r1' },
    { type: 'message', text: 'answer', clientMsgId: 'm1', replyTo: '01-0' },
  ];
  for (const frame of bad) {
    const result = decodeClientFrame(JSON.stringify(frame));
    assert.ok(!result.ok && result.code === 'bad_frame', JSON.stringify(frame));
  }
});

test('server frames: changes and a message in its latest state round-trip', () => {
  const frames: ServerFrame[] = [
    { type: 'edit', id, text: 'new', editedTs: 1700000001000, eventId: '1700000001000-0' },
    { type: 'delete', id, eventId: '1700000002000-0' },
    { type: 'reactions', id, reactions: [{ emoji: '👍', count: 1, userIds: [user.id] }], eventId: '1700000003000-0' },
    { type: 'message', id, ts: 1, room: 'lobby', user, deleted: true },
    {
      type: 'message',
      id: '1700000004000-0',
      ts: 1700000004000,
      room: 'lobby',
      user,
      text: 'yes',
      replyTo: { id, user, excerpt: 'lunch?' },
      editedTs: 1700000005000,
      reactions: [{ emoji: '🎉', count: 2, userIds: ['a', 'b'] }],
    },
  ];
  for (const frame of frames) assert.deepEqual(decodeServerFrame(encodeFrame(frame)), { ok: true, value: frame });
  const notDeleted = decodeServerFrame(JSON.stringify({ ...frames[3], deleted: false }));
  assert.equal(notDeleted.ok, false, '`deleted` is true or absent');
});

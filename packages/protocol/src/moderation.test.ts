import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodeClientFrame, decodeServerFrame, encodeFrame } from './codec.ts';
import {
  DEFAULT_PURGE_SECONDS,
  MAX_MODERATION_SECONDS,
  MAX_PURGE_SECONDS,
  mayModerate,
  purgeWindowSeconds,
} from './moderation.ts';

const purge = (extra: Record<string, unknown> = {}) =>
  JSON.stringify({ type: 'moderate', action: 'purge', userId: 'u_carl', clientMsgId: 'p1', ...extra });

test('a purge reaches back an hour unless asked otherwise, and 7 days at most', () => {
  assert.equal(purgeWindowSeconds(undefined), DEFAULT_PURGE_SECONDS);
  assert.equal(purgeWindowSeconds(900), 900);
  assert.equal(purgeWindowSeconds(MAX_PURGE_SECONDS), MAX_PURGE_SECONDS);
  assert.equal(purgeWindowSeconds(MAX_PURGE_SECONDS + 1), undefined);

  assert.equal(decodeClientFrame(purge()).ok, true);
  assert.equal(decodeClientFrame(purge({ durationSeconds: MAX_PURGE_SECONDS })).ok, true);
  const tooFar = decodeClientFrame(purge({ durationSeconds: MAX_PURGE_SECONDS + 1, reason: 'spam' }));
  assert.deepEqual(tooFar.ok ? undefined : [tooFar.code, tooFar.message.startsWith('durationSeconds:')], [
    'bad_frame',
    true,
  ]);
  // Other actions keep their own bound (a ban may last a year).
  const ban = { type: 'moderate', action: 'ban', userId: 'u_carl', clientMsgId: 'b1' };
  assert.equal(decodeClientFrame(JSON.stringify({ ...ban, durationSeconds: MAX_MODERATION_SECONDS })).ok, true);
});

test('a purge is for the owner and moderators, on people below them', () => {
  assert.equal(mayModerate('owner', 'purge', 'moderator'), true);
  assert.equal(mayModerate('moderator', 'purge', 'member'), true);
  assert.equal(mayModerate('moderator', 'purge', 'moderator'), false);
  assert.equal(mayModerate('member', 'purge', 'member'), false);
});

test('the moderation event of a purge carries how many messages went', () => {
  const frame = {
    type: 'moderation',
    action: 'purge',
    user: { id: 'u_carl', name: 'Carl' },
    by: { id: 'u_olga', name: 'Olga' },
    count: 12,
    eventId: '1796301200000-0',
  } as const;
  const decoded = decodeServerFrame(encodeFrame(frame));
  assert.deepEqual(decoded.ok ? decoded.value : decoded, frame);
  assert.equal(decodeServerFrame(JSON.stringify({ ...frame, count: -1 })).ok, false);
});

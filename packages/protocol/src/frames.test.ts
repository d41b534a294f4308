import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeClientFrame, decodeServerFrame, encodeFrame } from './codec.ts';
import { parseDisplayName } from './display-name.ts';
import { compareMessageIds } from './message-id.ts';
import type { ServerFrame } from './server-frames.ts';

const user = { id: 'u_abcdefghijkl', name: 'Alice' };
/** A member as the server lists it since names you can trust (a client keeps every field). */
const member = { ...user, tag: 'k3f9', role: 'owner' as const, look: ['f559793b'] };
const message: ServerFrame = {
  type: 'message',
  id: '1700000000000-0',
  ts: 1700000000000,
  room: 'lobby',
  user,
  text: 'hi',
};

test('client frames: message and typing decode; anything else is bad_frame', () => {
  assert.deepEqual(decodeClientFrame('{"type":"typing"}'), { ok: true, value: { type: 'typing' } });
  const ok = decodeClientFrame('{"type":"message","text":"hi","clientMsgId":"c-1"}');
  assert.ok(ok.ok);
  const cases = [
    '{"type":"message","text":"hi"}',
    '{"type":"message","text":"hi","clientMsgId":""}',
    `{"type":"message","text":"hi","clientMsgId":"${'x'.repeat(65)}"}`,
    '{"type":"message","text":"hi","clientMsgId":"a b"}',
    '{"type":"message","text":5,"clientMsgId":"c"}',
    '{"type":"welcome"}',
    '{"text":"no type"}',
  ];
  for (const text of cases) {
    const result = decodeClientFrame(text);
    assert.equal(result.ok, false, text);
    if (!result.ok) assert.equal(result.code, 'bad_frame');
  }
  const notJson = decodeClientFrame('{');
  assert.ok(!notJson.ok && notJson.code === 'bad_json');
});

test('server frames round-trip through encodeFrame and decodeServerFrame', () => {
  const frames: ServerFrame[] = [
    {
      type: 'welcome',
      room: 'lobby',
      you: user,
      token: 't',
      members: [user, member],
      history: [message],
      recovered: false,
      hasMore: true,
    },
    message,
    { ...message, clientMsgId: 'c1' },
    { type: 'join', user, ts: 1 },
    { type: 'join', user: member, ts: 1 },
    { type: 'leave', user, ts: 2 },
    { type: 'typing', user },
    { type: 'ack', clientMsgId: 'c1', id: '1-0' },
    { type: 'error', code: 'rate_limited', message: 'slow down' },
    { type: 'status', degraded: true, message: 'reconnecting to the message bus' },
  ];
  for (const frame of frames) {
    const decoded = decodeServerFrame(encodeFrame(frame));
    assert.ok(decoded.ok, frame.type);
    assert.deepEqual(decoded.value, frame);
  }
  assert.equal(decodeServerFrame('{"type":"message","id":"not-an-id"}').ok, false);
  assert.equal(decodeServerFrame('{"type":"error","code":"made_up","message":"x"}').ok, false);
});

test('a member marked lookalike by the server keeps the mark; only `true` is a mark', () => {
  const marked = { ...member, lookalike: true as const };
  const welcome: ServerFrame = {
    type: 'welcome',
    room: 'lobby',
    you: user,
    token: 't',
    members: [marked, { ...user, id: 'u_other', look: ['f559793b'] }],
    history: [],
    recovered: false,
    hasMore: false,
  };
  for (const frame of [welcome, { type: 'join', user: marked, ts: 1 } satisfies ServerFrame]) {
    const decoded = decodeServerFrame(encodeFrame(frame));
    assert.ok(decoded.ok, frame.type);
    assert.deepEqual(decoded.value, frame);
  }
  for (const mark of ['false', '"yes"', '1'])
    assert.equal(
      decodeServerFrame(`{"type":"join","user":${JSON.stringify(member).slice(0, -1)},"lookalike":${mark}},"ts":1}`).ok,
      false,
      mark,
    );
});

test('display names are trimmed, collapsed and bounded', () => {
  assert.deepEqual(parseDisplayName('  Ada   Lovelace '), { ok: true, value: 'Ada Lovelace' });
  assert.ok(parseDisplayName('김민수').ok);
  assert.equal(parseDisplayName('x'.repeat(32)).ok, true);
  assert.equal(parseDisplayName('x'.repeat(33)).ok, false);
  assert.equal(parseDisplayName('   ').ok, false);
  assert.equal(parseDisplayName('zero\u200bwidth').ok, false);
  assert.equal(parseDisplayName('bell\u0007').ok, false);
  assert.equal(parseDisplayName('rtl\u202eoverride').ok, false);
});

test('message ids compare numerically, not as strings', () => {
  assert.ok(compareMessageIds('999-0', '1000-0') < 0);
  assert.ok(compareMessageIds('1000-9', '1000-10') < 0);
  assert.ok(compareMessageIds('1000-10', '1000-9') > 0);
  assert.equal(compareMessageIds('5-5', '5-5'), 0);
  const sorted = ['10-0', '9-1', '9-0', '100-0'].sort(compareMessageIds);
  assert.deepEqual(sorted, ['9-0', '9-1', '10-0', '100-0']);
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as v from 'valibot';
import { decodeReferenceClientFrame, encodeError, encodeReferenceMessage } from './codec.ts';
import { ErrorFrameSchema } from './server-frames.ts';
import { ReferenceServerFrameSchema } from './reference-frames.ts';
import { checkMessageText, utf8ByteLength } from './text.ts';
import { chatSocketPath, roomPagePath } from './paths.ts';

test('decodes the reference client frame and ignores extra keys', () => {
  assert.deepEqual(decodeReferenceClientFrame('{"message":"hi"}'), { ok: true, value: { message: 'hi' } });
  const extra = decodeReferenceClientFrame('{"message":"hi","x":1}');
  assert.ok(extra.ok);
  assert.equal(extra.value.message, 'hi');
});

test('refuses bad frames with stable codes, never throwing', () => {
  const cases: Array<[string, string]> = [
    ['', 'bad_json'],
    ['{', 'bad_json'],
    ['null', 'bad_frame'],
    ['"text"', 'bad_frame'],
    ['[]', 'bad_frame'],
    ['{"message": 1}', 'bad_frame'],
    ['{"msg": "x"}', 'bad_frame'],
  ];
  for (const [text, code] of cases) {
    const result = decodeReferenceClientFrame(text);
    assert.equal(result.ok, false, text);
    if (!result.ok) {
      assert.equal(result.code, code, text);
      assert.ok(result.message.length > 0);
    }
  }
});

test('encodes exactly the reference shape', () => {
  assert.equal(encodeReferenceMessage('a "quoted" <b>'), '{"message":"a \\"quoted\\" <b>"}');
  assert.ok(v.is(ReferenceServerFrameSchema, JSON.parse(encodeReferenceMessage('x'))));
});

test('error frames validate against their schema', () => {
  const frame = JSON.parse(encodeError('too_large', 'too big', 'c1'));
  assert.ok(v.is(ErrorFrameSchema, frame));
  assert.deepEqual(frame, { type: 'error', code: 'too_large', message: 'too big', clientMsgId: 'c1' });
  assert.deepEqual(Object.keys(JSON.parse(encodeError('bad_json', 'x'))), ['type', 'code', 'message']);
});

test('message text: blank, too large and control characters are refused', () => {
  assert.deepEqual(checkMessageText('hello\nworld\ttab'), { ok: true, value: 'hello\nworld\ttab' });
  assert.equal(checkMessageText(' \n\t ').ok, false);
  assert.equal(checkMessageText('x'.repeat(4097)).ok, false);
  assert.equal(checkMessageText('x'.repeat(4096)).ok, true);
  // 2,000 three-byte characters are 6,000 bytes.
  const wide = checkMessageText('가'.repeat(2000));
  assert.equal(wide.ok, false);
  if (!wide.ok) assert.equal(wide.code, 'too_large');
  assert.equal(checkMessageText('a\u0000b').ok, false);
  assert.equal(checkMessageText('esc\u001b[31m').ok, false);
  assert.equal(checkMessageText('c1\u0085').ok, false);
});

test('UTF-8 length matches Buffer.byteLength', () => {
  for (const s of ['', 'abc', 'é', '가', '😀', 'a😀b가é', '\u{10FFFF}']) {
    assert.equal(utf8ByteLength(s), Buffer.byteLength(s, 'utf8'), s);
  }
});

test('paths percent-encode room names', () => {
  assert.equal(chatSocketPath('한국어'), '/ws/chat/%ED%95%9C%EA%B5%AD%EC%96%B4/');
  assert.equal(roomPagePath('room_1'), '/chat/room_1/');
});

test('paths: history pages with before, after and limit, the room percent-encoded', async () => {
  const { roomMessagesPath, ROOM_LIST_PATH } = await import('./paths.ts');
  assert.equal(ROOM_LIST_PATH, '/api/rooms');
  assert.equal(roomMessagesPath('lobby'), '/api/rooms/lobby/messages');
  assert.equal(
    roomMessagesPath('한국어', { before: '5-0', limit: 20 }),
    '/api/rooms/%ED%95%9C%EA%B5%AD%EC%96%B4/messages?before=5-0&limit=20',
  );
  assert.equal(roomMessagesPath('a', { after: '1-2' }), '/api/rooms/a/messages?after=1-2');
});

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { referenceProtocol } from './chat-protocol.ts';

describe('referenceProtocol', () => {
  test('encodes a message exactly as the Django tutorial page does', () => {
    assert.equal(referenceProtocol.encodeMessage('hi "there" <b>'), '{"message":"hi \\"there\\" <b>"}');
    assert.deepEqual(referenceProtocol.subprotocols, []);
  });

  test('decodes chat messages, keeping markup as plain text', () => {
    assert.deepEqual(referenceProtocol.decode('{"message":"<img src=x onerror=alert(1)>"}'), {
      kind: 'message',
      text: '<img src=x onerror=alert(1)>',
    });
    assert.deepEqual(referenceProtocol.decode('{"message":"한국어 ✓"}'), { kind: 'message', text: '한국어 ✓' });
  });

  test('decodes error frames', () => {
    const frame = JSON.stringify({ type: 'error', code: 'too_large', message: 'Message is too long.' });
    assert.deepEqual(referenceProtocol.decode(frame), { kind: 'error', code: 'too_large', message: 'Message is too long.' });
  });

  test('shows error frames with codes this build does not know', () => {
    const frame = JSON.stringify({ type: 'error', code: 'brand_new', message: 'Something new.' });
    assert.deepEqual(referenceProtocol.decode(frame), { kind: 'error', code: 'brand_new', message: 'Something new.' });
  });

  test('anything else is unknown, never a throw', () => {
    for (const data of ['not json', '42', 'null', '{"message":5}', '{"type":"hello"}', '[]']) {
      assert.equal(referenceProtocol.decode(data).kind, 'unknown', data);
    }
  });
});

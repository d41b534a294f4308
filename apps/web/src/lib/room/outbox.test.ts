import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { CLIENT_MSG_ID_PATTERN, type MessageFrame } from '@parley/protocol';
import {
  addToOutbox,
  awaitingSend,
  discard,
  keptOutbox,
  markAcked,
  markDisconnected,
  markFailed,
  markRetry,
  markSending,
  newClientMsgId,
  removeDelivered,
  renewClientMsgId,
  restoreOutbox,
  timedOut,
} from './outbox.ts';

const me = { id: 'u_me', name: 'Me' };
const echo = (clientMsgId: string, id: string, user = me): MessageFrame => ({
  type: 'message',
  id,
  room: 'r',
  user,
  text: 'hi',
  ts: 1,
  clientMsgId,
});
const states = (o: readonly { clientMsgId: string; state: string }[]) => o.map((i) => `${i.clientMsgId}:${i.state}`);

describe('newClientMsgId', () => {
  test('matches the protocol pattern and differs each time', () => {
    const a = newClientMsgId();
    const b = newClientMsgId();
    assert.match(a, CLIENT_MSG_ID_PATTERN);
    assert.notEqual(a, b);
    assert.equal(newClientMsgId(() => 'x'.repeat(100)).length, 64);
  });
});

describe('outbox', () => {
  test('offline: pending, then sending after the welcome, then sent, then gone when it arrives', () => {
    let o = addToOutbox([], 'a', 'hi', 1);
    assert.deepEqual(states(o), ['a:pending']);
    assert.deepEqual(
      awaitingSend(o).map((i) => i.clientMsgId),
      ['a'],
    );
    o = markSending(o, ['a'], 2);
    assert.deepEqual(states(o), ['a:sending']);
    o = markAcked(o, 'a', '5-0');
    assert.deepEqual(states(o), ['a:sent']);
    assert.equal(awaitingSend(o).length, 0, 'an acked message is never resent');
    o = removeDelivered(o, [echo('other', '5-0', { id: 'u_x', name: 'X' })], me.id);
    assert.deepEqual(o, [], 'matched by the acked id');
  });

  test('the echo may come before the ack; it is matched by clientMsgId, only from the same person', () => {
    let o = markSending(addToOutbox([], 'a', 'hi', 1), ['a'], 2);
    assert.equal(removeDelivered(o, [echo('a', '5-0', { id: 'u_x', name: 'X' })], me.id), o);
    o = removeDelivered(o, [echo('a', '5-0')], me.id);
    assert.deepEqual(o, []);
  });

  test('a dropped connection puts unanswered messages back to pending; failed ones stay failed', () => {
    let o = addToOutbox(addToOutbox([], 'a', 'one', 1), 'b', 'two', 1);
    o = markSending(o, ['a', 'b'], 2);
    o = markFailed(o, 'b', 'too large');
    o = markDisconnected(o);
    assert.deepEqual(states(o), ['a:pending', 'b:failed']);
    assert.equal(o[1]?.error, 'too large');
  });

  test('retry makes a failed message pending again, with the same clientMsgId; discard drops it', () => {
    let o = markFailed(markSending(addToOutbox([], 'a', 'hi', 1), ['a'], 2), 'a', 'unavailable');
    assert.deepEqual(states(markRetry(o, 'a')), ['a:pending']);
    assert.deepEqual(discard(o, 'a'), []);
    o = markAcked(o, 'a', '9-0');
    assert.deepEqual(states(o), ['a:sent'], 'a late ack wins over a timeout');
    assert.equal(markFailed(o, 'a', 'late error'), o, 'an acked message cannot fail');
  });

  test('a message refused because its clientMsgId holds another text gets a new one for Retry', () => {
    const o = markFailed(markSending(addToOutbox([], 'a', 'hi', 1), ['a'], 2), 'a', 'clientMsgId reused');
    const renewed = renewClientMsgId(o, 'a', 'b');
    assert.deepEqual(states(renewed), ['b:failed']);
    assert.equal(renewed[0]?.text, 'hi');
    assert.deepEqual(states(markRetry(renewed, 'b')), ['b:pending']);
    const sending = markSending(addToOutbox([], 'a', 'hi', 1), ['a'], 2);
    assert.equal(renewClientMsgId(sending, 'a', 'b'), sending, 'only a failed message');
  });

  test('times out messages on the wire too long', () => {
    let o = addToOutbox(addToOutbox([], 'a', 'one', 1), 'b', 'two', 1);
    o = markSending(o, ['a'], 1_000);
    o = markSending(o, ['b'], 5_000);
    assert.deepEqual(timedOut(o, 10_999, 10_000), []);
    assert.deepEqual(timedOut(o, 11_000, 10_000), ['a']);
  });
});

describe('keeping the outbox across a reload', () => {
  test('keeps what the server has not confirmed: on the wire comes back pending, failed stays failed, acked is left out', () => {
    let o = addToOutbox(
      addToOutbox(addToOutbox(addToOutbox([], 'c-a', 'one', 1), 'c-b', 'two', 2), 'c-c', 'three', 3),
      'c-d',
      'four',
      4,
    );
    o = markSending(o, ['c-b', 'c-c', 'c-d'], 5);
    o = markAcked(o, 'c-c', '9-0');
    o = markFailed(o, 'c-d', 'too many messages');
    const kept = keptOutbox(o);
    assert.deepEqual(kept, [
      { clientMsgId: 'c-a', text: 'one', createdAt: 1, state: 'pending' },
      { clientMsgId: 'c-b', text: 'two', createdAt: 2, state: 'pending' },
      { clientMsgId: 'c-d', text: 'four', createdAt: 4, state: 'failed', error: 'too many messages' },
    ]);
    const restored = restoreOutbox(JSON.parse(JSON.stringify(kept)));
    assert.deepEqual(restored, kept);
    assert.deepEqual(
      awaitingSend(restored).map((i) => i.clientMsgId),
      ['c-a', 'c-b'],
      'sent again after the welcome, same ids',
    );
  });

  test('skips anything malformed instead of sending it', () => {
    const good = { clientMsgId: 'c-ok', text: 'fine', createdAt: 1, state: 'pending' };
    assert.deepEqual(restoreOutbox(null), []);
    assert.deepEqual(restoreOutbox({ clientMsgId: 'c-x' }), []);
    assert.deepEqual(
      restoreOutbox([
        good,
        null,
        'text',
        { ...good, clientMsgId: 'has space' },
        { ...good, clientMsgId: 'c-empty', text: '   ' },
        { ...good, clientMsgId: 'c-big', text: 'x'.repeat(100_000) },
        { ...good, clientMsgId: 'c-time', createdAt: 'yesterday' },
        { ...good, clientMsgId: 'c-sent', state: 'sent' },
        { ...good, text: 'a second copy of c-ok' },
      ]),
      [good],
    );
    assert.deepEqual(restoreOutbox([{ ...good, state: 'failed' }]), [{ ...good, state: 'failed', error: 'Not sent.' }]);
  });
});

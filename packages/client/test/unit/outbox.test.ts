import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { AckFrame, InviteFrame } from '@parley/protocol';
import { newClientMsgId, Outbox, ParleyError, type RequestFrame } from '../../src/index.ts';

const message = (clientMsgId: string, text = 'hi'): RequestFrame => ({ type: 'message', text, clientMsgId });
const ack = (clientMsgId: string, id: string): AckFrame => ({ type: 'ack', clientMsgId, id });
/** A backoff without jitter: always the shortest wait. */
const noJitter = { random: () => 0, retryBackoff: { minMs: 1_000, maxMs: 8_000 } };

test('a request is due at once, leaves `due` when sent, and resolves with its ack', async () => {
  const outbox = new Outbox();
  const answer = outbox.add(message('m1'), 0);
  assert.deepEqual(
    outbox.due(0).map((f) => f.clientMsgId),
    ['m1'],
  );
  outbox.markSent('m1', 0);
  assert.deepEqual(outbox.due(0), []);
  assert.equal(outbox.settle(ack('m1', '5-0')), true);
  assert.deepEqual(await answer, ack('m1', '5-0'));
  assert.equal(outbox.size, 0);
  // An ack for nothing held (another tab's, a late duplicate) is not ours.
  assert.equal(outbox.settle(ack('m1', '5-0')), false);
});

test('requests go out oldest first', () => {
  const outbox = new Outbox();
  for (const id of ['a', 'b', 'c']) void outbox.add(message(id), 0);
  assert.deepEqual(
    outbox.due(0).map((f) => f.clientMsgId),
    ['a', 'b', 'c'],
  );
});

test('a full outbox refuses with outbox_full, and takes requests again once answered', async () => {
  const outbox = new Outbox({ maxSize: 2 });
  void outbox.add(message('a'), 0);
  void outbox.add(message('b'), 0);
  await assert.rejects(
    outbox.add(message('c'), 0),
    (e: unknown) => e instanceof ParleyError && e.code === 'outbox_full',
  );
  outbox.settle(ack('a', '1-0'));
  void outbox.add(message('c'), 0);
  assert.equal(outbox.size, 2);
});

test('the same clientMsgId twice while the first waits is refused', async () => {
  const outbox = new Outbox();
  void outbox.add(message('a'), 0);
  await assert.rejects(
    outbox.add(message('a', 'other'), 0),
    (e: unknown) => e instanceof ParleyError && e.code === 'client_msg_id_reused',
  );
});

test('unavailable and rate_limited resend the same frame after a growing backoff, up to maxRetries', async () => {
  const outbox = new Outbox({ ...noJitter, maxRetries: 2 });
  const answer = outbox.add(message('m1'), 0);
  outbox.markSent('m1', 0);
  assert.equal(
    outbox.refuse({ type: 'error', code: 'unavailable', message: 'bus down', clientMsgId: 'm1' }, 100),
    'retrying',
  );
  // Not before the backoff ends (1 s with no jitter)…
  assert.deepEqual(outbox.due(1_099), []);
  assert.equal(outbox.nextWakeAt(), 1_100);
  // …then the very same frame.
  assert.deepEqual(outbox.due(1_100), [message('m1')]);
  outbox.markSent('m1', 1_100);
  assert.equal(
    outbox.refuse({ type: 'error', code: 'rate_limited', message: 'slow down', clientMsgId: 'm1' }, 1_200),
    'retrying',
  );
  // The window doubled: [1 s, 4 s), and no jitter takes its start.
  assert.deepEqual(outbox.due(2_199), []);
  outbox.markSent('m1', 2_200);
  // Third refusal: the cap is reached, and the promise rejects with the server's code.
  assert.equal(
    outbox.refuse({ type: 'error', code: 'unavailable', message: 'still down', clientMsgId: 'm1' }, 2_300),
    'rejected',
  );
  await assert.rejects(
    answer,
    (e: unknown) => e instanceof ParleyError && e.code === 'unavailable' && e.clientMsgId === 'm1',
  );
});

test('other refusals reject at once with the code, until and retryAfterMs', async () => {
  const outbox = new Outbox();
  const muted = outbox.add(message('m1'), 0);
  const slow = outbox.add(message('m2'), 0);
  outbox.refuse({ type: 'error', code: 'muted', message: 'muted', clientMsgId: 'm1', until: 99 }, 0);
  outbox.refuse({ type: 'error', code: 'slow_mode', message: 'wait', clientMsgId: 'm2', retryAfterMs: 4_000 }, 0);
  await assert.rejects(muted, (e: unknown) => e instanceof ParleyError && e.code === 'muted' && e.until === 99);
  await assert.rejects(
    slow,
    (e: unknown) => e instanceof ParleyError && e.code === 'slow_mode' && e.retryAfterMs === 4_000,
  );
  // An error about nothing held is not the outbox's.
  assert.equal(outbox.refuse({ type: 'error', code: 'bad_frame', message: '?' }, 0), 'unknown');
});

test('a request without an answer is resent after the ack timeout, then rejected with timeout', async () => {
  const outbox = new Outbox({ ackTimeoutMs: 1_000, maxRetries: 1 });
  const answer = outbox.add(message('m1'), 0);
  outbox.markSent('m1', 0);
  assert.equal(outbox.nextWakeAt(), 1_000);
  outbox.expire(999);
  assert.deepEqual(outbox.due(999), []);
  outbox.expire(1_000);
  assert.deepEqual(outbox.due(1_000), [message('m1')]);
  outbox.markSent('m1', 1_000);
  outbox.expire(2_000);
  await assert.rejects(answer, (e: unknown) => e instanceof ParleyError && e.code === 'timeout');
  assert.equal(outbox.size, 0);
});

test('a dropped connection puts requests on the wire back in line, without counting a retry', async () => {
  const outbox = new Outbox({ maxRetries: 0, ackTimeoutMs: 1_000 });
  const answer = outbox.add(message('m1'), 0);
  outbox.markSent('m1', 0);
  outbox.connectionLost();
  assert.deepEqual(outbox.due(10), [message('m1')]);
  // After a reconnect it goes out again and its ack still settles it: reconnects are not retries.
  outbox.markSent('m1', 10);
  outbox.connectionLost();
  outbox.markSent('m1', 20);
  outbox.settle(ack('m1', '7-0'));
  assert.equal((await answer).type, 'ack');
});

test('an invite request is settled by the invite frame', async () => {
  const outbox = new Outbox();
  const answer = outbox.add({ type: 'invite', clientMsgId: 'i1' }, 0);
  const invite: InviteFrame = { type: 'invite', invite: 'abc', expiresTs: 5, clientMsgId: 'i1' };
  assert.equal(outbox.settle(invite), true);
  assert.deepEqual(await answer, invite);
});

test('rejectAll rejects every request held', async () => {
  const outbox = new Outbox();
  const answers = [outbox.add(message('a'), 0), outbox.add(message('b'), 0)];
  outbox.rejectAll((clientMsgId) => new ParleyError('closed', 'closed', { clientMsgId }));
  for (const answer of answers)
    await assert.rejects(answer, (e: unknown) => e instanceof ParleyError && e.code === 'closed');
  assert.equal(outbox.size, 0);
});

test('client message ids are valid for the protocol and do not repeat', () => {
  const ids = new Set(Array.from({ length: 1_000 }, () => newClientMsgId()));
  assert.equal(ids.size, 1_000);
  for (const id of ids) assert.match(id, /^[A-Za-z0-9_-]{1,64}$/);
});

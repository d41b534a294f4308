import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { memoryStorage } from '../app/memory-storage.test-support.ts';
import { addToOutbox, markAcked, markSending } from './outbox.ts';
import { OutboxStorage } from './outbox-storage.ts';

describe('OutboxStorage', () => {
  test("a reloaded page gets the room's unsent messages back; acked ones and other rooms are not mixed in", () => {
    const storage = memoryStorage();
    const store = new OutboxStorage(storage);
    let lobby = addToOutbox(addToOutbox([], 'c-1', 'typed offline', 1), 'c-2', 'on the wire', 2);
    lobby = markSending(lobby, ['c-2'], 3);
    store.save('lobby', lobby);
    store.save('한국어', addToOutbox([], 'c-3', '안녕', 4));

    const again = new OutboxStorage(storage);
    assert.deepEqual(
      again.load('lobby').map((i) => `${i.clientMsgId}:${i.state}`),
      ['c-1:pending', 'c-2:pending'],
    );
    assert.deepEqual(
      again.load('한국어').map((i) => i.text),
      ['안녕'],
    );
    assert.deepEqual(again.load('elsewhere'), []);

    // Once the server confirmed everything, nothing is left behind in storage.
    store.save('lobby', markAcked(markAcked(lobby, 'c-1', '1-0'), 'c-2', '2-0'));
    assert.deepEqual(again.load('lobby'), []);
    assert.equal(storage.data.has('parley.outbox.lobby'), false);
  });

  test('full storage forgets the older copy rather than resend it later; no storage keeps nothing', () => {
    const storage = memoryStorage();
    const store = new OutboxStorage(storage);
    store.save('lobby', addToOutbox([], 'c-1', 'first', 1));
    storage.setItem = () => {
      throw new Error('QuotaExceededError');
    };
    store.save('lobby', addToOutbox(addToOutbox([], 'c-1', 'first', 1), 'c-2', 'second', 2));
    assert.deepEqual(store.load('lobby'), []);

    const none = new OutboxStorage(null);
    none.save('lobby', addToOutbox([], 'c-1', 'first', 1));
    assert.deepEqual(none.load('lobby'), []);

    storage.data.set('parley.outbox.broken', '{not json');
    assert.deepEqual(store.load('broken'), []);
  });
});

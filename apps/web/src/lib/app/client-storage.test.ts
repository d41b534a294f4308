import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ClientStorage } from './client-storage.ts';
import { memoryStorage } from './memory-storage.test-support.ts';

describe('ClientStorage', () => {
  test('remembers the name, the token and the last seen message per room', () => {
    const storage = memoryStorage();
    const store = new ClientStorage(storage);
    assert.equal(store.name(), null);
    assert.equal(store.token(), null);
    assert.equal(store.lastSeen('lobby'), null);

    store.setName('Alice');
    store.setToken('u_1.sig');
    store.setLastSeen('lobby', '17-0');
    store.setLastSeen('한국어', '18-2');

    const again = new ClientStorage(storage);
    assert.equal(again.name(), 'Alice');
    assert.equal(again.token(), 'u_1.sig');
    assert.equal(again.lastSeen('lobby'), '17-0');
    assert.equal(again.lastSeen('한국어'), '18-2');
    assert.equal(again.lastSeen('other'), null);
  });

  test('remembers the choice about mention notifications', () => {
    const storage = memoryStorage();
    const store = new ClientStorage(storage);
    assert.equal(store.notifyMentions(), null);
    store.setNotifyMentions(false);
    assert.equal(new ClientStorage(storage).notifyMentions(), false);
    store.setNotifyMentions(true);
    assert.equal(new ClientStorage(storage).notifyMentions(), true);
  });

  test('works, remembering nothing, without storage or when storage throws', () => {
    const none = new ClientStorage(null);
    none.setName('Alice');
    assert.equal(none.name(), null);

    const throwing = new ClientStorage({
      getItem: () => {
        throw new Error('SecurityError');
      },
      setItem: () => {
        throw new Error('QuotaExceededError');
      },
      removeItem: () => {
        throw new Error('SecurityError');
      },
    });
    assert.doesNotThrow(() => throwing.setToken('t'));
    assert.equal(throwing.token(), null);
  });
});

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { expireTypists, noteTyping, shouldSendTyping, stopTyping, typingText } from './typing.ts';

const bob = { id: 'u_b', name: 'Bob' };
const carol = { id: 'u_c', name: 'Carol' };

describe('typing', () => {
  test('a typing frame shows a name for a while; another one extends it', () => {
    let t = noteTyping([], bob, 1_000, 4_000);
    t = noteTyping(t, carol, 2_000, 4_000);
    t = noteTyping(t, bob, 3_000, 4_000);
    assert.deepEqual(
      t.map((x) => [x.user.name, x.until]),
      [
        ['Carol', 6_000],
        ['Bob', 7_000],
      ],
    );
    assert.deepEqual(
      expireTypists(t, 6_000).map((x) => x.user.name),
      ['Bob'],
    );
    assert.equal(expireTypists(t, 5_000), t);
    assert.deepEqual(
      stopTyping(t, bob.id).map((x) => x.user.name),
      ['Carol'],
    );
  });

  test('sentences for one, two, three and more people', () => {
    assert.equal(typingText([]), '');
    assert.equal(typingText(['Bob']), 'Bob is typing…');
    assert.equal(typingText(['Bob', 'Carol']), 'Bob and Carol are typing…');
    assert.equal(typingText(['Bob', 'Carol', 'Dan']), 'Bob, Carol and Dan are typing…');
    assert.equal(typingText(['Bob', 'Carol', 'Dan', 'Eve']), 'Bob, Carol and 2 others are typing…');
  });

  test('tells the room at most once per interval', () => {
    assert.equal(shouldSendTyping(null, 0), true);
    assert.equal(shouldSendTyping(1_000, 2_999, 2_000), false);
    assert.equal(shouldSendTyping(1_000, 3_000, 2_000), true);
  });
});

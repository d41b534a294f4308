import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { expireTypists, noteTyping, shouldSendTyping, stopTyping, typingSegments } from './typing.ts';

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
    const people = ['Bob', 'Carol', 'Dan', 'Eve'].map((name) => ({ id: `u_${name}`, name }));
    const text = (n: number) =>
      typingSegments(people.slice(0, n))
        .map((s) => s.text)
        .join('');
    assert.equal(text(0), '');
    assert.equal(text(1), 'Bob is typing…');
    assert.equal(text(2), 'Bob and Carol are typing…');
    assert.equal(text(3), 'Bob, Carol and Dan are typing…');
    assert.equal(text(4), 'Bob, Carol and 2 others are typing…');
  });

  test('names are pieces of their own, with the id for the tag', () => {
    const segments = typingSegments([
      { id: 'u_1', name: 'Bob' },
      { id: 'u_2', name: 'Carol' },
    ]);
    assert.deepEqual(
      segments.filter((s) => s.kind === 'name'),
      [
        { kind: 'name', text: 'Bob', userId: 'u_1' },
        { kind: 'name', text: 'Carol', userId: 'u_2' },
      ],
    );
  });

  test('tells the room at most once per interval', () => {
    assert.equal(shouldSendTyping(null, 0), true);
    assert.equal(shouldSendTyping(1_000, 2_999, 2_000), false);
    assert.equal(shouldSendTyping(1_000, 3_000, 2_000), true);
  });
});

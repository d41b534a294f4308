import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { User } from '@parley/protocol';
import { PresenceRun, presenceSegments, presenceText, SHOWN_NAMES } from './presence-run.ts';

const person = (name: string): User => ({ id: `u_${name}`, name });
const [alice, bob, carol, dave, erin] = ['Alice', 'Bob', 'Carol', 'Dave', 'Erin'].map(person) as [
  User,
  User,
  User,
  User,
  User,
];

function run(...frames: ['join' | 'leave', User][]): PresenceRun {
  const r = new PresenceRun();
  frames.forEach(([action, user], i) => r.add(action, user, i));
  return r;
}

const text = (r: PresenceRun) => presenceText(r.summary());

describe('presence lines', () => {
  test('names the few people who came or went', () => {
    assert.equal(text(run(['join', alice])), 'Alice joined');
    assert.equal(text(run(['join', alice], ['join', bob])), 'Alice and Bob joined');
    assert.equal(text(run(['join', alice], ['join', bob], ['join', carol])), 'Alice, Bob and Carol joined');
    assert.equal(text(run(['leave', alice])), 'Alice left');
    assert.equal(text(run(['join', alice], ['leave', bob])), 'Alice joined, Bob left');
  });

  test('counts everyone after the first few', () => {
    assert.equal(
      text(run(['join', alice], ['join', bob], ['join', carol], ['join', dave])),
      'Alice, Bob, Carol and 1 other joined',
    );
    const many = new PresenceRun();
    for (let i = 0; i < 12; i++) many.add('join', person(`P${i}`), i);
    assert.equal(presenceText(many.summary()), 'P0, P1, P2 and 9 others joined');
    for (let i = 0; i < 3; i++) many.add('leave', person(`Q${i}`), 20 + i);
    assert.equal(presenceText(many.summary()), 'P0, P1, P2 and 9 others joined, 3 people left');
    assert.equal(many.summary().people, 15);
    assert.equal(many.summary().ts, 22, 'the time of the latest frame');
  });

  test('someone who came and went, or went and came back, is said so, once', () => {
    assert.equal(text(run(['join', bob], ['leave', bob])), 'Bob joined and left');
    assert.equal(text(run(['join', bob], ['leave', bob], ['join', bob], ['leave', bob])), 'Bob joined and left');
    assert.equal(text(run(['leave', bob], ['join', bob])), 'Bob left and came back');
    assert.equal(
      text(
        run(
          ['join', alice],
          ['leave', bob],
          ['join', carol],
          ['leave', carol],
          ['join', bob],
          ['join', dave],
          ['leave', erin],
        ),
      ),
      'Alice and 1 other joined, 1 person left, Carol joined and left, Bob left and came back',
    );
  });

  test('a new name for a known id is used', () => {
    assert.equal(text(run(['join', alice], ['leave', { id: alice.id, name: 'Alicia' }])), 'Alicia joined and left');
  });

  test('names are separate segments, so a view can shorten each one', () => {
    const segments = presenceSegments(run(['join', alice], ['join', bob], ['join', carol], ['join', dave]).summary());
    assert.deepEqual(
      segments.filter((s) => s.kind === 'name').map((s) => s.text),
      ['Alice', 'Bob', 'Carol'],
    );
    assert.equal(segments.filter((s) => s.kind === 'name').length, SHOWN_NAMES);
    // Each name carries its user id, for the tag shown beside it.
    assert.deepEqual(
      segments.flatMap((s) => (s.kind === 'name' ? [s.userId] : [])),
      [alice.id, bob.id, carol.id],
    );
  });
});

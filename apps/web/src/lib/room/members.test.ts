import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { addMember, removeMember, sortMembers } from './members.ts';

const alice = { id: 'u_a', name: 'alice' };
const bob = { id: 'u_b', name: 'Bob' };
const me = { id: 'u_me', name: 'Zed' };

describe('members', () => {
  test('join adds once, leave removes', () => {
    let m = addMember([], bob);
    assert.equal(addMember(m, bob), m);
    m = addMember(m, alice);
    assert.deepEqual(m, [bob, alice]);
    assert.deepEqual(addMember(m, { id: 'u_b', name: 'Robert' }), [{ id: 'u_b', name: 'Robert' }, alice]);
    assert.deepEqual(removeMember(m, bob.id), [alice]);
    assert.equal(removeMember(m, 'nobody'), m);
  });

  test('sorted with you first, then by name regardless of case', () => {
    assert.deepEqual(sortMembers([bob, me, alice], me.id), [me, alice, bob]);
  });
});

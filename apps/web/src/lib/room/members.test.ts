import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { lookKeys, userTag, type Member } from '@parley/protocol';
import {
  addMember,
  headcountAfter,
  lookalikeMarks,
  mergeMembers,
  removeMember,
  searchMembers,
  sortMembers,
  welcomeHeadcount,
} from './members.ts';

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

  test('a known id is replaced when the server lists it otherwise (name, tag, role or look)', () => {
    const listed = { ...bob, tag: 'k3f9', role: 'member' as const, look: ['0000000b'] };
    const m = addMember([alice], listed);
    assert.equal(addMember(m, { ...listed, look: ['0000000b'] }), m, 'the same listing changes nothing');
    assert.deepEqual(addMember(m, { ...listed, role: 'moderator' }), [alice, { ...listed, role: 'moderator' }]);
    assert.deepEqual(addMember([bob], listed), [listed], 'an older listing gains the fields');
  });

  test('sorted with you first, then by name regardless of case', () => {
    assert.deepEqual(sortMembers([bob, me, alice], me.id), [me, alice, bob]);
  });

  test('numbers in names sort by value', () => {
    const guests = ['Guest 10', 'Guest 2', 'Guest 1', 'Guest 21'].map((name, i) => ({ id: `u_${i}`, name }));
    assert.deepEqual(
      sortMembers(guests, undefined).map((m) => m.name),
      ['Guest 1', 'Guest 2', 'Guest 10', 'Guest 21'],
    );
  });
});

describe('lookalikeMarks', () => {
  // Keys as a server sends them: deliberately not lookKeys of the names, to show they are what counts.
  const key = (n: number) => n.toString(16).padStart(8, '0');

  test("the server's mark counts though the one they look like is not loaded here (a big room)", () => {
    // The welcome's page: Alice marked by the server, her lookalike on a page not loaded.
    let members: Member[] = [
      { id: 'a', name: 'Alice', look: [key(1)], lookalike: true },
      { id: 'c', name: 'Bob', look: [key(2)] },
    ];
    assert.deepEqual(lookalikeMarks(members), new Set(['a']));
    // The lookalike's page comes in: both marked, whatever the order.
    members = [...mergeMembers(members, [{ id: 'b', name: '\u0410lice', look: [key(1)], lookalike: true }])];
    assert.deepEqual(lookalikeMarks(members), new Set(['a', 'b']));
    // A later listing without the mark replaces the stale one.
    assert.deepEqual(lookalikeMarks(addMember([members[1]!], { id: 'a', name: 'Alice', look: [key(1)] })), new Set());
  });

  test('a join marks the newcomer; the member already here is marked by the local comparison', () => {
    const here = [{ id: 'a', name: 'Alice', look: [key(1)] }];
    const joined = addMember(here, { id: 'b', name: '\u0410lice', look: [key(1)], lookalike: true });
    assert.deepEqual(lookalikeMarks(joined), new Set(['a', 'b']));
    // The newcomer leaves: nobody is marked any more.
    assert.deepEqual(lookalikeMarks(removeMember(joined, 'b')), new Set());
  });

  test("a leave takes the server's mark off those who shared a key with the one leaving, and only them", () => {
    const members = [
      { id: 'a', name: 'Alice', look: [key(1)], lookalike: true as const },
      { id: 'b', name: '\u0410lice', look: [key(1)], lookalike: true as const },
      { id: 'c', name: 'Bob', look: [key(2)], lookalike: true as const }, // his lookalike is not loaded
    ];
    const after = removeMember(members, 'b');
    assert.deepEqual(after, [{ id: 'a', name: 'Alice', look: [key(1)] }, members[2]]);
    assert.deepEqual(lookalikeMarks(after), new Set(['c']));
    // Three alike, one leaves: the two left still share the key here.
    const three = [...members.slice(0, 2), { id: 'd', name: 'ALICE', look: [key(1)] }];
    assert.deepEqual(lookalikeMarks(removeMember(three, 'b')), new Set(['a', 'd']));
  });

  test('members sharing a look key are marked, and nobody else', () => {
    const marked = lookalikeMarks([
      { id: 'a', name: 'Alice', look: [key(1)] },
      { id: 'b', name: '\u0410lice', look: [key(1)] },
      { id: 'c', name: 'Bob', look: [key(2)] },
    ]);
    assert.deepEqual(marked, new Set(['a', 'b']));
  });

  test("the server's keys decide, not this client's idea of the names", () => {
    // Names that differ, with one key: the server says they look alike (a newer confusables table).
    assert.deepEqual(
      lookalikeMarks([
        { id: 'a', name: 'Anna', look: [key(7)] },
        { id: 'b', name: 'Hanna', look: [key(7)] },
      ]),
      new Set(['a', 'b']),
    );
    // Names this client would mark, with different keys: not marked.
    assert.deepEqual(
      lookalikeMarks([
        { id: 'a', name: 'Alice', look: [key(1)] },
        { id: 'b', name: 'ALICE', look: [key(9)] },
      ]),
      new Set(),
    );
  });

  test('one shared key of two is enough; three alike are all marked; one person twice is not', () => {
    assert.deepEqual(
      lookalikeMarks([
        { id: 'a', name: 'x', look: [key(1), key(2)] },
        { id: 'b', name: 'y', look: [key(2)] },
        { id: 'c', name: 'z', look: [key(2), key(3)] },
        { id: 'd', name: 'w', look: [key(3)] },
        { id: 'e', name: 'v', look: [key(4)] },
      ]),
      new Set(['a', 'b', 'c', 'd']),
    );
    assert.deepEqual(
      lookalikeMarks([
        { id: 'a', name: 'Sam', look: [key(1)] },
        { id: 'a', name: 'Sam', look: [key(1)] },
      ]),
      new Set(),
    );
  });

  test('members without keys (an older server) are compared by their names, also with members that have keys', () => {
    assert.deepEqual(
      lookalikeMarks([
        { id: 'a', name: 'Alice' },
        { id: 'b', name: '\u0410lice' },
        { id: 'c', name: 'Bob' },
      ]),
      new Set(['a', 'b']),
    );
    assert.deepEqual(
      lookalikeMarks([
        { id: 'a', name: 'Alice', look: lookKeys('Alice') },
        { id: 'b', name: 'ALICE' },
        { id: 'c', name: 'Bob', look: lookKeys('Bob') },
      ]),
      new Set(['a', 'b']),
    );
  });

  test('nobody, or one person, marks nobody', () => {
    assert.deepEqual(lookalikeMarks([]), new Set());
    assert.deepEqual(lookalikeMarks([{ id: 'a', name: 'Alice', look: [key(1)] }]), new Set());
  });

  test('a big room: the welcome’s count and whether it lists everyone; joins and leaves move the count', () => {
    assert.deepEqual(welcomeHeadcount({ members: [alice, bob] }), { count: 2, complete: true }, 'an older server');
    const cut = welcomeHeadcount({ members: [alice, bob], memberCount: 500, hasMoreMembers: true });
    assert.deepEqual(cut, { count: 500, complete: false });
    assert.deepEqual(headcountAfter(cut, 'join', false), { count: 501, complete: false });
    assert.deepEqual(headcountAfter(cut, 'join', true), cut, 'someone already listed');
    assert.deepEqual(headcountAfter(cut, 'leave', false), { count: 499, complete: false }, 'someone not listed left');
    const whole = { count: 2, complete: true };
    assert.deepEqual(headcountAfter(whole, 'leave', true), { count: 1, complete: true });
    assert.deepEqual(headcountAfter(whole, 'leave', false), whole, 'nobody the list had');
    assert.deepEqual(headcountAfter({ count: 0, complete: false }, 'leave', false), { count: 0, complete: false });
  });

  test('member pages merge by id', () => {
    const merged = mergeMembers([alice], [alice, bob, { id: 'u_a', name: 'alice', role: 'owner' }]);
    assert.deepEqual(merged, [{ id: 'u_a', name: 'alice', role: 'owner' }, bob]);
  });
});

describe('searchMembers', () => {
  const zoe = { id: 'u_z', name: 'Zoë Ångström' };
  const people = [alice, bob, zoe, me];

  test('a blank search is everyone, in the same order', () => {
    assert.equal(searchMembers(people, '  '), people);
  });

  test('any part of a name, whatever the case and accents', () => {
    assert.deepEqual(searchMembers(people, 'ALI'), [alice]);
    assert.deepEqual(searchMembers(people, 'zoe'), [zoe]);
    assert.deepEqual(searchMembers(people, 'angstr'), [zoe]);
    assert.deepEqual(searchMembers(people, 'o'), [bob, zoe]);
    assert.deepEqual(searchMembers(people, 'nobody'), []);
  });

  test('#tag finds a person by the start of their tag; a whole tag also without #', () => {
    const tag = userTag(bob.id);
    assert.deepEqual(
      searchMembers(people, `#${tag.slice(0, 2)}`)
        .map((m) => m.id)
        .includes(bob.id),
      true,
    );
    assert.deepEqual(
      searchMembers(people, `#${tag}`),
      people.filter((m) => userTag(m.id) === tag),
    );
    assert.ok(searchMembers(people, tag.toUpperCase()).some((m) => m.id === bob.id));
    // The server's tag when it sent one.
    assert.deepEqual(searchMembers([{ ...alice, tag: 'qqqq' }], '#qq').length, 1);
  });
});

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  avatarColour,
  LOOK_KEY_LENGTH,
  lookalikeIds,
  lookKeys,
  nameSkeleton,
  USER_TAG_LENGTH,
  userTag,
} from './names.ts';

describe('userTag', () => {
  test('four characters of a lookalike-free alphabet, the same for the same id', () => {
    for (const id of ['u_Qm9iLWlzLWhl', 'u_T3RoZXItcGVy', '', 'u_한국어']) {
      const tag = userTag(id);
      assert.match(tag, /^[0-9a-hjkmnp-tv-z]{4}$/, `${tag} for ${id}`);
      assert.equal(tag.length, USER_TAG_LENGTH);
      assert.equal(userTag(id), tag);
    }
  });

  test('known values, so a change of the hash is a deliberate one (every tag would change)', () => {
    assert.equal(userTag('u_Qm9iLWlzLWhl'), 'tcqb');
    assert.equal(userTag('u_T3RoZXItcGVy'), 'mb4j');
  });

  test('ids that differ in one character get different tags, spread over the alphabet', () => {
    const tags = Array.from({ length: 2000 }, (_, i) => userTag(`u_AAAAAAAAAA${i}`));
    // 2,000 tags out of about a million: a few collisions at most.
    assert.ok(new Set(tags).size >= 1990, `${new Set(tags).size} distinct tags`);
    const lastChars = new Set(tags.map((t) => t[3]));
    const firstChars = new Set(tags.map((t) => t[0]));
    assert.equal(lastChars.size, 32);
    assert.equal(firstChars.size, 32);
  });
});

describe('avatarColour', () => {
  test('is stable and within the palette', () => {
    for (const id of ['u_Qm9iLWlzLWhl', 'u_T3RoZXItcGVy', '', '한국어']) {
      const colour = avatarColour(id, 8);
      assert.equal(avatarColour(id, 8), colour);
      assert.ok(colour >= 1 && colour <= 8, `${colour} for ${id}`);
    }
  });

  test('spreads ids over every colour, independently of the tag', () => {
    const ids = Array.from({ length: 400 }, (_, i) => `u_${i}`);
    assert.equal(new Set(ids.map((id) => avatarColour(id, 8))).size, 8);
    // Ids whose tags end alike still get every colour (tag and colour use different bits).
    const sameLast = ids.filter((id) => userTag(id).endsWith(userTag(ids[0]!)[3]!));
    assert.ok(new Set(sameLast.map((id) => avatarColour(id, 8))).size >= 4);
  });
});

describe('nameSkeleton', () => {
  test('the issue’s names are one: Latin, Cyrillic А, capitals, capital I for l', () => {
    const skeletons = ['Alice', 'ALICE', '\u0410lice', 'AIice', 'alice', 'A1ice', 'A|ice'].map(nameSkeleton);
    assert.deepEqual(new Set(skeletons), new Set(['allce']));
  });

  test('NFKC first: fullwidth and mathematical letters are the letters they show', () => {
    assert.equal(nameSkeleton('Ａｌｉｃｅ'), nameSkeleton('Alice'));
    assert.equal(nameSkeleton('𝐀𝐥𝐢𝐜𝐞'), nameSkeleton('Alice'));
    assert.equal(nameSkeleton('𝔅𝔬𝔟'), nameSkeleton('Bob'));
  });

  test('Greek, Cyrillic, Armenian and Cherokee lookalikes of Latin letters', () => {
    assert.equal(nameSkeleton('\u0392\u039f\u0392'), nameSkeleton('BOB'), 'Greek capitals');
    assert.equal(nameSkeleton('\u0412\u041e\u0412'), nameSkeleton('BOB'), 'Cyrillic capitals');
    assert.equal(nameSkeleton('\u039d\u0399\u039d\u0391'), nameSkeleton('Nina'), 'Greek capitals, any case');
    assert.equal(nameSkeleton('\u0440\u0430\u0443'), nameSkeleton('pay'), 'Cyrillic small letters');
    assert.equal(nameSkeleton('\u13aalice'), nameSkeleton('Alice'), 'Cherokee A');
    assert.equal(nameSkeleton('\u0585tto'), nameSkeleton('otto'), 'Armenian o');
    assert.equal(nameSkeleton('B0B'), nameSkeleton('bob'), 'zero for O');
    assert.equal(nameSkeleton('rnark'), nameSkeleton('Mark'), 'rn for m');
  });

  test('invisible characters do not count', () => {
    assert.equal(nameSkeleton('Al\u00adice'), nameSkeleton('Alice'));
    assert.equal(nameSkeleton('Alice\u200b'), nameSkeleton('Alice'));
  });

  test('case is folded fully: ß is ss, a final sigma is a sigma', () => {
    assert.equal(nameSkeleton('Straße'), nameSkeleton('STRASSE'));
    assert.equal(nameSkeleton('Strasse'), nameSkeleton('straẞe'));
    assert.equal(nameSkeleton('οδος'), nameSkeleton('οδοσ'));
    const people = [
      { id: 'a', name: 'ΟΔΟΣ' },
      { id: 'b', name: 'οδος' },
    ];
    assert.deepEqual(lookalikeIds(people), new Set(['a', 'b']));
  });

  test('different names stay different', () => {
    for (const [a, b] of [
      ['Alice', 'Alicia'],
      ['Dave', 'Dane'],
      ['Zoé', 'Zoe'],
      ['Bob', 'Rob'],
      ['\u0432\u043e\u0432', 'bob'], // small Cyrillic в looks like ʙ, not b
      ['한국', '한굮'],
    ]) {
      assert.notEqual(nameSkeleton(a!), nameSkeleton(b!), `${a} / ${b}`);
    }
  });

  test('other scripts pass through unchanged, so their names still compare as themselves', () => {
    assert.equal(nameSkeleton('은지'), '은지'.normalize('NFD'));
    assert.equal(nameSkeleton('数字'), '数字');
  });
});

describe('lookalikeIds', () => {
  test('marks both people whose names look alike, and nobody else', () => {
    const marked = lookalikeIds([
      { id: 'u_1', name: 'Alice' },
      { id: 'u_2', name: '\u0410lice' },
      { id: 'u_3', name: 'Bob' },
      { id: 'u_4', name: 'Carol' },
    ]);
    assert.deepEqual(marked, new Set(['u_1', 'u_2']));
  });

  test('the same name twice is marked too; the same id twice is one person', () => {
    assert.deepEqual(
      lookalikeIds([
        { id: 'u_1', name: 'Sam' },
        { id: 'u_2', name: 'Sam' },
      ]),
      new Set(['u_1', 'u_2']),
    );
    assert.deepEqual(
      lookalikeIds([
        { id: 'u_1', name: 'Sam' },
        { id: 'u_1', name: 'SAM' },
      ]),
      new Set(),
    );
  });

  test('three alike are all marked', () => {
    const marked = lookalikeIds([
      { id: 'a', name: 'Alice' },
      { id: 'b', name: 'ALICE' },
      { id: 'c', name: 'AIice' },
      { id: 'd', name: 'Dave' },
    ]);
    assert.deepEqual(marked, new Set(['a', 'b', 'c']));
  });

  test('capitals and small letters of one script are alike even when their prototypes differ', () => {
    assert.deepEqual(
      lookalikeIds([
        { id: 'a', name: '\u0411\u041e\u0420\u0418\u0421' }, // БОРИС
        { id: 'b', name: '\u0431\u043e\u0440\u0438\u0441' }, // борис
      ]),
      new Set(['a', 'b']),
    );
  });

  test('nobody, or one person, marks nobody', () => {
    assert.deepEqual(lookalikeIds([]), new Set());
    assert.deepEqual(lookalikeIds([{ id: 'a', name: 'Alice' }]), new Set());
  });
});

describe('lookKeys', () => {
  test('Alice, Аlice (Cyrillic А) and ALICE share their key; Bob gets another', () => {
    const alice = lookKeys('Alice');
    assert.equal(alice.length, 1);
    assert.match(alice[0]!, new RegExp(`^[0-9a-f]{${LOOK_KEY_LENGTH}}$`));
    assert.deepEqual(lookKeys('\u0410lice'), alice);
    assert.deepEqual(lookKeys('ALICE'), alice);
    assert.deepEqual(lookKeys('AIice'), alice);
    const bob = lookKeys('Bob');
    assert.equal(bob.length, 1);
    assert.notEqual(bob[0], alice[0]);
  });

  test('a known value, so a change of the key is a deliberate one (servers of two releases would disagree)', () => {
    assert.deepEqual(lookKeys('Alice'), ['f559793b']);
    assert.deepEqual(lookKeys('Bob'), ['f958e856']);
  });

  test('a name whose lower case has a skeleton of its own gets both keys, each shared with its lookalikes', () => {
    const upper = lookKeys('\u0412\u041e\u0412'); // ВОВ: looks like BOB, and like вов
    assert.equal(upper.length, 2);
    assert.ok(upper.includes(lookKeys('BOB')[0]!));
    assert.ok(upper.includes(lookKeys('\u0432\u043e\u0432')[0]!));
    // вов and bob do not look alike: no key in common.
    assert.ok(!lookKeys('\u0432\u043e\u0432').some((key) => lookKeys('bob').includes(key)));
  });

  test('members sharing a key are exactly those lookalikeIds marks', () => {
    const members = [
      { id: 'a', name: 'Alice' },
      { id: 'b', name: '\u0410lice' },
      { id: 'c', name: 'Bob' },
      { id: 'd', name: '\u0411\u041e\u0420\u0418\u0421' },
      { id: 'e', name: '\u0431\u043e\u0440\u0438\u0441' },
      { id: 'f', name: 'Dave' },
    ];
    const owners = new Map<string, Set<string>>();
    for (const member of members)
      for (const key of lookKeys(member.name)) owners.set(key, (owners.get(key) ?? new Set()).add(member.id));
    const shared = new Set([...owners.values()].filter((ids) => ids.size > 1).flatMap((ids) => [...ids]));
    assert.deepEqual(shared, lookalikeIds(members));
    assert.deepEqual(shared, new Set(['a', 'b', 'd', 'e']));
  });
});

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { AVATAR_COLOURS, avatarColour, initialOf } from './avatar.ts';

describe('avatarColour', () => {
  test('is stable and within the palette', () => {
    for (const id of ['u_Qm9iLWlzLWhl', 'u_T3RoZXItcGVy', '', '한국어']) {
      const colour = avatarColour(id);
      assert.equal(avatarColour(id), colour);
      assert.ok(colour >= 1 && colour <= AVATAR_COLOURS, `${colour} for ${id}`);
    }
  });

  test('spreads ids over every colour', () => {
    const used = new Set(Array.from({ length: 200 }, (_, i) => avatarColour(`u_${i}`)));
    assert.equal(used.size, AVATAR_COLOURS);
  });
});

describe('initialOf', () => {
  test('the first visible character, upper-cased', () => {
    assert.equal(initialOf('alice'), 'A');
    assert.equal(initialOf('  zoë'), 'Z');
    assert.equal(initialOf('éric'), 'É');
    assert.equal(initialOf('은지'), '은');
  });

  test('a whole emoji or combined letter, never half of one', () => {
    assert.equal(initialOf('👩‍💻 dev'), '👩‍💻');
    assert.equal(initialOf('e\u0301mile'), 'E\u0301');
  });

  test('a name without characters gets a question mark', () => {
    assert.equal(initialOf(''), '?');
    assert.equal(initialOf('   '), '?');
  });
});

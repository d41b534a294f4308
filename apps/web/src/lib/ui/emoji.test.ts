import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { checkEmoji } from '@parley/protocol';
import { COMMON_REACTIONS, EMOJI, emojiName, MAX_RESULTS, searchEmoji } from './emoji.ts';

describe('the built-in emoji list', () => {
  test('every entry is one emoji the server accepts, once, with a name', () => {
    const seen = new Set<string>();
    for (const { emoji, name } of EMOJI) {
      assert.ok(checkEmoji(emoji).ok, `${emoji} (${name}) is one RGI emoji`);
      assert.ok(!seen.has(emoji), `${emoji} is listed once`);
      assert.ok(name.length > 0, `${emoji} has a name`);
      seen.add(emoji);
    }
    assert.ok(EMOJI.length >= 250, `a reasonable list (${EMOJI.length})`);
    for (const emoji of COMMON_REACTIONS) assert.ok(seen.has(emoji), `${emoji} is in the list`);
  });

  test('search finds by the start of a name or a word, names first, any case', () => {
    assert.equal(searchEmoji('thumbs')[0]?.emoji, '👍');
    assert.equal(searchEmoji('THUMBS DOWN')[0]?.emoji, '👎');
    assert.ok(
      searchEmoji('party').some((e) => e.emoji === '🎉'),
      'by name',
    );
    assert.ok(
      searchEmoji('tada').some((e) => e.emoji === '🎉'),
      'by keyword',
    );
    assert.ok(searchEmoji('heart').every((e) => /heart|love/.test(`${e.name} ${e.keywords}`)));
    assert.equal(searchEmoji('heart')[0]?.name.includes('heart'), true, 'names before keywords');
    assert.deepEqual(searchEmoji('zzzzqqq'), []);
    assert.equal(searchEmoji('').length, MAX_RESULTS);
    assert.equal(emojiName('👍'), 'thumbs up');
    assert.equal(emojiName('🫥'), '🫥', 'an emoji not listed is its own name');
  });
});

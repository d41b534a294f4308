import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { mentions, tabTitle } from './attention.ts';

describe('tabTitle', () => {
  test('shows the unread count only while the tab is hidden', () => {
    assert.equal(tabTitle('lobby · Parley', 3, true), '(3) lobby · Parley');
    assert.equal(tabTitle('lobby · Parley', 3, false), 'lobby · Parley');
    assert.equal(tabTitle('lobby · Parley', 0, true), 'lobby · Parley');
  });

  test('caps a long count', () => {
    assert.equal(tabTitle('x', 250, true), '(99+) x');
  });
});

describe('mentions', () => {
  test('the name as a word, in any case, with or without @', () => {
    assert.equal(mentions('Alice, look at this', 'Alice'), true);
    assert.equal(mentions('thanks alice!', 'Alice'), true);
    assert.equal(mentions('ping @ALICE', 'Alice'), true);
    assert.equal(mentions("that's Alice's idea", 'Alice'), true);
  });

  test('not inside another word', () => {
    assert.equal(mentions('no malice here', 'Alice'), false);
    assert.equal(mentions('Alicetown', 'Alice'), false);
    assert.equal(mentions('alice_2 said', 'Alice'), false);
  });

  test('names with spaces, punctuation and other scripts', () => {
    assert.equal(mentions('hi Eun-ji  Park!', 'Eun-ji Park'), true);
    assert.equal(mentions('은지 씨 안녕하세요', '은지'), true);
    assert.equal(mentions('은지씨', '은지'), false);
    assert.equal(mentions('is (a.b) here?', 'a.b'), true);
    assert.equal(mentions('Zoë?', 'zoe\u0308'), true);
  });

  test('a one-letter name needs the @', () => {
    assert.equal(mentions('a cat', 'A'), false);
    assert.equal(mentions('hi @a', 'A'), true);
  });
});

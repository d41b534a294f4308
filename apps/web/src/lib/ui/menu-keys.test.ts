import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { menuKeyTarget } from './menu-keys.ts';

describe('menuKeyTarget', () => {
  test('the arrows step through the items, round from one end to the other', () => {
    assert.equal(menuKeyTarget('ArrowDown', 0, 3), 1);
    assert.equal(menuKeyTarget('ArrowDown', 2, 3), 0);
    assert.equal(menuKeyTarget('ArrowUp', 2, 3), 1);
    assert.equal(menuKeyTarget('ArrowUp', 0, 3), 2);
  });

  test('with no item focused, ArrowDown goes to the first and ArrowUp to the last', () => {
    assert.equal(menuKeyTarget('ArrowDown', -1, 3), 0);
    assert.equal(menuKeyTarget('ArrowUp', -1, 3), 2);
  });

  test('Home and End go to the ends', () => {
    assert.equal(menuKeyTarget('Home', 1, 3), 0);
    assert.equal(menuKeyTarget('End', 1, 3), 2);
  });

  test('one item: every move stays on it', () => {
    for (const key of ['ArrowDown', 'ArrowUp', 'Home', 'End']) assert.equal(menuKeyTarget(key, 0, 1), 0);
  });

  test('other keys, and an empty menu, are not the menu’s', () => {
    for (const key of ['Enter', ' ', 'Escape', 'Tab', 'a', 'ArrowLeft'])
      assert.equal(menuKeyTarget(key, 0, 3), undefined);
    assert.equal(menuKeyTarget('ArrowDown', -1, 0), undefined);
  });
});

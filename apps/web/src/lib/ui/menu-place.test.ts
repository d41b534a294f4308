import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { MENU_GAP, VIEWPORT_MARGIN, placeMenu } from './menu-place.ts';

// A 32 px button at the right end of a row, a menu of six items (200 × 230), a laptop's viewport.
const viewport = { width: 1280, height: 720 };
const menu = { width: 200, height: 230 };
const buttonAt = (top: number, left = 1200) => ({ left, top, width: 32, height: 32 });

describe('placeMenu', () => {
  test('under its button when there is room, right edges lined up', () => {
    assert.deepEqual(placeMenu(buttonAt(100), menu, viewport), {
      left: 1232 - 200,
      top: 100 + 32 + MENU_GAP,
      above: false,
    });
  });

  test('above its button when there is no room below (a row low in the list)', () => {
    const place = placeMenu(buttonAt(600), menu, viewport);
    assert.equal(place.above, true);
    assert.equal(place.top, 600 - MENU_GAP - 230);
    assert.equal(place.maxHeight, undefined);
  });

  test('exactly room enough below: stays below', () => {
    const top = 720 - VIEWPORT_MARGIN - 230 - MENU_GAP - 32;
    const place = placeMenu(buttonAt(top), menu, viewport);
    assert.equal(place.above, false);
    assert.equal(place.top + 230, 720 - VIEWPORT_MARGIN);
  });

  test('room on neither side: on the side with more, moved inside the viewport over the button', () => {
    const small = { width: 375, height: 300 };
    const place = placeMenu(buttonAt(120, 330), menu, small);
    assert.equal(place.above, false);
    assert.equal(place.top, 300 - VIEWPORT_MARGIN - 230);
    assert.ok(place.top >= VIEWPORT_MARGIN && place.top < 120 + 32);
  });

  test('a menu taller than the viewport gets its height, from the top margin', () => {
    const place = placeMenu(buttonAt(100, 300), { width: 200, height: 900 }, { width: 375, height: 400 });
    assert.equal(place.maxHeight, 400 - 2 * VIEWPORT_MARGIN);
    assert.equal(place.top, VIEWPORT_MARGIN);
  });

  test('on a phone it stays inside the viewport sideways', () => {
    const phone = { width: 375, height: 667 };
    // A button near the left edge: the menu would start before the viewport.
    assert.equal(placeMenu(buttonAt(100, 20), menu, phone).left, VIEWPORT_MARGIN);
    // A button past the right edge (a row wider than the screen): pulled back in.
    assert.equal(placeMenu(buttonAt(100, 400), menu, phone).left, 375 - VIEWPORT_MARGIN - 200);
    // A menu wider than the phone starts at the left margin.
    assert.equal(placeMenu(buttonAt(100, 300), { width: 500, height: 230 }, phone).left, VIEWPORT_MARGIN);
  });

  test('every place keeps the whole menu in the viewport', () => {
    for (let top = -40; top <= 760; top += 20)
      for (const left of [-40, 0, 100, 600, 1240, 1300]) {
        const place = placeMenu(buttonAt(top, left), menu, viewport);
        const height = place.maxHeight ?? menu.height;
        assert.ok(place.top >= VIEWPORT_MARGIN && place.top + height <= 720 - VIEWPORT_MARGIN, `top ${top}`);
        assert.ok(place.left >= VIEWPORT_MARGIN && place.left + 200 <= 1280 - VIEWPORT_MARGIN, `left ${left}`);
      }
  });
});

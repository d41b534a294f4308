/**
 * Where to draw a menu that floats over the page (position: fixed, in the top layer) beside the
 * button that opened it: under the button, its right edge on the button's right edge (the way
 * a menu at the end of a row opens); above the button when there is not room enough below and
 * there is more above; always inside the viewport, `margin` from its edges, so that on a phone
 * no item is out of reach (over the button itself if it must). A menu taller than the viewport
 * gets `maxHeight` and scrolls.
 */

export interface Box {
  left: number;
  top: number;
  width: number;
  height: number;
}

export interface Size {
  width: number;
  height: number;
}

export interface MenuPlace {
  /** The menu's top left corner in viewport pixels (for position: fixed). */
  left: number;
  top: number;
  /** Whether the menu opens above its button. */
  above: boolean;
  /** Set when the menu is taller than the room there is: the height to give it (it scrolls). */
  maxHeight?: number;
}

/** Space between the button and the menu, in pixels. */
export const MENU_GAP = 4;
/** The least space kept between the menu and the viewport's edges, in pixels. */
export const VIEWPORT_MARGIN = 8;

/**
 * @param button The opening button's box (getBoundingClientRect).
 * @param menu The menu's size, drawn unconstrained.
 * @param viewport The viewport's size (its visible width and height).
 */
export function placeMenu(
  button: Box,
  menu: Size,
  viewport: Size,
  gap: number = MENU_GAP,
  margin: number = VIEWPORT_MARGIN,
): MenuPlace {
  const room = Math.max(0, viewport.height - 2 * margin);
  const below = viewport.height - margin - (button.top + button.height + gap);
  const aboveRoom = button.top - gap - margin;
  // Below when it fits there; else above when that side has more room. Where neither side has
  // room enough, the viewport's edge moves it over the button rather than cut it off.
  const above = menu.height > below && aboveRoom > below;
  const maxHeight = menu.height > room ? room : undefined;
  const height = maxHeight ?? menu.height;

  const wanted = above ? button.top - gap - height : button.top + button.height + gap;
  const top = clamp(wanted, margin, viewport.height - margin - height);
  const left = clamp(button.left + button.width - menu.width, margin, viewport.width - margin - menu.width);
  return maxHeight === undefined ? { left, top, above } : { left, top, above, maxHeight };
}

/** `value` within [low, high]; `low` wins when the range is empty (the start edge stays in view). */
function clamp(value: number, low: number, high: number): number {
  return Math.max(low, Math.min(value, high));
}

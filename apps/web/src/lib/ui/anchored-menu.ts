import type { Attachment } from 'svelte/attachments';
import { placeMenu } from './menu-place.ts';

/**
 * Draws a menu over the whole page beside the button that opened it: `<div {@attach
 * anchoredMenu(button, onaway)}>`. For a menu opened from inside something that scrolls or cuts
 * off what overflows it (a row of the member list): drawn there it would be cut off, and
 * focusing it would scroll the list. Here it is in the top layer (a manual popover; where the
 * browser has no Popover API, position: fixed over the page, the element's CSS giving it a
 * z-index), placed by placeMenu from the button's box. It stays where it is in the document, so
 * focus, keys and "a click inside" work as before.
 *
 * Placed once: when the button moves (its list scrolled, rows came or went above it), is gone,
 * or the window is resized, the menu would be beside nothing, and `onaway` is called: close it.
 */
export function anchoredMenu(anchor: HTMLElement, onaway: () => void): Attachment<HTMLElement> {
  return (node) => {
    const popover = typeof node.showPopover === 'function';
    node.style.position = 'fixed';
    if (popover) {
      node.popover = 'manual';
      node.showPopover();
    }
    // Drawn at the corner first, for its own size.
    node.style.inset = '0 auto auto 0';
    const size = node.getBoundingClientRect();
    const viewport = document.documentElement;
    const place = placeMenu(
      anchor.getBoundingClientRect(),
      { width: size.width, height: size.height },
      { width: viewport.clientWidth, height: viewport.clientHeight },
    );
    node.style.left = `${place.left}px`;
    node.style.top = `${place.top}px`;
    if (place.maxHeight !== undefined) node.style.maxHeight = `${place.maxHeight}px`;
    node.dataset.side = place.above ? 'above' : 'below';

    // Whether the button is still where the menu was placed: checked each frame it is open.
    const at = anchor.getBoundingClientRect();
    let frame = requestAnimationFrame(function watch() {
      const now = anchor.getBoundingClientRect();
      if (!anchor.isConnected || now.top !== at.top || now.left !== at.left || now.height === 0) {
        away();
        return;
      }
      frame = requestAnimationFrame(watch);
    });
    let gone = false;
    function away() {
      if (gone) return;
      gone = true;
      onaway();
    }
    window.addEventListener('resize', away);

    return () => {
      gone = true;
      cancelAnimationFrame(frame);
      window.removeEventListener('resize', away);
      if (popover && node.isConnected && node.matches(':popover-open')) node.hidePopover();
    };
  };
}

import type { Attachment } from 'svelte/attachments';

/**
 * Listens for keys on an element and everything inside it: `<div {@attach onKeys(handler)}>`. For
 * the keys of a widget (Escape closes a picker, the arrows move in a toolbar) on an element that
 * is not itself interactive; the buttons and fields inside are.
 */
export function onKeys(handler: (event: KeyboardEvent) => void): Attachment<HTMLElement> {
  return (node) => {
    node.addEventListener('keydown', handler);
    return () => node.removeEventListener('keydown', handler);
  };
}

import type { Attachment } from 'svelte/attachments';

/**
 * Focuses an element when it is mounted: `<input {@attach autofocus} />`. Unlike the `autofocus`
 * attribute this also works when the view is swapped by the client-side router.
 */
export const autofocus: Attachment<HTMLElement> = (node) => {
  node.focus();
};

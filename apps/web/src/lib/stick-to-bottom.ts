import type { Attachment } from 'svelte/attachments';

/**
 * Put on each item of a scrolling log: when an item is added and the reader was at (or near)
 * the bottom, scroll so it is visible; a reader scrolled up into the history is left alone.
 *
 * @param selector The scrolling ancestor.
 * @returns The attachment.
 */
export function stickToBottom(selector: string): Attachment<HTMLElement> {
  return (item) => {
    const log = item.closest<HTMLElement>(selector);
    if (log === null) return;
    const distance = log.scrollHeight - item.offsetHeight - log.scrollTop - log.clientHeight;
    if (distance < 48) log.scrollTop = log.scrollHeight;
  };
}

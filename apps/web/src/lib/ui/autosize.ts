import type { Attachment } from 'svelte/attachments';

/**
 * Makes a textarea grow with its text (up to its CSS `max-height`, then it scrolls), for
 * browsers without `field-sizing: content` (Firefox, Safari); elsewhere CSS does it alone.
 * `<textarea {@attach autosize}>`.
 */
export const autosize: Attachment<HTMLTextAreaElement> = (textarea) => {
  if (CSS.supports('field-sizing', 'content')) return;
  const fit = () => {
    textarea.style.height = 'auto';
    // scrollHeight excludes the border; box-sizing: border-box counts it.
    const border = textarea.offsetHeight - textarea.clientHeight;
    textarea.style.height = `${textarea.scrollHeight + border}px`;
  };
  fit();
  textarea.addEventListener('input', fit);
  return () => textarea.removeEventListener('input', fit);
};

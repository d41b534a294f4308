/**
 * Getting the reader's attention while they look elsewhere: the unread count in the tab's
 * title, and whether a message mentions them (worth a browser notification).
 */
import { mentionsName } from '@parley/protocol';

/**
 * The document title: `(3) lobby · Parley` while the tab is hidden with unread messages,
 * otherwise just the page's own title.
 *
 * @param title The page's title, e.g. `lobby · Parley`.
 * @param unread Messages from others the reader has not seen.
 * @param hidden Whether the tab is hidden (another tab or app in front, or minimized).
 */
export function tabTitle(title: string, unread: number, hidden: boolean): string {
  if (!hidden || unread <= 0) return title;
  return `(${unread > 99 ? '99+' : unread}) ${title}`;
}

/**
 * Whether a message mentions a person: their display name as a word of its own, in any case,
 * with or without an `@` ("@alice", "Alice, look", "thanks alice!"), but not inside a longer
 * word ("Malice"). A one-letter name counts only with the `@`, or it would match every "a".
 * (The protocol's rule, which the server also uses for bots' mentions, there with the `@`.)
 *
 * @param text The message.
 * @param name The reader's display name.
 */
export function mentions(text: string, name: string): boolean {
  return mentionsName(text, name, { bare: true });
}

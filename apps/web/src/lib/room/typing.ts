/**
 * "<name> is typing…": who is typing right now, from the `typing` frames received. A frame
 * only says "typing now"; there is no "stopped", so each one is shown for a few seconds.
 */
import type { User } from '@parley/protocol';

/** How long one typing frame keeps a name on screen. */
export const TYPING_SHOW_MS = 4_000;
/** How often this client tells the room it is typing (the server drops extras within 1 s). */
export const TYPING_SEND_INTERVAL_MS = 2_000;

export interface Typist {
  user: User;
  /** When to stop showing them, in ms (same clock as `now`). */
  until: number;
}

/** Someone is typing: show them (again) from now. */
export function noteTyping(
  typists: readonly Typist[],
  user: User,
  now: number,
  showMs = TYPING_SHOW_MS,
): readonly Typist[] {
  return [...typists.filter((t) => t.user.id !== user.id), { user, until: now + showMs }];
}

/** Someone sent their message or left: they are no longer typing. */
export function stopTyping(typists: readonly Typist[], userId: string): readonly Typist[] {
  const left = typists.filter((t) => t.user.id !== userId);
  return left.length === typists.length ? typists : left;
}

/** Drops the ones whose time is up; the same array when nobody expired. */
export function expireTypists(typists: readonly Typist[], now: number): readonly Typist[] {
  const left = typists.filter((t) => t.until > now);
  return left.length === typists.length ? typists : left;
}

/** A piece of the typing line: a person's name (shown with their tag), or words between names. */
export type TypingSegment = { kind: 'name'; text: string; userId: string } | { kind: 'words'; text: string };

/**
 * The line to show, in pieces, or none when nobody types: "Bob is typing…", "Bob and Carol are
 * typing…", "Bob, Carol and 2 others are typing…".
 *
 * @param users Who is typing, in the order they started.
 */
export function typingSegments(users: readonly User[]): TypingSegment[] {
  const name = (user: User): TypingSegment => ({ kind: 'name', text: user.name, userId: user.id });
  const words = (text: string): TypingSegment => ({ kind: 'words', text });
  const [first, second, third] = users;
  if (first === undefined) return [];
  if (second === undefined) return [name(first), words(' is typing…')];
  if (users.length === 2) return [name(first), words(' and '), name(second), words(' are typing…')];
  if (users.length === 3)
    return [name(first), words(', '), name(second), words(' and '), name(third!), words(' are typing…')];
  return [name(first), words(', '), name(second), words(` and ${users.length - 2} others are typing…`)];
}

/** Whether to send another `typing` frame, given when the last one went out. */
export function shouldSendTyping(
  lastSentAt: number | null,
  now: number,
  intervalMs = TYPING_SEND_INTERVAL_MS,
): boolean {
  return lastSentAt === null || now - lastSentAt >= intervalMs;
}

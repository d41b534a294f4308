/**
 * Splits a message into plain text and web links. The view renders both as text nodes and
 * `<a>` elements, never as HTML, so a message cannot inject markup; only http(s) links are made,
 * so `javascript:` and the like stay plain text.
 *
 * Every message of the room goes through here on every member's screen, so the work is linear
 * in the text's length whatever it holds (a run of thousands of ")" once took 100 ms a message).
 */

export type TextPart = { kind: 'text'; text: string } | { kind: 'link'; text: string; href: string };

/** A longer link stays plain text: no real link is this long, and browsers cap URLs near here too. */
export const MAX_LINK_LENGTH = 2_048;
/** Links made per message; whatever follows stays plain text. */
export const MAX_LINKS_PER_MESSAGE = 50;

// A scheme or "www.", then anything up to whitespace or a character that cannot be in a URL.
// Linear: the candidate runs to the first such character, with nothing after it to backtrack.
const CANDIDATE = /\b(?:https?:\/\/|www\.)[^\s<>"]+/giu;
// Punctuation that usually ends the sentence rather than the link.
const TRAILING = new Set(['.', ',', ';', ':', '!', '?', "'", '*', '_', '~']);
const CLOSER_OF: Record<string, string> = { '(': ')', '[': ']', '{': '}' };

/**
 * @param text A message as received.
 * @returns The parts in order; their texts joined give back `text` exactly.
 */
export function linkify(text: string): TextPart[] {
  const parts: TextPart[] = [];
  let last = 0;
  let links = 0;
  for (const match of text.matchAll(CANDIDATE)) {
    if (links === MAX_LINKS_PER_MESSAGE) break;
    const start = match.index;
    const raw = match[0].slice(0, trimmedLength(match[0]));
    if (raw.length > MAX_LINK_LENGTH) continue;
    const href = toHref(raw);
    if (href === null) continue;
    if (start > last) parts.push({ kind: 'text', text: text.slice(last, start) });
    parts.push({ kind: 'link', text: raw, href });
    last = start + raw.length;
    links += 1;
  }
  if (last < text.length) parts.push({ kind: 'text', text: text.slice(last) });
  return parts;
}

/**
 * How much of a candidate is the link: trailing punctuation and closing brackets without a
 * partner inside the candidate are the sentence's, not the link's. "(see
 * https://en.wikipedia.org/wiki/Rust_(language))." keeps the balanced ")" of the URL and leaves
 * the sentence's ")." outside.
 *
 * One pass to count the brackets, one from the end to drop what does not belong: O(length).
 *
 * @param candidate A match of the candidate pattern.
 * @param work Counts the characters visited (for the test that the work stays linear).
 * @returns The length of the link at its start.
 */
export function trimmedLength(candidate: string, work?: { steps: number }): number {
  // Per bracket pair: closers minus openers; above zero, the last closers have no partner.
  const unmatched: Record<string, number> = { ')': 0, ']': 0, '}': 0 };
  if (work !== undefined) work.steps += candidate.length;
  for (let i = 0; i < candidate.length; i++) {
    const char = candidate[i]!;
    if (char in unmatched) unmatched[char]! += 1;
    else if (char in CLOSER_OF) unmatched[CLOSER_OF[char]!]! -= 1;
  }
  let end = candidate.length;
  while (end > 0) {
    if (work !== undefined) work.steps += 1;
    const char = candidate[end - 1]!;
    if (TRAILING.has(char)) {
      end -= 1;
    } else if (char in unmatched && unmatched[char]! > 0) {
      // Dropping it leaves one closer fewer in what remains, exactly as counting again would.
      unmatched[char]! -= 1;
      end -= 1;
    } else {
      break;
    }
  }
  return end;
}

function toHref(raw: string): string | null {
  const candidate = /^www\./i.test(raw) ? `https://${raw}` : raw;
  try {
    const url = new URL(candidate);
    if ((url.protocol !== 'http:' && url.protocol !== 'https:') || url.hostname === '') return null;
    return url.href;
  } catch {
    return null;
  }
}

/**
 * Splits a message into plain text and web links. The view renders both as text nodes and
 * `<a>` elements, never as HTML, so a message cannot inject markup; only http(s) links are made,
 * so `javascript:` and the like stay plain text.
 */

export type TextPart = { kind: 'text'; text: string } | { kind: 'link'; text: string; href: string };

// A scheme or "www.", then anything up to whitespace or a character that cannot be in a URL.
const CANDIDATE = /\b(?:https?:\/\/|www\.)[^\s<>"]+/giu;
// Punctuation that usually ends the sentence rather than the link.
const TRAILING = /[.,;:!?'*_~]+$/u;
const CLOSERS: Record<string, string> = { ')': '(', ']': '[', '}': '{' };

/**
 * @param text A message as received.
 * @returns The parts in order; their texts joined give back `text` exactly.
 */
export function linkify(text: string): TextPart[] {
  const parts: TextPart[] = [];
  let last = 0;
  for (const match of text.matchAll(CANDIDATE)) {
    const start = match.index;
    const raw = trimTrailing(match[0]);
    const href = toHref(raw);
    if (href === null) continue;
    if (start > last) parts.push({ kind: 'text', text: text.slice(last, start) });
    parts.push({ kind: 'link', text: raw, href });
    last = start + raw.length;
  }
  if (last < text.length) parts.push({ kind: 'text', text: text.slice(last) });
  return parts;
}

// "(see https://en.wikipedia.org/wiki/Rust_(language))." keeps the balanced ")" of the URL and
// leaves the sentence's ")." outside.
function trimTrailing(url: string): string {
  let result = url;
  for (;;) {
    const trimmed = result.replace(TRAILING, '');
    const lastChar = trimmed.at(-1) ?? '';
    const opener = CLOSERS[lastChar];
    if (opener !== undefined && count(trimmed, lastChar) > count(trimmed, opener)) {
      result = trimmed.slice(0, -1);
      continue;
    }
    return trimmed;
  }
}

function count(text: string, char: string): number {
  return text.split(char).length - 1;
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

import { LIMITS } from './limits.ts';
import { fail, ok, type Result } from './result.ts';

/** The outcome of {@link checkMessageText}: the text, or `bad_frame` / `too_large`. */
export type TextCheck = Result<string, 'bad_frame' | 'too_large'>;

/**
 * Characters that show nothing by themselves: white space, default-ignorable code points
 * (zero-width spaces and joiners, Hangul fillers, variation selectors, tags), other format
 * characters, and the blank Braille pattern. A text made only of these looks empty.
 */
const INVISIBLE = /[\p{White_Space}\p{Default_Ignorable_Code_Point}\p{Cf}\u2800]/gu;

/**
 * Bidirectional embeddings, overrides and isolates (U+202A–U+202E, U+2066–U+2069): they can
 * make a link or a name read differently from what it is. The marks U+200E/U+200F, which
 * right-to-left writers use, stay allowed.
 */
const BIDI_CONTROLS = /[\u202A-\u202E\u2066-\u2069]/u;

/** A UTF-16 surrogate not paired with its other half (only possible through a JSON `\u` escape). */
const LONE_SURROGATE = /\p{Cs}/u;

/**
 * True when the text has at least one character that is not white space or invisible.
 *
 * @param text Any string.
 */
export function hasVisibleCharacter(text: string): boolean {
  return text.replace(INVISIBLE, '').length > 0;
}

/**
 * Checks the text of a chat message before it is sent or accepted: not blank or invisible,
 * within the byte limit, free of control characters other than newline and tab (they can forge
 * log lines or break terminals and screen readers), of bidirectional overrides, and of lone
 * surrogates (not text at all).
 *
 * @param text The text as typed or received.
 * @param maxBytes The limit in UTF-8 bytes.
 * @returns The text unchanged, or why it is refused.
 */
export function checkMessageText(text: string, maxBytes: number = LIMITS.maxTextBytes): TextCheck {
  if (text.trim().length === 0) {
    return fail('bad_frame', 'Message is empty.');
  }
  if (!hasVisibleCharacter(text)) {
    return fail('bad_frame', 'Message has no visible characters.');
  }
  const bytes = utf8ByteLength(text);
  if (bytes > maxBytes) {
    return fail('too_large', `Message is ${bytes} bytes; the limit is ${maxBytes}.`);
  }
  // C0/C1 controls except \t and \n (matching them is the point of this pattern).
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u0008\u000B-\u001F\u007F-\u009F]/.test(text)) {
    return fail('bad_frame', 'Message contains control characters.');
  }
  if (BIDI_CONTROLS.test(text)) {
    return fail('bad_frame', 'Message contains right-to-left override or embedding characters.');
  }
  if (LONE_SURROGATE.test(text)) {
    return fail('bad_frame', 'Message contains an unpaired surrogate (invalid Unicode).');
  }
  return ok(text);
}

/**
 * Counts the UTF-8 bytes of a string without allocating (works in browsers and Node alike).
 *
 * @param text Any string.
 * @returns Its length in UTF-8 bytes.
 */
export function utf8ByteLength(text: string): number {
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    if (unit < 0x80) bytes += 1;
    else if (unit < 0x800) bytes += 2;
    else if (unit >= 0xd800 && unit <= 0xdbff && i + 1 < text.length) {
      // A surrogate pair is one code point of four bytes.
      bytes += 4;
      i++;
    } else bytes += 3;
  }
  return bytes;
}

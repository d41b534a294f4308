import { LIMITS } from './error-codes.ts';

/** The outcome of {@link checkMessageText}. */
export type TextCheck = { ok: true; value: string } | { ok: false; code: 'bad_frame' | 'too_large'; message: string };

/**
 * Checks the text of a chat message before it is sent or accepted: not blank, within the byte
 * limit, and free of control characters other than newline and tab (they can forge log lines
 * or break terminals and screen readers).
 *
 * @param text The text as typed or received.
 * @param maxBytes The limit in UTF-8 bytes.
 * @returns The text unchanged, or why it is refused.
 */
export function checkMessageText(text: string, maxBytes: number = LIMITS.maxTextBytes): TextCheck {
  if (text.trim().length === 0) {
    return { ok: false, code: 'bad_frame', message: 'Message is empty.' };
  }
  const bytes = utf8ByteLength(text);
  if (bytes > maxBytes) {
    return { ok: false, code: 'too_large', message: `Message is ${bytes} bytes; the limit is ${maxBytes}.` };
  }
  // C0/C1 controls except \t and \n; lone surrogates cannot occur after UTF-8 decoding.
  if (/[\u0000-\u0008\u000B-\u001F\u007F-\u009F]/.test(text)) {
    return { ok: false, code: 'bad_frame', message: 'Message contains control characters.' };
  }
  return { ok: true, value: text };
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

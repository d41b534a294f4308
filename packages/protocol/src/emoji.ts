import { fail, ok, type Result } from './result.ts';

/**
 * One emoji from Unicode's recommended set (RGI: single emoji, keycaps, flags, modifier and
 * ZWJ sequences), nothing before or after it. Built at run time: the `v` flag is newer than the
 * language level TypeScript compiles for, though every runtime Parley supports has it.
 */
const ONE_EMOJI = new RegExp('^\\p{RGI_Emoji}$', 'v');

/** The longest emoji accepted, in UTF-16 units (the longest RGI sequences are about 14). */
export const MAX_EMOJI_LENGTH = 32;

/**
 * Checks a reaction's emoji: exactly one emoji of Unicode's recommended set, at most
 * MAX_EMOJI_LENGTH units long (the length is checked first, so the pattern never sees a long
 * string).
 */
export function checkEmoji(emoji: string): Result<string, 'bad_frame'> {
  if (emoji.length === 0 || emoji.length > MAX_EMOJI_LENGTH || !ONE_EMOJI.test(emoji)) {
    return fail('bad_frame', 'emoji must be a single emoji');
  }
  return ok(emoji);
}

/** True when the string is one emoji (see {@link checkEmoji}). */
export function isEmoji(emoji: string): boolean {
  return checkEmoji(emoji).ok;
}

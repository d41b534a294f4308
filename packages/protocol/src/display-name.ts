import { fail, ok, type Result } from './result.ts';

/** Longest display name, in Unicode code points, after trimming. */
export const DISPLAY_NAME_MAX_LENGTH = 32;

/** Why a display name was refused; stable strings a client may branch on. */
export type DisplayNameProblem = 'empty' | 'too_long' | 'invisible' | 'no_letter' | 'stacked_marks' | 'reserved';

/** The outcome of {@link parseDisplayName}: the cleaned name, or a problem with a sentence. */
export type DisplayNameResult = Result<string, DisplayNameProblem>;

/**
 * The name reference-protocol clients post under; nobody may choose it (case-insensitively), so
 * it never passes for a person.
 */
export const RESERVED_DISPLAY_NAMES: readonly string[] = ['anonymous'];

/**
 * Characters that are invisible or blank but not white space: default-ignorable code points
 * (zero-width characters, Hangul fillers U+115F/U+1160/U+3164/U+FFA0, variation selectors, tags)
 * and the blank Braille pattern U+2800. A name holding one could look exactly like another's.
 * Emoji presentation selectors (U+FE0E, U+FE0F) stay allowed: "Sam ❤️" needs one.
 */
const INVISIBLE_IN_NAMES = /(?![\uFE0E\uFE0F])[\p{Default_Ignorable_Code_Point}\u2800]/u;

/** More combining marks than this on one character is stacking ("Zalgo"), not writing. */
const MAX_MARKS_IN_A_ROW = 4;

/**
 * Validates a display name: trimmed and NFC-normalized, 1–32 characters, at least one letter or
 * digit, no control, invisible, filler or formatting characters and no stacks of combining
 * marks (they would let one person pass for another or hide the name), and not a reserved name.
 *
 * @param raw The name as typed.
 * @returns The cleaned name, or why it is refused.
 */
export function parseDisplayName(raw: string): DisplayNameResult {
  const value = raw.normalize('NFC').trim().replace(/\s+/gu, ' ');
  const length = [...value].length;
  if (length === 0) return fail('empty', 'Display name is empty.');
  if (length > DISPLAY_NAME_MAX_LENGTH) {
    return fail('too_long', `Display name is ${length} characters long; the limit is ${DISPLAY_NAME_MAX_LENGTH}.`);
  }
  if (/[\p{Cc}\p{Cf}\p{Co}\p{Cn}\p{Zl}\p{Zp}]/u.test(value) || INVISIBLE_IN_NAMES.test(value)) {
    return fail('invisible', 'Display name contains control or invisible characters.');
  }
  if (!/[\p{L}\p{N}]/u.test(value)) {
    return fail('no_letter', 'Display name needs at least one letter or digit.');
  }
  if (new RegExp(`\\p{M}{${MAX_MARKS_IN_A_ROW + 1}}`, 'u').test(value)) {
    return fail('stacked_marks', 'Display name stacks too many accents on one letter.');
  }
  if (RESERVED_DISPLAY_NAMES.includes(value.toLowerCase())) {
    return fail('reserved', `"${value}" is reserved; choose another name.`);
  }
  return ok(value);
}

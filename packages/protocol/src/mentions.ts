// Mentions: a display name named in a message. The web app marks the reader's own (with or
// without an `@`, for its notifications); the server delivers a bot's (`@<bot name>`) to the
// bot's webhook URL. One rule, here, so both agree on what mentions whom.

/** Letters, marks, digits and underscores: a name next to one of them is part of a longer word. */
const WORD_CHAR = '[\\p{L}\\p{N}\\p{M}_]';

/**
 * The pattern that finds mentions of a display name: the name as a word of its own ("@alice",
 * "@Alice, look", but not "@Alice2" or "m@lice"), in any case, any run of spaces in the name
 * matching any run of white space in the text. Texts are matched NFC-normalized.
 *
 * @param name The display name (a valid one: see parseDisplayName).
 * @param options `bare`: the `@` may be left out ("thanks alice!"), except for a one-letter
 *   name, which would match every "a".
 * @returns A case-insensitive Unicode regular expression, or undefined for an empty name.
 */
export function mentionPattern(name: string, options: { bare?: boolean } = {}): RegExp | undefined {
  const wanted = name.trim().normalize('NFC');
  if (wanted === '') return undefined;
  const pattern = wanted.split(/\s+/).map(escapeRegExp).join('\\s+');
  const at = options.bare === true && [...wanted].length > 1 ? '@?' : '@';
  return new RegExp(`(?<!${WORD_CHAR})${at}${pattern}(?!${WORD_CHAR})`, 'iu');
}

/**
 * Whether a message mentions a display name (see {@link mentionPattern}).
 *
 * @param text The message.
 * @param name The display name.
 * @param options `bare`: a mention without the `@` counts too.
 */
export function mentionsName(text: string, name: string, options: { bare?: boolean } = {}): boolean {
  return mentionPattern(name, options)?.test(text.normalize('NFC')) ?? false;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

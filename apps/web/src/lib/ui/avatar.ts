/**
 * A person's avatar: the first letter of their name on a colour of their own. The colour comes
 * from the user id, not the name, so it stays put when someone renames themselves and two
 * people with the same name still look different.
 */
import { avatarColour as avatarColourOf } from '@parley/protocol';

/** How many avatar colours the theme defines (`--avatar-1` … `--avatar-8` in tokens.css). */
export const AVATAR_COLOURS = 8;

/**
 * The avatar colour of an id, 1 … {@link AVATAR_COLOURS}: the same id always gets the same one
 * (the protocol's `avatarColour`, which uses other bits of the id's hash than its tag).
 *
 * @param id A user id (or any string, e.g. a room name).
 */
export function avatarColour(id: string): number {
  return avatarColourOf(id, AVATAR_COLOURS);
}

const graphemes = new Intl.Segmenter(undefined, { granularity: 'grapheme' });

/**
 * The letter shown in an avatar: the first character as people see it (a whole emoji or Hangul
 * syllable, not half a surrogate pair), upper-cased.
 *
 * @param name A display name; '?' when it has no visible character.
 */
export function initialOf(name: string): string {
  const first = graphemes.segment(name.trim())[Symbol.iterator]().next();
  return first.done ? '?' : first.value.segment.toLocaleUpperCase();
}

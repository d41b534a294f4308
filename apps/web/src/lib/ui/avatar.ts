/**
 * A person's avatar: the first letter of their name on a colour of their own. The colour comes
 * from the user id, not the name, so it stays put when someone renames themselves and two
 * people with the same name still look different.
 */

/** How many avatar colours the theme defines (`--avatar-1` … `--avatar-8` in tokens.css). */
export const AVATAR_COLOURS = 8;

/**
 * The avatar colour of an id, 1 … {@link AVATAR_COLOURS}: the same id always gets the same one.
 *
 * @param id A user id (or any string, e.g. a room name).
 */
export function avatarColour(id: string): number {
  // FNV-1a, then MurmurHash3's finalizer: FNV's low bits alone (all `% 8` looks at) repeat
  // for similar strings; the finalizer mixes every bit into them.
  let hash = 0x811c9dc5;
  for (let i = 0; i < id.length; i++) {
    hash ^= id.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  hash ^= hash >>> 16;
  hash = Math.imul(hash, 0x85ebca6b);
  hash ^= hash >>> 13;
  hash = Math.imul(hash, 0xc2b2ae35);
  hash ^= hash >>> 16;
  return ((hash >>> 0) % AVATAR_COLOURS) + 1;
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

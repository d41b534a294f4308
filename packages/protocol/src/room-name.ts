import { fail, ok, type Result } from './result.ts';

/** The longest room name accepted, counted in Unicode code points. */
export const ROOM_NAME_MAX_LENGTH = 100;

// The reference routes `\w+` (Python's Unicode word characters). We spell that out as
// letters, combining marks, digits/numbers and the underscore, so `한국어` or `café` work.
const ROOM_NAME_CHAR = /[\p{L}\p{M}\p{N}_]/u;

/** Why a room name was refused; stable strings a client may branch on. */
export type RoomNameProblem = 'empty' | 'too_long' | 'invalid_character' | 'invisible';

/** More combining marks than this on one character is stacking ("Zalgo"), not writing. */
const MAX_MARKS_IN_A_ROW = 4;

/**
 * Letters that show nothing: the Hangul fillers (U+115F, U+1160, U+3164, U+FFA0) are letters by
 * category but default-ignorable, so a name of them looks empty in the lobby.
 */
const INVISIBLE_LETTER = /\p{Default_Ignorable_Code_Point}/u;

/** The outcome of {@link parseRoomName}: the normalized name, or a problem with a sentence. */
export type RoomNameResult = Result<string, RoomNameProblem>;

/**
 * Validates a room name and returns its canonical form: the name that identifies the room
 * everywhere (its URL, its keys on the server, the room list).
 *
 * Names are NFC-normalized, so the same word typed on different keyboards (precomposed `é` or
 * `e` + combining accent) names the same room, and then lower-cased, so `Lobby`, `LOBBY` and
 * `lobby` are one room, `lobby`. Lower case is Unicode's default, the same in every locale
 * (`String.prototype.toLowerCase`): Turkish `I` becomes `i` (not `ı`), `İ` becomes `i` with a
 * combining dot above (so `İzmir` and `izmir` stay two rooms), a final capital sigma becomes `ς`
 * (so `ΟΔΟΣ` is `οδος`), `ẞ` becomes `ß`, and `ß` stays `ß` (full case folding would make it
 * `ss`, and rewrite a name people typed in lower case). The result is NFC-normalized again, and
 * the rules below apply to it.
 *
 * @param raw The name as typed or as decoded from the URL.
 * @returns The canonical name, or the first problem found with a sentence for people.
 */
export function parseRoomName(raw: string): RoomNameResult {
  const value = foldRoomName(raw);
  const chars = [...value];
  if (chars.length === 0) {
    return fail('empty', 'Room name is empty.');
  }
  if (chars.length > ROOM_NAME_MAX_LENGTH) {
    return fail('too_long', `Room name is ${chars.length} characters long; the limit is ${ROOM_NAME_MAX_LENGTH}.`);
  }
  const bad = chars.find((c) => !ROOM_NAME_CHAR.test(c));
  if (bad !== undefined) {
    return fail(
      'invalid_character',
      `Room name may only contain letters, digits and underscores; ${describeChar(bad)} is not allowed.`,
    );
  }
  if (
    /^\p{M}/u.test(value) ||
    INVISIBLE_LETTER.test(value) ||
    new RegExp(`\\p{M}{${MAX_MARKS_IN_A_ROW + 1}}`, 'u').test(value)
  ) {
    return fail(
      'invisible',
      'Room name must start with a letter, digit or underscore, with no invisible letters and no stacks of accents.',
    );
  }
  return ok(value);
}

// NFC again after lower-casing: Unicode does not promise that lower case keeps a string in NFC
// (`İ` becomes `i` and a combining mark).
function foldRoomName(raw: string): string {
  return raw.normalize('NFC').toLowerCase().normalize('NFC');
}

/**
 * Tells whether a string is already a valid, normalized room name.
 *
 * @param raw The candidate name.
 * @returns True when {@link parseRoomName} accepts it unchanged.
 */
export function isRoomName(raw: string): boolean {
  const result = parseRoomName(raw);
  return result.ok && result.value === raw;
}

function describeChar(c: string): string {
  if (c === ' ') return 'a space';
  const code = `U+${c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`;
  // Control and invisible characters would print as nothing; show only their code point.
  return /[\p{C}\p{Z}]/u.test(c) ? code : `"${c}" (${code})`;
}

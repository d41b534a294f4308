/** Who is in the room: the welcome's list, then kept up to date by join and leave frames. */
import { lookKeys, userTag, type Member } from '@parley/protocol';

// A member's `role` is as of the frame that listed them; the badges come from the room's roles,
// which moderation events keep current (moderation.ts).

/** Someone joined (or a reconnect's welcome listed them); a known id is updated when the server lists them otherwise. */
export function addMember(members: readonly Member[], user: Member): readonly Member[] {
  const at = members.findIndex((m) => m.id === user.id);
  if (at === -1) return [...members, user];
  if (sameListing(members[at]!, user)) return members;
  return members.map((m, i) => (i === at ? user : m));
}

function sameListing(a: Member, b: Member): boolean {
  return (
    a.name === b.name &&
    a.tag === b.tag &&
    a.role === b.role &&
    String(a.look) === String(b.look) &&
    a.lookalike === b.lookalike
  );
}

/**
 * Someone's last connection closed. The server's lookalike mark of a member who shared a look
 * key with them goes too: it was as of when that member was listed, and the one they looked like
 * may be the one leaving (lookalikeMarks still marks them while another member listed here
 * shares the key; a listing from the server puts the mark back).
 */
export function removeMember(members: readonly Member[], userId: string): readonly Member[] {
  const leaving = members.find((m) => m.id === userId);
  if (leaving === undefined) return members;
  const keys = new Set(keysOf(leaving));
  return members.flatMap((m) => {
    if (m.id === userId) return [];
    if (m.lookalike !== true || !keysOf(m).some((key) => keys.has(key))) return [m];
    const { lookalike: _mark, ...unmarked } = m;
    return [unmarked];
  });
}

/** A member's look keys: the server's, or computed from the name for a member listed without them. */
function keysOf(member: Member): readonly string[] {
  return member.look ?? lookKeys(member.name);
}

/**
 * Names in the reader's language's order, numbers by value (`Guest 2` before `Guest 10`). One
 * collator for every comparison: sorting a room of 10,000 with localeCompare would build one per call.
 */
const byName = new Intl.Collator(undefined, { numeric: true });

/**
 * The list as shown: you first, then everyone by name (in the reader's language's order, numbers
 * by value).
 *
 * @param myId Your user id, once known.
 */
export function sortMembers(members: readonly Member[], myId: string | undefined): Member[] {
  return [...members].sort((a, b) => {
    if (a.id === myId) return -1;
    if (b.id === myId) return 1;
    return byName.compare(a.name, b.name) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
  });
}

/**
 * The people whose name or tag matches what the reader typed in the member list's search:
 * case and accents aside (`zoe` finds Zoë), anywhere in the name; `#k3f` finds a tag by its start.
 *
 * @param members The list as shown (sortMembers), kept in its order.
 * @param query What the reader typed; blank: everyone.
 */
export function searchMembers(members: readonly Member[], query: string): readonly Member[] {
  const wanted = foldForSearch(query.trim());
  if (wanted === '') return members;
  const tagPrefix = wanted.startsWith('#') ? wanted.slice(1) : undefined;
  return members.filter((member) => {
    const tag = (member.tag ?? userTag(member.id)).toLowerCase();
    if (tagPrefix !== undefined) return tag.startsWith(tagPrefix);
    return foldForSearch(member.name).includes(wanted) || tag === wanted;
  });
}

/** Lower case, compatibility forms unified and combining marks dropped: how names are compared in a search. */
function foldForSearch(text: string): string {
  return text.normalize('NFKD').replace(/\p{M}/gu, '').toLowerCase();
}

/**
 * The people to mark "looks like another member's name": every member the server listed as
 * `lookalike` (someone present shares a key with them, whether or not this client has loaded
 * that person: in a big room the welcome lists only some), and every member who shares a `look`
 * key with another member loaded here (so a mark appears on both people when the second
 * arrives: the join marks only the newcomer). The server computes the keys when a person enters,
 * so every client marks the same people whatever confusables data it carries. A member listed
 * without keys (by a server before they existed, or from an entry stored before them) gets them
 * from their name here: lookKeys, the function the server uses, which compares the skeletons
 * the protocol's lookalikeIds compares.
 *
 * @param members The people present (one entry per id).
 * @returns The ids to mark.
 */
export function lookalikeMarks(members: readonly Member[]): Set<string> {
  const firstWithKey = new Map<string, string>();
  const marked = new Set<string>();
  for (const member of members) {
    if (member.lookalike === true) marked.add(member.id);
    for (const key of keysOf(member)) {
      const other = firstWithKey.get(key);
      if (other === undefined) firstWithKey.set(key, member.id);
      else if (other !== member.id) marked.add(other).add(member.id);
    }
  }
  return marked;
}

/**
 * How many people are present, and whether the member list holds them all. In a big room the
 * welcome lists only the first of them (`hasMoreMembers`), and above a size the server sends a
 * `presence` count instead of joins and leaves: the count stays right, the list is then a
 * snapshot (loaded from the member pages on request).
 */
export interface Headcount {
  count: number;
  complete: boolean;
}

/** The headcount a welcome gives (a server before member counts lists everyone). */
export function welcomeHeadcount(welcome: {
  members: readonly Member[];
  memberCount?: number;
  hasMoreMembers?: boolean;
}): Headcount {
  return { count: welcome.memberCount ?? welcome.members.length, complete: welcome.hasMoreMembers !== true };
}

/**
 * The headcount after a join or a leave. A join is someone's first presence anywhere: one more,
 * unless the list already had them. A leave is one fewer, when the list had them or does not hold
 * everyone (then they may be someone it never listed).
 */
export function headcountAfter(headcount: Headcount, kind: 'join' | 'leave', listed: boolean): Headcount {
  if (kind === 'join') return listed ? headcount : { ...headcount, count: headcount.count + 1 };
  if (!listed && headcount.complete) return headcount;
  return { ...headcount, count: Math.max(0, headcount.count - 1) };
}

/** The list with a page of members (GET /api/rooms/<room>/members) merged in by id. */
export function mergeMembers(members: readonly Member[], page: readonly Member[]): readonly Member[] {
  let merged = members;
  for (const member of page) merged = addMember(merged, member);
  return merged;
}

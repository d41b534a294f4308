import { lookKeys, userTag, type Member, type Role, type User } from '@parley/protocol';

// How a person present in a room is listed (the welcome's `members`, `join` frames). Both
// engines store each person's entry when they enter and list the stored entries as they are,
// so the work on a name (its lookalike skeletons) is done once per entry, never per welcome.

/** A person's stored entry: the user, their tag and the keys of how their name looks (bots are never present). */
export type MemberEntry = Required<Omit<Member, 'role' | 'bot'>>;

/**
 * The entry of a person entering a room: `tag` from the id, `look` from the name (lookKeys, so
 * every client marks the same lookalikes without computing them).
 */
export function memberEntry(user: User): MemberEntry {
  return { id: user.id, name: user.name, tag: userTag(user.id), look: lookKeys(user.name) };
}

/**
 * A stored entry's JSON with the person's role added, by splicing text rather than parsing it.
 * The role is never stored with the entry: it changes through moderation actions and a room's
 * first post, which would otherwise have to rewrite the entries; adding it whenever the list is
 * read costs one string concatenation a person. (The Redis ENTER script does the same in Lua.)
 *
 * @param entryJson A JSON object, as stored (an entry of an earlier release, `{id, name}`, too).
 */
export function withRole(entryJson: string, role: Role): string {
  return `${entryJson.slice(0, -1)},"role":"${role}"}`;
}

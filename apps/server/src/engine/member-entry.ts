import { lookKeys, userTag, type Member, type Role, type User } from '@parley/protocol';

// How a person present in a room is listed (the welcome's `members`, member pages, `join`
// frames). Both engines store each person's entry when they enter and list the stored entries as
// they are, so the work on a name (its lookalike skeletons) is done once per entry, never per
// welcome; whether a person looks like another present is kept as counts per look key.

/** A person's stored entry: the user, their tag and the keys of how their name looks (bots are never present). */
export type MemberEntry = Required<Omit<Member, 'role' | 'bot' | 'lookalike'>>;

/**
 * The entry of a person entering a room: `tag` from the id, `look` from the name (lookKeys, so
 * every client marks the same lookalikes without computing them).
 */
export function memberEntry(user: User): MemberEntry {
  return { id: user.id, name: user.name, tag: userTag(user.id), look: lookKeys(user.name) };
}

/**
 * A stored entry's JSON with the person's role added, by splicing text rather than parsing it,
 * and `"lookalike":true` when another person present shares one of their look keys (see
 * LookCounts). Neither is stored with the entry: roles change through moderation actions and a
 * room's first post, lookalikes as people come and go, which would otherwise have to rewrite
 * the entries; adding them whenever the list is read costs one string concatenation a person.
 * (The Redis presence scripts do the same in Lua.)
 *
 * @param entryJson A JSON object, as stored (an entry of an earlier release, `{id, name}`, too).
 */
export function withRole(entryJson: string, role: Role, lookalike = false): string {
  return `${entryJson.slice(0, -1)},"role":"${role}"${lookalike ? ',"lookalike":true' : ''}}`;
}

/**
 * How many people present in a room have each look key (lookKeys of their name), kept as people
 * enter, rename and leave, so that whether someone looks like another person present is one
 * lookup per key, never a comparison with everyone present (the memory engine's; the Redis
 * presence scripts keep the same counts in the room's `looks` hash).
 */
export class LookCounts {
  private readonly counts = new Map<string, number>();

  add(keys: readonly string[]): void {
    for (const key of keys) this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
  }

  remove(keys: readonly string[]): void {
    for (const key of keys) {
      const count = (this.counts.get(key) ?? 0) - 1;
      if (count > 0) this.counts.set(key, count);
      else this.counts.delete(key);
    }
  }

  /** Whether someone else present shares one of these keys (those of a person counted). */
  shared(keys: readonly string[]): boolean {
    return keys.some((key) => (this.counts.get(key) ?? 0) >= 2);
  }
}

/** Who is in the room: the welcome's list, then kept up to date by join and leave frames. */
import type { User } from '@parley/protocol';

/** Someone joined (or a reconnect's welcome listed them); a known id only updates the name. */
export function addMember(members: readonly User[], user: User): readonly User[] {
  const at = members.findIndex((m) => m.id === user.id);
  if (at === -1) return [...members, user];
  if (members[at]!.name === user.name) return members;
  return members.map((m, i) => (i === at ? user : m));
}

/** Someone's last connection closed. */
export function removeMember(members: readonly User[], userId: string): readonly User[] {
  const left = members.filter((m) => m.id !== userId);
  return left.length === members.length ? members : left;
}

/**
 * The list as shown: you first, then everyone by name (in the reader's language's order).
 *
 * @param myId Your user id, once known.
 */
export function sortMembers(members: readonly User[], myId: string | undefined): User[] {
  return [...members].sort((a, b) => {
    if (a.id === myId) return -1;
    if (b.id === myId) return 1;
    return a.name.localeCompare(b.name) || a.id.localeCompare(b.id);
  });
}

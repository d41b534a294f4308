/**
 * What a change frame (edit, delete, reactions) does to one message. Pure: the timeline applies
 * these to the message it holds by id. (The newest log id a page or a welcome carries is
 * `@parley/client`'s `newestInBatch`.)
 */
import type { ChangeFrame, MessageFrame, Reaction } from '@parley/protocol';

/**
 * The message after a change. A deleted message stays deleted (an edit or reactions that arrive
 * after the deletion, e.g. from a page fetched earlier, do not bring it back), and an edit older
 * than the one shown is ignored.
 *
 * @returns The message itself when nothing changes, so callers can tell by identity.
 */
export function applyChange(message: MessageFrame, change: ChangeFrame): MessageFrame {
  switch (change.type) {
    case 'edit':
      if (message.deleted === true) return message;
      if (message.editedTs !== undefined && change.editedTs < message.editedTs) return message;
      if (message.text === change.text && message.editedTs === change.editedTs) return message;
      return { ...message, text: change.text, editedTs: change.editedTs };
    case 'delete': {
      if (message.deleted === true) return message;
      // The text and the reactions go; who wrote it, when, and what it answered stay.
      const { text: _text, reactions: _reactions, editedTs: _editedTs, ...kept } = message;
      return { ...kept, deleted: true };
    }
    case 'reactions': {
      if (message.deleted === true) return message;
      if (sameReactions(message.reactions ?? [], change.reactions)) return message;
      const { reactions: _reactions, ...rest } = message;
      return change.reactions.length === 0 ? rest : { ...rest, reactions: change.reactions };
    }
    default: {
      const unknown: never = change;
      throw new Error(`no handler for the change ${(unknown as { type?: unknown }).type}`);
    }
  }
}

function sameReactions(a: readonly Reaction[], b: readonly Reaction[]): boolean {
  return (
    a.length === b.length &&
    a.every(
      (r, i) =>
        r.emoji === b[i]!.emoji &&
        r.count === b[i]!.count &&
        r.userIds.length === b[i]!.userIds.length &&
        r.userIds.every((id, j) => id === b[i]!.userIds[j]),
    )
  );
}

/**
 * Adds or takes back one person's reaction in a summary (what the server will send back, shown
 * before it does). Adding twice or taking back what is not there changes nothing.
 */
export function toggledReactions(
  reactions: readonly Reaction[],
  emoji: string,
  userId: string,
  on: boolean,
): readonly Reaction[] {
  const at = reactions.findIndex((r) => r.emoji === emoji);
  const current = at === -1 ? undefined : reactions[at]!;
  const has = current?.userIds.includes(userId) ?? false;
  if (has === on) return reactions;
  if (on) {
    if (current === undefined) return [...reactions, { emoji, count: 1, userIds: [userId] }];
    const next = { emoji, count: current.count + 1, userIds: [...current.userIds, userId] };
    return reactions.map((r, i) => (i === at ? next : r));
  }
  const userIds = current!.userIds.filter((id) => id !== userId);
  const count = Math.max(0, current!.count - 1);
  return count === 0
    ? reactions.filter((_, i) => i !== at)
    : reactions.map((r, i) => (i === at ? { emoji, count, userIds } : r));
}

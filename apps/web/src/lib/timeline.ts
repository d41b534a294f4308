/**
 * The room's log as the client holds it: messages in id order, join/leave lines where they
 * happened, and "gap" markers where a reconnect could not recover what was missed. Pure
 * functions over immutable arrays, so the reactive state can replace its array on each change.
 */
import { compareMessageIds, type MessageFrame, type User } from '@parley/protocol';

export type TimelineEntry =
  | { kind: 'message'; key: string; message: MessageFrame }
  | { kind: 'presence'; key: string; action: 'join' | 'leave'; user: User; ts: number }
  /** Messages may be missing here: the server no longer had everything since the last one. */
  | { kind: 'gap'; key: string };

export type MessageEntry = Extract<TimelineEntry, { kind: 'message' }>;

/** The key of a message entry; stable, so keyed lists never re-create a message's element. */
export function messageKey(id: string): string {
  return `m:${id}`;
}

function messageEntry(message: MessageFrame): MessageEntry {
  return { kind: 'message', key: messageKey(message.id), message };
}

function isMessage(entry: TimelineEntry): entry is MessageEntry {
  return entry.kind === 'message';
}

/**
 * Adds messages that arrived live or in a welcome. A message already present (same id) is
 * skipped, so a reconnect can never show one twice. Messages normally arrive in id order and go
 * to the end; one that is older than the newest is put in its place, but never across a gap
 * marker: what follows a gap is a separate stretch of history (the room may even have started
 * over with smaller ids), and mixing the two would be a lie.
 *
 * @param entries The current timeline.
 * @param messages The new messages, in any order.
 * @returns A new timeline, or the same array when nothing was added.
 */
export function appendMessages(entries: readonly TimelineEntry[], messages: readonly MessageFrame[]): readonly TimelineEntry[] {
  const known = new Set(entries.filter(isMessage).map((e) => e.message.id));
  const fresh = uniqueById(messages.filter((m) => !known.has(m.id))).sort((a, b) => compareMessageIds(a.id, b.id));
  if (fresh.length === 0) return entries;

  const result = [...entries];
  const segmentStart = lastGapIndex(result) + 1;
  for (const message of fresh) {
    // The first message of the current stretch that is newer than this one, if any.
    let at = result.length;
    for (let i = result.length - 1; i >= segmentStart; i--) {
      const entry = result[i]!;
      if (!isMessage(entry)) continue;
      if (compareMessageIds(entry.message.id, message.id) < 0) break;
      at = i;
    }
    result.splice(at, 0, messageEntry(message));
  }
  return result;
}

/**
 * Puts a page of older history (scroll-back) before everything else, without duplicates.
 *
 * @param entries The current timeline.
 * @param older Messages older than the oldest one held.
 * @returns A new timeline, or the same array when nothing was added.
 */
export function prependMessages(entries: readonly TimelineEntry[], older: readonly MessageFrame[]): readonly TimelineEntry[] {
  const known = new Set(entries.filter(isMessage).map((e) => e.message.id));
  const fresh = uniqueById(older.filter((m) => !known.has(m.id))).sort((a, b) => compareMessageIds(a.id, b.id));
  if (fresh.length === 0) return entries;
  return [...fresh.map(messageEntry), ...entries];
}

/** Adds a join/leave line or a gap marker at the end. */
export function appendEntry(entries: readonly TimelineEntry[], entry: TimelineEntry): readonly TimelineEntry[] {
  return [...entries, entry];
}

/**
 * The newest message id held, i.e. the `since` to reconnect with: the last message in the
 * timeline, which is in id order within each stretch and whose stretches are in arrival order
 * (after a room started over, its new, smaller ids are still the newest).
 */
export function newestMessageId(entries: readonly TimelineEntry[]): string | undefined {
  for (let i = entries.length - 1; i >= 0; i--) {
    const entry = entries[i]!;
    if (isMessage(entry)) return entry.message.id;
  }
  return undefined;
}

/** The oldest message id held, i.e. the `before` of the next scroll-back page. */
export function oldestMessageId(entries: readonly TimelineEntry[]): string | undefined {
  return entries.find(isMessage)?.message.id;
}

/** Whether a message with this id is held. */
export function hasMessage(entries: readonly TimelineEntry[], id: string): boolean {
  return entries.some((e) => isMessage(e) && e.message.id === id);
}

/**
 * The first message newer than `after` written by someone else: where the "new since your last
 * visit" divider goes, and the start of what the reader has not seen.
 *
 * @param after The newest id the reader saw, or `null` when they saw nothing yet.
 * @param myId The reader's own user id: their own messages are never news to them.
 */
export function firstUnread(entries: readonly TimelineEntry[], after: string | null, myId: string | undefined): string | undefined {
  if (after === null) return undefined;
  return entries.find((e): e is MessageEntry => isMessage(e) && e.message.user.id !== myId && compareMessageIds(e.message.id, after) > 0)
    ?.message.id;
}

/**
 * How many messages from others are newer than `after`.
 *
 * @param after The newest id the reader saw, or `null` when they saw none (a room that was
 *   empty when they came in): then every message from others counts.
 */
export function countUnread(entries: readonly TimelineEntry[], after: string | null, myId: string | undefined): number {
  return entries.filter((e) => isMessage(e) && e.message.user.id !== myId && (after === null || compareMessageIds(e.message.id, after) > 0)).length;
}

function lastGapIndex(entries: readonly TimelineEntry[]): number {
  for (let i = entries.length - 1; i >= 0; i--) if (entries[i]!.kind === 'gap') return i;
  return -1;
}

function uniqueById(messages: readonly MessageFrame[]): MessageFrame[] {
  const seen = new Set<string>();
  return messages.filter((m) => !seen.has(m.id) && seen.add(m.id));
}

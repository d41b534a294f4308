/**
 * Turns the timeline and the outbox into what the log shows: consecutive messages by one person
 * within a few minutes form a group under one name, broken by join/leave lines, gap markers and
 * the "new since your last visit" divider. Messages not yet in the log (the outbox) come last,
 * as the reader's own.
 */
import type { User } from '@parley/protocol';
import type { OutboxItem } from './outbox.ts';
import type { TimelineEntry } from './timeline.ts';

/** Messages this close together (ms) by the same person share one name heading. */
export const GROUP_WINDOW_MS = 5 * 60_000;

/** `delivered`: in the room's log. The others are outbox states (`sent` = acked, not yet back). */
export type ItemState = 'delivered' | OutboxItem['state'];

/** One message line. */
export interface LogItem {
  key: string;
  text: string;
  ts: number;
  state: ItemState;
  /** The server's id, once known. */
  id?: string;
  /** For Retry and Discard of the reader's own unsent messages. */
  clientMsgId?: string;
  error?: string;
}

export type LogRow =
  | { kind: 'group'; key: string; user: User; mine: boolean; items: LogItem[] }
  | { kind: 'presence'; key: string; action: 'join' | 'leave'; user: User; ts: number }
  | { kind: 'gap'; key: string }
  | { kind: 'divider'; key: string };

export interface RowOptions {
  /** The reader, or `null` before the first welcome (their outbox is still shown as theirs). */
  me: User | null;
  /** The reader's display name, used for the outbox before the first welcome. */
  myName: string;
  /** The id of the message to put the "new since your last visit" divider before. */
  dividerBefore?: string | undefined;
  groupWindowMs?: number;
}

export function buildRows(timeline: readonly TimelineEntry[], outbox: readonly OutboxItem[], options: RowOptions): LogRow[] {
  const { me, myName, dividerBefore, groupWindowMs = GROUP_WINDOW_MS } = options;
  const rows: LogRow[] = [];
  let group: Extract<LogRow, { kind: 'group' }> | null = null;

  const addItem = (user: User, item: LogItem) => {
    const last = group?.items.at(-1);
    if (group !== null && last !== undefined && group.user.id === user.id && item.ts - last.ts < groupWindowMs) {
      group.items.push(item);
      return;
    }
    // A new group is keyed by its first message, which never changes, so its element is kept.
    group = { kind: 'group', key: `g:${item.key}`, user, mine: me !== null && user.id === me.id, items: [item] };
    rows.push(group);
  };

  for (const entry of timeline) {
    if (entry.kind !== 'message') {
      rows.push(entry);
      group = null;
      continue;
    }
    const { message } = entry;
    if (message.id === dividerBefore) {
      rows.push({ kind: 'divider', key: 'divider' });
      group = null;
    }
    addItem(message.user, { key: entry.key, text: message.text, ts: message.ts, state: 'delivered', id: message.id });
  }

  const author: User = me ?? { id: '', name: myName };
  for (const item of outbox) {
    addItem(author, {
      key: `o:${item.clientMsgId}`,
      text: item.text,
      ts: item.createdAt,
      state: item.state,
      id: item.id,
      clientMsgId: item.clientMsgId,
      error: item.error,
    });
  }
  // Before the first welcome the outbox's author has no id: mark it as the reader's anyway.
  if (me === null) for (const row of rows) if (row.kind === 'group' && row.user.id === '') row.mine = true;
  return rows;
}

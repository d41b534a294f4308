/**
 * Turns the timeline and the outbox into what the log shows: consecutive messages by one person
 * within a few minutes form a group under one name, broken by join/leave lines, gap markers and
 * the "new since your last visit" divider. Messages not yet in the log (the outbox) come last,
 * as the reader's own.
 *
 * The rows are rebuilt on every change of the log, but what did not change keeps its objects
 * (a message's item, a whole group): a keyed list then leaves those elements alone, so one new
 * join line does not make the view look at every message (and its links) again.
 */
import type { MessageFrame, Reaction, ReplyRef, User } from '@parley/protocol';
import { toggledReactions } from './changes.ts';
import type { OutboxItem } from './outbox.ts';
import type {
  MessageEntry,
  ModerationEntry,
  PresenceEntry,
  SettingsEntry,
  TimelineEntry,
  WebhookEntry,
} from './timeline.ts';

/** Messages this close together (ms) by the same person share one name heading. */
export const GROUP_WINDOW_MS = 5 * 60_000;

/** `delivered`: in the room's log. The others are outbox states (`sent` = acked, not yet back). */
export type ItemState = 'delivered' | OutboxItem['state'];

/** One message line. */
export interface LogItem {
  key: string;
  /** What it says now: with the reader's own unconfirmed edit, if any ('' once deleted). */
  text: string;
  ts: number;
  state: ItemState;
  /** The server's id, once known. */
  id?: string;
  /** For Retry and Discard of the reader's own unsent messages. */
  clientMsgId?: string;
  error?: string;
  /** When it was last edited (server time), once it was. */
  editedTs?: number;
  /** Deleted: a tombstone shows in its place. */
  deleted?: boolean;
  /** Its reactions, the reader's own unconfirmed ones included. */
  reactions?: readonly Reaction[];
  replyTo?: ReplyRef;
  /** The reader's own changes to it that are not confirmed yet (pending, on the wire, failed). */
  changes?: readonly OutboxItem[];
}

export type LogRow =
  | { kind: 'group'; key: string; user: User; mine: boolean; items: LogItem[] }
  | PresenceEntry
  | ModerationEntry
  | SettingsEntry
  | WebhookEntry
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

/** There is one divider at most, always this row. */
const DIVIDER: LogRow = { kind: 'divider', key: 'divider' };

// One item per message entry and per outbox item: both are replaced, never changed, when they change.
const messageItems = new WeakMap<MessageEntry, LogItem>();
const outboxItems = new WeakMap<OutboxItem, LogItem>();

function messageItem(
  entry: MessageEntry,
  changes: readonly OutboxItem[] | undefined,
  myId: string | undefined,
): LogItem {
  // An item with changes of the reader's own is built afresh: it shows what they did until the
  // server confirms it (rare, and short-lived).
  if (changes !== undefined) return withChanges(fromMessage(entry.key, entry.message), changes, myId);
  let item = messageItems.get(entry);
  if (item === undefined) {
    item = fromMessage(entry.key, entry.message);
    messageItems.set(entry, item);
  }
  return item;
}

function fromMessage(key: string, message: MessageFrame): LogItem {
  const item: LogItem = { key, text: message.text ?? '', ts: message.ts, state: 'delivered', id: message.id };
  if (message.editedTs !== undefined) item.editedTs = message.editedTs;
  if (message.deleted === true) item.deleted = true;
  if (message.reactions !== undefined && message.reactions.length > 0) item.reactions = message.reactions;
  if (message.replyTo !== undefined) item.replyTo = message.replyTo;
  return item;
}

/**
 * A message as the reader's own changes would leave it, in the order they were made: an edit
 * shows its text, a deletion on the wire or acked shows the tombstone, a reaction shows in the
 * counts. A failed change shows nothing but its failure (the message is as the server has it).
 *
 * @param myId The reader's user id (their reactions carry it).
 */
export function withChanges(item: LogItem, changes: readonly OutboxItem[], myId: string | undefined): LogItem {
  const next: LogItem = { ...item, changes: changes.filter((c) => c.state !== 'sent') };
  for (const { change, state, text } of changes) {
    if (change === undefined || state === 'failed' || next.deleted === true) continue;
    if (change.kind === 'edit') next.text = text;
    else if (change.kind === 'delete') {
      // Pending or on the wire, it is still there (with a note); acked, it is gone.
      if (state === 'sent') {
        next.deleted = true;
        next.text = '';
        delete next.reactions;
      }
    } else if (myId !== undefined) {
      const reactions = toggledReactions(next.reactions ?? [], change.emoji, myId, change.kind === 'react');
      if (reactions.length === 0) delete next.reactions;
      else next.reactions = reactions;
    }
  }
  if (next.changes!.length === 0) delete next.changes;
  return next;
}

function outboxItem(entry: OutboxItem): LogItem {
  let item = outboxItems.get(entry);
  if (item === undefined) {
    const { clientMsgId, text, createdAt, state, id, error, replyTo } = entry;
    item = { key: `o:${clientMsgId}`, text, ts: createdAt, state, id, clientMsgId, error };
    if (replyTo !== undefined) item.replyTo = replyTo;
    outboxItems.set(entry, item);
  }
  return item;
}

/**
 * @param previous The rows of the last call: rows that came out the same are these objects.
 */
export function buildRows(
  timeline: readonly TimelineEntry[],
  outbox: readonly OutboxItem[],
  options: RowOptions,
  previous: readonly LogRow[] = [],
): LogRow[] {
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

  // The reader's changes, by the message they change: a lookup per message, not a scan.
  const changes = new Map<string, OutboxItem[]>();
  for (const item of outbox) {
    if (item.change === undefined) continue;
    const list = changes.get(item.change.target);
    if (list === undefined) changes.set(item.change.target, [item]);
    else list.push(item);
  }

  for (const entry of timeline) {
    if (entry.kind !== 'message') {
      rows.push(entry);
      group = null;
      continue;
    }
    if (entry.message.id === dividerBefore) {
      rows.push(DIVIDER);
      group = null;
    }
    addItem(entry.message.user, messageItem(entry, changes.get(entry.message.id), me?.id));
  }

  const author: User = me ?? { id: '', name: myName };
  for (const item of outbox) if (item.change === undefined) addItem(author, outboxItem(item));
  // Before the first welcome the outbox's author has no id: mark it as the reader's anyway.
  if (me === null) for (const row of rows) if (row.kind === 'group' && row.user.id === '') row.mine = true;
  return reuseRows(rows, previous);
}

/** `rows`, with each group that equals one of `previous` (same items, author, ownership) replaced by it. */
function reuseRows(rows: LogRow[], previous: readonly LogRow[]): LogRow[] {
  if (previous.length === 0) return rows;
  const before = new Map<string, LogRow>();
  for (const row of previous) if (row.kind === 'group') before.set(row.key, row);
  for (let i = 0; i < rows.length; i++) {
    const row = rows[i]!;
    const old = before.get(row.key);
    if (row.kind === 'group' && old?.kind === 'group' && sameGroup(row, old)) rows[i] = old;
  }
  return rows;
}

function sameGroup(a: Extract<LogRow, { kind: 'group' }>, b: Extract<LogRow, { kind: 'group' }>): boolean {
  if (a.mine !== b.mine || a.user.id !== b.user.id || a.user.name !== b.user.name || a.items.length !== b.items.length)
    return false;
  return a.items.every((item, i) => item === b.items[i]);
}

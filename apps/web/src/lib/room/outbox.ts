/**
 * The messages this page sent (or will send) that the server has not yet shown back, and the
 * changes to messages already sent (edits, deletions, reactions). Each one has a `clientMsgId`
 * chosen here; the server applies a retried clientMsgId only once, so an item can safely be
 * resent after a reconnect or by the Retry button.
 *
 * Life of an item: `pending` (offline, or waiting for the welcome) → `sending` (on the wire) →
 * `sent` (acked; waiting for the message, or the change, to arrive) → removed once the log holds
 * it. `failed` when the server refused it or never answered; Retry makes it `pending` again.
 */
import {
  CLIENT_MSG_ID_PATTERN,
  checkMessageText,
  compareMessageIds,
  isEmoji,
  isMessageId,
  type ClientFrame,
  type MessageFrame,
  type ReplyRef,
} from '@parley/protocol';

export type OutboxState = 'pending' | 'sending' | 'sent' | 'failed';

/** A change to a message already in the log; its `target` is that message's id. */
export type MessageChange =
  | { kind: 'edit'; target: string }
  | { kind: 'delete'; target: string }
  | { kind: 'react' | 'unreact'; target: string; emoji: string };

export interface OutboxItem {
  clientMsgId: string;
  /** A message's text, or an edit's new text ('' for the other changes). */
  text: string;
  /** Set for a change to a message already sent; absent for a new message. */
  change?: MessageChange;
  /** For a new message: the message it answers, as the reply shows it. */
  replyTo?: ReplyRef;
  /** When it was typed (local clock), for the time shown beside it. */
  createdAt: number;
  state: OutboxState;
  /** When it was last put on the wire; the send timeout counts from here. */
  sentAt?: number;
  /** The id from the ack: the message's, or for a change its own place in the log. */
  id?: string;
  /** Why it failed, for people. */
  error?: string;
}

/**
 * A fresh client message id: random, so that two tabs or two reloads never collide.
 *
 * @param random A UUID source; injectable for tests.
 */
export function newClientMsgId(random: () => string = () => crypto.randomUUID()): string {
  const id = `c-${random().replace(/[^A-Za-z0-9_-]/g, '')}`.slice(0, 64);
  if (!CLIENT_MSG_ID_PATTERN.test(id)) throw new Error(`not a valid clientMsgId: ${id}`);
  return id;
}

/** Adds a message the user just typed, not yet on the wire (a reply when `replyTo` is given). */
export function addToOutbox(
  outbox: readonly OutboxItem[],
  clientMsgId: string,
  text: string,
  now: number,
  replyTo?: ReplyRef,
): readonly OutboxItem[] {
  const item: OutboxItem = { clientMsgId, text, createdAt: now, state: 'pending' };
  if (replyTo !== undefined) item.replyTo = replyTo;
  return [...outbox, item];
}

/**
 * Adds a change to a message already sent, not yet on the wire. It follows the rules of a
 * message: pending while offline, sent once, retried with the same clientMsgId.
 *
 * @param text An edit's new text ('' for the other changes).
 */
export function addChange(
  outbox: readonly OutboxItem[],
  clientMsgId: string,
  change: MessageChange,
  text: string,
  now: number,
): readonly OutboxItem[] {
  return [
    ...outbox,
    { clientMsgId, text: change.kind === 'edit' ? text : '', change, createdAt: now, state: 'pending' },
  ];
}

/** The frame that puts an item on the wire. */
export function outboxFrame(item: OutboxItem): ClientFrame {
  const { clientMsgId, change } = item;
  if (change === undefined) {
    return item.replyTo === undefined
      ? { type: 'message', text: item.text, clientMsgId }
      : { type: 'message', text: item.text, clientMsgId, replyTo: item.replyTo.id };
  }
  switch (change.kind) {
    case 'edit':
      return { type: 'edit', id: change.target, text: item.text, clientMsgId };
    case 'delete':
      return { type: 'delete', id: change.target, clientMsgId };
    default:
      return { type: change.kind, id: change.target, emoji: change.emoji, clientMsgId };
  }
}

/** What people read when an item failed: "Your message was not sent: …" and the like. */
export function failureText(item: OutboxItem | undefined): string {
  switch (item?.change?.kind) {
    case 'edit':
      return 'Your edit was not saved';
    case 'delete':
      return 'Your message was not deleted';
    case 'react':
    case 'unreact':
      return 'Your reaction was not saved';
    default:
      return 'Your message was not sent';
  }
}

/** What to put on the wire after a (re)connect's welcome: everything not yet acked or failed. */
export function awaitingSend(outbox: readonly OutboxItem[]): readonly OutboxItem[] {
  return outbox.filter((item) => item.state === 'pending' || item.state === 'sending');
}

/** Marks items as sent over the socket just now. */
export function markSending(
  outbox: readonly OutboxItem[],
  clientMsgIds: readonly string[],
  now: number,
): readonly OutboxItem[] {
  const ids = new Set(clientMsgIds);
  return update(outbox, (item) =>
    ids.has(item.clientMsgId) ? { ...item, state: 'sending', sentAt: now, error: undefined } : item,
  );
}

/** The connection dropped: whatever was on the wire unanswered waits for the next welcome. */
export function markDisconnected(outbox: readonly OutboxItem[]): readonly OutboxItem[] {
  return update(outbox, (item) => (item.state === 'sending' ? { ...item, state: 'pending', sentAt: undefined } : item));
}

/**
 * The server stored the message under `id`. An ack may even come for an item shown as failed
 * (a late answer after the timeout): it was sent after all.
 */
export function markAcked(outbox: readonly OutboxItem[], clientMsgId: string, id: string): readonly OutboxItem[] {
  return update(outbox, (item) =>
    item.clientMsgId === clientMsgId ? { ...item, state: 'sent', id, error: undefined } : item,
  );
}

/** The server refused the message, or never answered. */
export function markFailed(outbox: readonly OutboxItem[], clientMsgId: string, reason: string): readonly OutboxItem[] {
  return update(outbox, (item) =>
    item.clientMsgId === clientMsgId && item.state !== 'sent'
      ? { ...item, state: 'failed', error: reason, sentAt: undefined }
      : item,
  );
}

/** The user pressed Retry: the same clientMsgId goes out again. */
export function markRetry(outbox: readonly OutboxItem[], clientMsgId: string): readonly OutboxItem[] {
  return update(outbox, (item) =>
    item.clientMsgId === clientMsgId && item.state === 'failed'
      ? { ...item, state: 'pending', error: undefined }
      : item,
  );
}

/**
 * Gives a failed message a new clientMsgId, for when the server holds another text under the old
 * one (`client_msg_id_reused`): a Retry with the old id would be refused again.
 */
export function renewClientMsgId(
  outbox: readonly OutboxItem[],
  clientMsgId: string,
  fresh: string,
): readonly OutboxItem[] {
  return update(outbox, (item) =>
    item.clientMsgId === clientMsgId && item.state === 'failed' ? { ...item, clientMsgId: fresh } : item,
  );
}

/** The user gave up on a failed message. */
export function discard(outbox: readonly OutboxItem[], clientMsgId: string): readonly OutboxItem[] {
  return outbox.filter((item) => item.clientMsgId !== clientMsgId || item.state !== 'failed');
}

/**
 * Removes the items the log now holds: matched by the acked id, or by the clientMsgId of a
 * message that this same person wrote (another person's clientMsgId is no proof of anything).
 *
 * @param messages Messages that just arrived (live or in a welcome).
 * @param myId The user id this page has now.
 */
export function removeDelivered(
  outbox: readonly OutboxItem[],
  messages: readonly MessageFrame[],
  myId: string | undefined,
): readonly OutboxItem[] {
  if (outbox.length === 0 || messages.length === 0) return outbox;
  const ids = new Set(messages.map((m) => m.id));
  const mine = new Set(
    messages.filter((m) => m.user.id === myId && m.clientMsgId !== undefined).map((m) => m.clientMsgId),
  );
  const left = outbox.filter(
    (item) => item.change !== undefined || !(mine.has(item.clientMsgId) || (item.id !== undefined && ids.has(item.id))),
  );
  return left.length === outbox.length ? outbox : left;
}

/**
 * Removes the acked changes the log has reached: the room's log is delivered in order, so once
 * the newest id seen is at or past a change's own id, the change was applied (live, or folded
 * into a welcome or a page). Until then an acked change keeps showing as done.
 *
 * @param cursor The newest id seen (see Timeline.cursor).
 */
export function removeAppliedChanges(outbox: readonly OutboxItem[], cursor: string | undefined): readonly OutboxItem[] {
  if (cursor === undefined) return outbox;
  const left = outbox.filter(
    (item) =>
      item.change === undefined ||
      item.state !== 'sent' ||
      item.id === undefined ||
      compareMessageIds(item.id, cursor) > 0,
  );
  return left.length === outbox.length ? outbox : left;
}

/** The clientMsgIds on the wire for longer than `timeoutMs` without an answer. */
export function timedOut(outbox: readonly OutboxItem[], now: number, timeoutMs: number): string[] {
  return outbox
    .filter((item) => item.state === 'sending' && item.sentAt !== undefined && now - item.sentAt >= timeoutMs)
    .map((i) => i.clientMsgId);
}

/**
 * What of the outbox is worth keeping across a reload: every message the server has not
 * confirmed (one on the wire comes back as pending: it is sent again, and the server stores a
 * clientMsgId once), and failed ones, so Retry and Discard are still offered. Acked ones are
 * left out; the welcome's history brings them back as messages.
 */
export function keptOutbox(outbox: readonly OutboxItem[]): OutboxItem[] {
  return outbox
    .filter((item) => item.state !== 'sent')
    .map(({ clientMsgId, text, createdAt, state, error, change, replyTo }) => {
      const kept: OutboxItem =
        state === 'failed'
          ? { clientMsgId, text, createdAt, state, error }
          : { clientMsgId, text, createdAt, state: 'pending' };
      if (change !== undefined) kept.change = change;
      if (replyTo !== undefined) kept.replyTo = replyTo;
      return kept;
    });
}

/**
 * The items kept by {@link keptOutbox}, read back from storage. Anything malformed (another
 * build's format, a hand-edited value) is skipped rather than sent.
 */
export function restoreOutbox(value: unknown): OutboxItem[] {
  if (!Array.isArray(value)) return [];
  const items: OutboxItem[] = [];
  const seen = new Set<string>();
  for (const entry of value as unknown[]) {
    if (typeof entry !== 'object' || entry === null) continue;
    const { clientMsgId, text, createdAt, state, error, change, replyTo } = entry as Record<string, unknown>;
    if (typeof clientMsgId !== 'string' || !CLIENT_MSG_ID_PATTERN.test(clientMsgId) || seen.has(clientMsgId)) continue;
    if (typeof text !== 'string' || typeof createdAt !== 'number') continue;
    if (state !== 'pending' && state !== 'failed') continue;
    const restoredChange = change === undefined ? undefined : restoreChange(change);
    if (restoredChange === null) continue;
    // Text is needed for a message and an edit only.
    if ((restoredChange === undefined || restoredChange.kind === 'edit') && !checkMessageText(text).ok) continue;
    const restoredReply = replyTo === undefined || restoredChange !== undefined ? undefined : restoreReply(replyTo);
    if (restoredReply === null) continue;
    seen.add(clientMsgId);
    const item: OutboxItem =
      state === 'failed'
        ? { clientMsgId, text, createdAt, state, error: typeof error === 'string' ? error : 'Not sent.' }
        : { clientMsgId, text, createdAt, state };
    if (restoredChange !== undefined) item.change = restoredChange;
    if (restoredReply !== undefined) item.replyTo = restoredReply;
    items.push(item);
  }
  return items;
}

/** A stored change, or `null` when it is not one this build would send. */
function restoreChange(value: unknown): MessageChange | null {
  if (typeof value !== 'object' || value === null) return null;
  const { kind, target, emoji } = value as Record<string, unknown>;
  if (typeof target !== 'string' || !isMessageId(target)) return null;
  if (kind === 'edit' || kind === 'delete') return { kind, target };
  if ((kind === 'react' || kind === 'unreact') && typeof emoji === 'string' && isEmoji(emoji))
    return { kind, target, emoji };
  return null;
}

/** A stored reply reference, or `null` when malformed. */
function restoreReply(value: unknown): ReplyRef | null {
  if (typeof value !== 'object' || value === null) return null;
  const { id, user, excerpt } = value as Record<string, unknown>;
  if (typeof id !== 'string' || !isMessageId(id) || typeof user !== 'object' || user === null) return null;
  const { id: userId, name } = user as Record<string, unknown>;
  if (typeof userId !== 'string' || typeof name !== 'string') return null;
  if (excerpt !== undefined && typeof excerpt !== 'string') return null;
  return excerpt === undefined ? { id, user: { id: userId, name } } : { id, user: { id: userId, name }, excerpt };
}

function update(outbox: readonly OutboxItem[], change: (item: OutboxItem) => OutboxItem): readonly OutboxItem[] {
  let changed = false;
  const next = outbox.map((item) => {
    const updated = change(item);
    if (updated !== item) changed = true;
    return updated;
  });
  return changed ? next : outbox;
}

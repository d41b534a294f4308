/**
 * The messages this page sent (or will send) that the server has not yet shown back. Each one
 * has a `clientMsgId` chosen here; the server stores a retried clientMsgId only once, so a
 * message can safely be resent after a reconnect or by the Retry button.
 *
 * Life of an item: `pending` (offline, or waiting for the welcome) → `sending` (on the wire) →
 * `sent` (acked; waiting for the message itself to arrive) → removed once the log holds it.
 * `failed` when the server refused it or never answered; Retry makes it `pending` again.
 */
import { CLIENT_MSG_ID_PATTERN, checkMessageText, type MessageFrame } from '@parley/protocol';

export type OutboxState = 'pending' | 'sending' | 'sent' | 'failed';

export interface OutboxItem {
  clientMsgId: string;
  text: string;
  /** When it was typed (local clock), for the time shown beside it. */
  createdAt: number;
  state: OutboxState;
  /** When it was last put on the wire; the send timeout counts from here. */
  sentAt?: number;
  /** The message id from the ack. */
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

/** Adds a message the user just typed, not yet on the wire. */
export function addToOutbox(
  outbox: readonly OutboxItem[],
  clientMsgId: string,
  text: string,
  now: number,
): readonly OutboxItem[] {
  return [...outbox, { clientMsgId, text, createdAt: now, state: 'pending' }];
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
  const left = outbox.filter((item) => !(mine.has(item.clientMsgId) || (item.id !== undefined && ids.has(item.id))));
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
    .map(({ clientMsgId, text, createdAt, state, error }) =>
      state === 'failed'
        ? { clientMsgId, text, createdAt, state, error }
        : { clientMsgId, text, createdAt, state: 'pending' },
    );
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
    const { clientMsgId, text, createdAt, state, error } = entry as Record<string, unknown>;
    if (typeof clientMsgId !== 'string' || !CLIENT_MSG_ID_PATTERN.test(clientMsgId) || seen.has(clientMsgId)) continue;
    if (typeof text !== 'string' || !checkMessageText(text).ok || typeof createdAt !== 'number') continue;
    if (state !== 'pending' && state !== 'failed') continue;
    seen.add(clientMsgId);
    items.push(
      state === 'failed'
        ? { clientMsgId, text, createdAt, state, error: typeof error === 'string' ? error : 'Not sent.' }
        : { clientMsgId, text, createdAt, state },
    );
  }
  return items;
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

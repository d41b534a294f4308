/**
 * The log entries of a welcome or of a history page, in the room's one order. A batch holds
 * messages (`history` or `messages`, in their latest state) and, recovering, the changes to older
 * messages, the moderation actions, the settings changes and the changes of the room's webhook
 * made since (a first welcome: the webhook changes of its stretch too): each kind in a list of
 * its own. Merged by log id they come out as the room saw them.
 */
import {
  compareMessageIds,
  isMessageId,
  type ChangeFrame,
  type HistoryPage,
  type MessageFrame,
  type ModerationFrame,
  type SettingsFrame,
  type WebhookChangeFrame,
  type WelcomeFrame,
} from '@parley/protocol';

/**
 * A frame of the room's log: a message, a change to one, a moderation action, a settings change,
 * a change of the room's webhook.
 */
export type LogFrame = MessageFrame | ChangeFrame | ModerationFrame | SettingsFrame | WebhookChangeFrame;

/** A welcome or a page: what carries log entries in bulk. */
export type LogBatch =
  | Pick<WelcomeFrame, 'history' | 'changes' | 'moderation' | 'settingsChanges' | 'webhookChanges' | 'lastEventId'>
  | HistoryPage;

/** A log frame's place in the room's log: a message's id, any other entry's `eventId`. */
export function logId(frame: LogFrame): string {
  return frame.type === 'message' ? frame.id : frame.eventId;
}

/**
 * Whether a server frame is an entry of the room's log (stored, replayed by recovery). A `webhook`
 * frame is one when it tells everyone of a change (`by`, `eventId`); the owner's answers, and a
 * server's from before webhook changes were logged (no `eventId`), are not.
 */
export function isLogFrame(frame: { type: string; by?: unknown; eventId?: unknown }): frame is LogFrame {
  if (frame.type === 'webhook') return frame.by !== undefined && typeof frame.eventId === 'string';
  return (
    frame.type === 'message' ||
    frame.type === 'edit' ||
    frame.type === 'delete' ||
    frame.type === 'reactions' ||
    frame.type === 'moderation' ||
    frame.type === 'settings'
  );
}

/** Every log frame of a batch, oldest first. */
export function batchFrames(batch: LogBatch): LogFrame[] {
  const messages = 'history' in batch ? batch.history : batch.messages;
  const frames: LogFrame[] = [
    ...messages,
    ...(batch.changes ?? []),
    ...(batch.moderation ?? []),
    ...(batch.settingsChanges ?? []),
    ...(batch.webhookChanges ?? []),
  ];
  // Stable: two entries never share an id, but a server's lists are kept in their order anyway.
  return frames.sort((a, b) => compareMessageIds(logId(a), logId(b)));
}

/** The newest of some log ids, or `undefined` for none. */
export function newestId(ids: Iterable<string | undefined>): string | undefined {
  let newest: string | undefined;
  for (const id of ids)
    if (id !== undefined && (newest === undefined || compareMessageIds(id, newest) > 0)) newest = id;
  return newest;
}

/**
 * The newest log id a batch covers: its `lastEventId` (a change folded into a message's state
 * included), else its newest entry. A recovery asks for what follows it.
 */
export function newestInBatch(batch: LogBatch): string | undefined {
  // Not a schema-checked id: one that is not an id is ignored rather than compared.
  const covered = batch.lastEventId !== undefined && isMessageId(batch.lastEventId) ? batch.lastEventId : undefined;
  return newestId([...batchFrames(batch).map(logId), covered]);
}

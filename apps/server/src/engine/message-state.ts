import { createHash } from 'node:crypto';
import {
  DEFAULT_PURGE_SECONDS,
  LIMITS,
  MAX_PURGE_MESSAGES,
  MAX_PURGE_SECONDS,
  type ChangeFrame,
  type ChangeOp,
  type ModerationFrame,
  type Reaction,
  type SettingsFrame,
  type WebhookChangeFrame,
} from '@parley/protocol';
import type {
  ChangeDraft,
  ChangeRefusal,
  MessageDraft,
  ModerationDraft,
  PurgeDraft,
  SettingsDraft,
  StoredMessage,
} from './engine.ts';
import { LATEST_PAGE_MODERATION, LATEST_PAGE_SETTINGS_CHANGES, LATEST_PAGE_WEBHOOK_CHANGES } from './engine.ts';

// The rules of a message's state after edits, deletions and reactions, shared by both engines
// (the Redis engine's scripts apply the same rules inside Redis; its tests and the memory
// engine's run the same cases).

/** The first characters of a message's text that a reply quotes (whole code points). */
export function replyExcerpt(text: string | undefined): string | undefined {
  if (text === undefined) return undefined;
  if (text.length <= LIMITS.replyExcerptLength) return text;
  return Array.from(text).slice(0, LIMITS.replyExcerptLength).join('');
}

/** The limits a reaction is checked against. */
export interface ReactionLimits {
  maxReactionEmoji: number;
  maxReactionsPerMessage: number;
}

/**
 * A message's reactions after someone reacts or takes a reaction back: each emoji lists its
 * people oldest first, emoji in the order they were first used, none left empty.
 *
 * @returns The new summary; 'unchanged' when there is nothing to do (a second reaction with
 *   the same emoji, or taking back one never given); or the refusal when a limit is reached.
 */
export function applyReaction(
  reactions: readonly Reaction[] | undefined,
  op: 'react' | 'unreact',
  emoji: string,
  userId: string,
  limits: ReactionLimits,
): Reaction[] | 'unchanged' | ChangeRefusal {
  const current = reactions ?? [];
  const index = current.findIndex((reaction) => reaction.emoji === emoji);
  const existing = index < 0 ? undefined : current[index]!;
  const has = existing?.userIds.includes(userId) ?? false;
  if (op === 'react') {
    if (has) return 'unchanged';
    const total = current.reduce((sum, reaction) => sum + reaction.count, 0);
    if (total >= limits.maxReactionsPerMessage) return 'too_many_reactions';
    if (existing === undefined) {
      if (current.length >= limits.maxReactionEmoji) return 'too_many_reactions';
      return [...current, { emoji, count: 1, userIds: [userId] }];
    }
    const userIds = [...existing.userIds, userId];
    return current.map((reaction, i) => (i === index ? { emoji, count: userIds.length, userIds } : reaction));
  }
  if (!has) return 'unchanged';
  const userIds = existing!.userIds.filter((id) => id !== userId);
  if (userIds.length === 0) return current.filter((_, i) => i !== index);
  return current.map((reaction, i) => (i === index ? { emoji, count: userIds.length, userIds } : reaction));
}

/**
 * A message once deleted: its text goes for good, and with it the edit time and reactions; a
 * tombstone with the author and time stays.
 */
export function tombstone(message: StoredMessage): StoredMessage {
  const { text: _text, editedTs: _editedTs, reactions: _reactions, ...rest } = message;
  return { ...rest, deleted: true };
}

/**
 * The frame a change entry of the log stands for, with its message's latest state; undefined
 * when it says nothing any more (an edit or reaction of a message deleted since: the deletion
 * has its own entry).
 */
export function changeFrameFor(op: ChangeOp, message: StoredMessage, eventId: string): ChangeFrame | undefined {
  switch (op) {
    case 'edit':
      if (message.deleted === true || message.text === undefined) return undefined;
      return { type: 'edit', id: message.id, text: message.text, editedTs: message.editedTs ?? message.ts, eventId };
    case 'delete':
      return { type: 'delete', id: message.id, eventId };
    case 'react':
    case 'unreact':
      if (message.deleted === true) return undefined;
      return { type: 'reactions', id: message.id, reactions: message.reactions ?? [], eventId };
  }
}

/**
 * Change frames of a page, one per message and kind of frame (the latest: each carries the
 * latest state anyway), in the order of their last change.
 */
export class ChangeCollector {
  private readonly frames = new Map<string, ChangeFrame>();

  add(frame: ChangeFrame): void {
    const key = `${frame.type} ${frame.id}`;
    this.frames.delete(key);
    this.frames.set(key, frame);
  }

  get size(): number {
    return this.frames.size;
  }

  list(): ChangeFrame[] {
    return [...this.frames.values()];
  }
}

/** The bytes a change, moderation, settings or webhook frame takes in a page (its JSON and a comma). */
export function changeWireBytes(frame: ChangeFrame | ModerationFrame | SettingsFrame | WebhookChangeFrame): number {
  return Buffer.byteLength(JSON.stringify(frame)) + 1;
}

/**
 * An entry of the log about the room itself rather than a message: a moderation action, a
 * settings change or a change of the room's webhook, each with its frame.
 */
export type RoomEntry =
  | { kind: 'moderation'; frame: ModerationFrame }
  | { kind: 'settings'; frame: SettingsFrame }
  | { kind: 'webhook'; frame: WebhookChangeFrame };

/** The lists of a page (or a HistoryResult) that hold the room's entries, each kind its own, oldest first. */
export interface RoomEntryLists {
  moderation: ModerationFrame[];
  settings: SettingsFrame[];
  webhooks: WebhookChangeFrame[];
}

/**
 * Adds a room's entry, read newest first for a latest page, to its list of its kind while that
 * list holds fewer than its bound (LATEST_PAGE_MODERATION, LATEST_PAGE_SETTINGS_CHANGES,
 * LATEST_PAGE_WEBHOOK_CHANGES): each list ends up the newest of its kind, newest first.
 */
export function addLatestRoomEntry(lists: RoomEntryLists, entry: RoomEntry): void {
  const list =
    entry.kind === 'moderation' ? lists.moderation : entry.kind === 'settings' ? lists.settings : lists.webhooks;
  const bound =
    entry.kind === 'moderation'
      ? LATEST_PAGE_MODERATION
      : entry.kind === 'settings'
        ? LATEST_PAGE_SETTINGS_CHANGES
        : LATEST_PAGE_WEBHOOK_CHANGES;
  if (list.length < bound) addRoomEntry(lists, entry);
}

/** Adds a room's entry to its page's list of its kind. */
export function addRoomEntry(lists: RoomEntryLists, entry: RoomEntry): void {
  switch (entry.kind) {
    case 'moderation':
      lists.moderation.push(entry.frame);
      break;
    case 'settings':
      lists.settings.push(entry.frame);
      break;
    case 'webhook':
      lists.webhooks.push(entry.frame);
      break;
  }
}

/**
 * What a clientMsgId was used for, as a short hash: a resend with the same hash is a retry, with
 * another a reuse. A hash, so that the retry guard keeps no copy of a text a deletion removes.
 */
export function retryFingerprint(draft: MessageDraft | ChangeDraft): string {
  const content =
    'op' in draft
      ? `${draft.op}\u0000${draft.id}\u0000${draft.emoji ?? ''}\u0000${draft.text ?? ''}`
      : `message\u0000${draft.replyTo ?? ''}\u0000${draft.text}`;
  return shortHash(content);
}

/** The retry fingerprint of a moderation action (see {@link retryFingerprint}). */
export function moderationFingerprint(draft: ModerationDraft): string {
  const content = `moderate\u0000${draft.action}\u0000${draft.userId}\u0000${draft.durationSeconds ?? 0}\u0000${draft.reason ?? ''}`;
  return shortHash(content);
}

/** The retry fingerprint of a purge (see {@link retryFingerprint}). */
export function purgeFingerprint(draft: PurgeDraft): string {
  const content = `purge\u0000${draft.userId}\u0000${draft.windowSeconds}\u0000${draft.maxMessages}\u0000${draft.reason ?? ''}`;
  return shortHash(content);
}

/**
 * A `moderate` frame's purge as the engines take it: how far back (an hour unless asked, never
 * more than MAX_PURGE_SECONDS; the protocol refuses more) and at most MAX_PURGE_MESSAGES.
 */
export function purgeDraftOf(draft: ModerationDraft): PurgeDraft {
  const purge: PurgeDraft = {
    room: draft.room,
    by: draft.by,
    userId: draft.userId,
    windowSeconds: Math.min(draft.durationSeconds ?? DEFAULT_PURGE_SECONDS, MAX_PURGE_SECONDS),
    maxMessages: MAX_PURGE_MESSAGES,
    clientMsgId: draft.clientMsgId,
  };
  if (draft.reason !== undefined) purge.reason = draft.reason;
  return purge;
}

/** The retry fingerprint of a settings change (see {@link retryFingerprint}). */
export function settingsFingerprint(draft: SettingsDraft): string {
  const content = `settings\u0000${JSON.stringify(draft.changes)}`;
  return shortHash(content);
}

/** A short hash of a retry guard's content (22 base64url characters of SHA-256). */
function shortHash(content: string): string {
  return createHash('sha256').update(content).digest('base64url').slice(0, 22);
}

/** When a ban or mute of `durationSeconds` from now ends (ms since the epoch); 0: never. */
export function moderationUntil(draft: ModerationDraft, now: number = Date.now()): number {
  if (draft.action !== 'ban' && draft.action !== 'mute') return 0;
  return draft.durationSeconds === undefined ? 0 : now + draft.durationSeconds * 1000;
}

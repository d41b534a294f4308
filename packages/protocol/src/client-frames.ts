import * as v from 'valibot';
import { WebhookUrlSchema } from './bots.ts';
import { isEmoji } from './emoji.ts';
import { WEBHOOK_EVENTS } from './integrations.ts';
import { CLIENT_MSG_ID_PATTERN } from './message-id.ts';
import {
  MAX_INVITE_SECONDS,
  MAX_MODERATION_SECONDS,
  MAX_REASON_LENGTH,
  MODERATION_ACTIONS,
  RoomSettingsSchema,
} from './moderation.ts';
import { MessageIdSchema } from './server-frames.ts';

// Every frame a client may send on `parley.v1`, one schema each, and their union. Every frame
// that changes the room carries a clientMsgId: the server answers it with `ack` (or an `error`
// carrying the clientMsgId), and a resend with the same clientMsgId is applied once. The
// exceptions are requests answered with a frame of their own (`invite`, `webhook`): their
// clientMsgId names the answer only, and a resend is a new request.

const ClientMsgId = v.pipe(v.string(), v.regex(CLIENT_MSG_ID_PATTERN, 'must be 1–64 letters, digits, _ or -'));
const Emoji = v.pipe(v.string(), v.check(isEmoji, 'must be a single emoji'));

/** Sends a chat message, optionally as a reply to an earlier message of the room. */
export const ClientMessageFrameSchema = v.object({
  type: v.literal('message'),
  text: v.string(),
  clientMsgId: ClientMsgId,
  /** The id of the message this one answers (a message of the same room, still retained). */
  replyTo: v.optional(MessageIdSchema),
});
export type ClientMessageFrame = v.InferOutput<typeof ClientMessageFrameSchema>;

/** Replaces the text of one of your own messages (within the server's edit window). */
export const ClientEditFrameSchema = v.object({
  type: v.literal('edit'),
  id: MessageIdSchema,
  text: v.string(),
  clientMsgId: ClientMsgId,
});
export type ClientEditFrame = v.InferOutput<typeof ClientEditFrameSchema>;

/** Deletes one of your own messages: its text is removed for good, a tombstone stays. */
export const ClientDeleteFrameSchema = v.object({
  type: v.literal('delete'),
  id: MessageIdSchema,
  clientMsgId: ClientMsgId,
});
export type ClientDeleteFrame = v.InferOutput<typeof ClientDeleteFrameSchema>;

/** Adds your reaction (one emoji) to a message; reacting twice with one emoji counts once. */
export const ClientReactFrameSchema = v.object({
  type: v.literal('react'),
  id: MessageIdSchema,
  emoji: Emoji,
  clientMsgId: ClientMsgId,
});
export type ClientReactFrame = v.InferOutput<typeof ClientReactFrameSchema>;

/** Takes your reaction back. */
export const ClientUnreactFrameSchema = v.object({
  type: v.literal('unreact'),
  id: MessageIdSchema,
  emoji: Emoji,
  clientMsgId: ClientMsgId,
});
export type ClientUnreactFrame = v.InferOutput<typeof ClientUnreactFrameSchema>;

/**
 * Moderates a person of the room (see MODERATION_ACTIONS): owner and moderators only, and only
 * people below them. `durationSeconds` bounds a ban or mute (none: until lifted), or how far back
 * a purge reaches (none: an hour; at most MAX_PURGE_SECONDS, checked by decodeClientFrame);
 * `reason` is shown to the room.
 */
export const ClientModerateFrameSchema = v.object({
  type: v.literal('moderate'),
  action: v.picklist(MODERATION_ACTIONS),
  userId: v.pipe(v.string(), v.minLength(1), v.maxLength(64)),
  durationSeconds: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(MAX_MODERATION_SECONDS))),
  reason: v.optional(v.pipe(v.string(), v.maxLength(MAX_REASON_LENGTH))),
  clientMsgId: ClientMsgId,
});
export type ClientModerateFrame = v.InferOutput<typeof ClientModerateFrameSchema>;

/**
 * Changes the room's settings (the owner's): only the fields given change. Acked like a message;
 * everyone gets a `settings` frame with all the settings after the change.
 */
export const ClientSettingsFrameSchema = v.object({
  type: v.literal('settings'),
  ...v.partial(RoomSettingsSchema).entries,
  clientMsgId: ClientMsgId,
});
export type ClientSettingsFrame = v.InferOutput<typeof ClientSettingsFrameSchema>;

/**
 * Asks for an invite to this room (owner and moderators): answered with an `invite` frame
 * carrying the same clientMsgId, or an `error`.
 */
export const ClientInviteFrameSchema = v.object({
  type: v.literal('invite'),
  expiresInSeconds: v.optional(v.pipe(v.number(), v.integer(), v.minValue(60), v.maxValue(MAX_INVITE_SECONDS))),
  clientMsgId: ClientMsgId,
});
export type ClientInviteFrame = v.InferOutput<typeof ClientInviteFrameSchema>;

/**
 * The room's webhook (the owner's; everyone else gets `forbidden`): where the room's events
 * (some of WEBHOOK_EVENTS) are POSTed, signed with the webhook's own secret. Answered with a
 * `webhook` frame carrying the same clientMsgId, or an `error`:
 * - `url`: sets it (or replaces it) with `events` (none given: DEFAULT_ROOM_WEBHOOK_EVENTS) and a
 *   new secret, shown in this answer only;
 * - `url: null`: removes it (no `events` then);
 * - `events` alone: changes which events go to the webhook there is (`not_found` when none);
 * - neither: asks for it (its URL, events and how its deliveries went), changing nothing.
 */
export const ClientWebhookFrameSchema = v.object({
  type: v.literal('webhook'),
  url: v.optional(v.nullable(WebhookUrlSchema)),
  events: v.optional(
    v.pipe(
      v.array(v.picklist(WEBHOOK_EVENTS)),
      v.minLength(1, 'must name at least one event'),
      v.check((events) => new Set(events).size === events.length, 'must name each event once'),
    ),
  ),
  clientMsgId: ClientMsgId,
});
export type ClientWebhookFrame = v.InferOutput<typeof ClientWebhookFrameSchema>;

/** Tells the room this person is typing. */
export const ClientTypingFrameSchema = v.object({ type: v.literal('typing') });
export type ClientTypingFrame = v.InferOutput<typeof ClientTypingFrameSchema>;

/** Every frame a client may send on `parley.v1`. */
export const ClientFrameSchema = v.variant('type', [
  ClientMessageFrameSchema,
  ClientEditFrameSchema,
  ClientDeleteFrameSchema,
  ClientReactFrameSchema,
  ClientUnreactFrameSchema,
  ClientModerateFrameSchema,
  ClientSettingsFrameSchema,
  ClientInviteFrameSchema,
  ClientWebhookFrameSchema,
  ClientTypingFrameSchema,
]);
export type ClientFrame = v.InferOutput<typeof ClientFrameSchema>;
/** A client frame that changes a message (answered with an ack carrying the change's own log id). */
export type ClientChangeFrame = ClientEditFrame | ClientDeleteFrame | ClientReactFrame | ClientUnreactFrame;

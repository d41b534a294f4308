import * as v from 'valibot';
import { MODERATION_ACTIONS, RoomSettingsSchema } from './moderation.ts';
import {
  ChangeFrameSchema,
  MessageFrameSchema,
  ModerationFrameSchema,
  MemberSchema,
  SettingsFrameSchema,
  UserSchema,
  WEBHOOK_ACTIONS,
  WebhookChangeFrameSchema,
} from './server-frames.ts';

// The catalogue of room events: every kind of event that can be stored in a room's log or
// published to the room, defined once. Three forms, each with its schema:
//
//  - the event itself (`RoomEvent`), as the server handles it between the bus and the sockets;
//  - for the kinds kept in the room's log, its stored record (`MessageRecord`, `ChangeRecord`,
//    `ModerationRecord`, `SettingsRecord`, `WebhookRecord`): a versioned object carried between instances
//    (distinct from the wire frames, so either can change on its own);
//  - its wire frames, built from the event in one place (the server's rooms/room-events.ts).
//
// Adding a kind: add its event schema (and a record schema if it is kept in the log) here, then
// handle it wherever the compiler points (every conversion is an exhaustive switch); a new
// record is not in a union the compiler checks, so also teach the Redis engine's
// redis-records.ts to read it; see docs/architecture.md.

/** A chat message, as stored and delivered (its `id` gives its place in the room's order). */
export const MessageEventSchema = v.object({ kind: v.literal('message'), message: MessageFrameSchema });
/** A person's first connection in the room opened. */
export const JoinEventSchema = v.object({
  kind: v.literal('join'),
  room: v.string(),
  user: MemberSchema,
  ts: v.number(),
  /** How many people are present after it, across instances (absent from servers before it existed). */
  count: v.optional(v.number()),
});
/** A person's last connection in the room closed (or their server stopped answering). */
export const LeaveEventSchema = v.object({
  kind: v.literal('leave'),
  room: v.string(),
  user: UserSchema,
  ts: v.number(),
  /** How many people are present after it, across instances (absent from servers before it existed). */
  count: v.optional(v.number()),
});
/**
 * A message was edited, deleted or reacted to. Stored in the log as an entry of its own (its
 * `eventId`), so recovery replays it; the frame carries the message's state after the change.
 */
export const ChangeEventSchema = v.object({ kind: v.literal('change'), room: v.string(), change: ChangeFrameSchema });
/**
 * A moderator acted on a person (kick, ban, mute, a role change…). Stored in the log as an
 * entry of its own (`eventId`), so every instance and every recovering client applies it in order.
 */
export const ModerationEventSchema = v.object({
  kind: v.literal('moderation'),
  room: v.string(),
  moderation: ModerationFrameSchema,
});
/** The owner changed the room's settings (stored in the log like a moderation action). */
export const SettingsEventSchema = v.object({
  kind: v.literal('settings'),
  room: v.string(),
  settings: SettingsFrameSchema,
});
/**
 * How many people are present, in a room too big for a join or leave per person: made by each
 * instance's hub from the counts joins and leaves carry (never stored, never published).
 */
export const PresenceEventSchema = v.object({ kind: v.literal('presence'), room: v.string(), count: v.number() });
/** Someone is typing (not stored). */
export const TypingEventSchema = v.object({ kind: v.literal('typing'), room: v.string(), user: UserSchema });
/**
 * The owner set, changed or removed the room's webhook: which events go to it now (`null`: none
 * do), and who did it. Stored in the log like a settings change (`eventId`); never the URL.
 */
export const WebhookChangeEventSchema = v.object({
  kind: v.literal('webhook'),
  room: v.string(),
  webhook: WebhookChangeFrameSchema,
});

/** Every event of a room. */
export const RoomEventSchema = v.variant('kind', [
  MessageEventSchema,
  ChangeEventSchema,
  ModerationEventSchema,
  SettingsEventSchema,
  JoinEventSchema,
  LeaveEventSchema,
  PresenceEventSchema,
  TypingEventSchema,
  WebhookChangeEventSchema,
]);
export type RoomEvent = v.InferOutput<typeof RoomEventSchema>;
export type RoomEventKind = RoomEvent['kind'];
/** A message event (not the DOM's MessageEvent). */
export type MessageRoomEvent = v.InferOutput<typeof MessageEventSchema>;
export type ChangeRoomEvent = v.InferOutput<typeof ChangeEventSchema>;
export type ModerationRoomEvent = v.InferOutput<typeof ModerationEventSchema>;
export type SettingsRoomEvent = v.InferOutput<typeof SettingsEventSchema>;
export type WebhookRoomEvent = v.InferOutput<typeof WebhookChangeEventSchema>;

/**
 * The version of the records this release writes. Readers accept it and the versions before.
 * Version 2 keeps a message's text out of its log entry (Redis: in the room's texts hash), so
 * that deleting a message can remove its text for good.
 */
export const ROOM_RECORD_VERSION = 2;

/**
 * A message as stored in the room's log (Redis: the stream entry's `r` field) and published
 * between instances. The id and time are the log entry's own, so they are not repeated here.
 * `text` is in version 1 records; version 2 keeps it beside the record (the texts hash, and
 * after the record in a bus frame). `replyTo` names the message answered and its author.
 */
export const MessageRecordSchema = v.object({
  v: v.picklist([1, ROOM_RECORD_VERSION]),
  kind: v.literal('message'),
  room: v.string(),
  user: UserSchema,
  text: v.optional(v.string()),
  clientMsgId: v.optional(v.string()),
  replyTo: v.optional(v.object({ id: v.string(), user: UserSchema })),
});
export type MessageRecord = v.InferOutput<typeof MessageRecordSchema>;

/** What a change does to its message. */
export const CHANGE_OPS = ['edit', 'delete', 'react', 'unreact'] as const;
export type ChangeOp = (typeof CHANGE_OPS)[number];

/**
 * A change as stored in the room's log: who changed which message how. The new text of an
 * edit and the reactions after a change live beside the log (they are the message's state),
 * never in the change's own entry, so a deletion leaves no copy of the text behind.
 */
export const ChangeRecordSchema = v.object({
  v: v.literal(ROOM_RECORD_VERSION),
  kind: v.literal('change'),
  op: v.picklist(CHANGE_OPS),
  room: v.string(),
  user: UserSchema,
  /** The message changed. */
  id: v.string(),
  emoji: v.optional(v.string()),
  clientMsgId: v.optional(v.string()),
});
export type ChangeRecord = v.InferOutput<typeof ChangeRecordSchema>;

/**
 * A moderation action as stored in the room's log: who (`by`) did what to whom (`user`), until
 * when, and for a purge how many messages it deleted (`count`: the Redis purge script adds it to
 * the record the server serialised, once it knows). The room's standing state (roles, bans,
 * mutes) lives beside the log; these entries are its history, replayed to recovering clients.
 */
export const ModerationRecordSchema = v.object({
  v: v.literal(ROOM_RECORD_VERSION),
  kind: v.literal('moderation'),
  action: v.picklist(MODERATION_ACTIONS),
  room: v.string(),
  user: UserSchema,
  by: UserSchema,
  until: v.optional(v.number()),
  reason: v.optional(v.string()),
  count: v.optional(v.pipe(v.number(), v.integer(), v.minValue(0))),
  clientMsgId: v.optional(v.string()),
});
export type ModerationRecord = v.InferOutput<typeof ModerationRecordSchema>;

/** A change of the room's settings as stored in the log: all the settings after it, and who changed them. */
export const SettingsRecordSchema = v.object({
  v: v.literal(ROOM_RECORD_VERSION),
  kind: v.literal('settings'),
  room: v.string(),
  user: UserSchema,
  settings: RoomSettingsSchema,
  clientMsgId: v.optional(v.string()),
});
export type SettingsRecord = v.InferOutput<typeof SettingsRecordSchema>;

/**
 * A change of the room's webhook as stored in the log: the events sent to it after the change
 * (`null`: removed) and who changed it. Never its URL or secret, which live beside the log (the
 * room's moderation hash) and are forgotten with the room. (No clientMsgId: a webhook request
 * sent again is applied again.)
 */
export const WebhookRecordSchema = v.object({
  v: v.literal(ROOM_RECORD_VERSION),
  kind: v.literal('webhook'),
  room: v.string(),
  user: UserSchema,
  events: v.nullable(v.array(v.string())),
  /** What the owner did (WEBHOOK_ACTIONS; absent from records written before it was kept). */
  action: v.optional(v.picklist(WEBHOOK_ACTIONS)),
});
export type WebhookRecord = v.InferOutput<typeof WebhookRecordSchema>;

/**
 * A message record of the first release (stream field `b`): the same fields without `v` and
 * `kind`. Read as a v1 message record; never written any more.
 */
export const MessageRecordV0Schema = v.object({
  room: v.string(),
  user: UserSchema,
  text: v.string(),
  clientMsgId: v.optional(v.string()),
});

/**
 * What travels between instances for a `leave` and for typing: the person (the room is the
 * channel's, the time the publisher's). Redis scripts publish the JSON the server stored, as it
 * was written; fields beyond `{id, name}` (a member entry's `tag` and `look`) are dropped.
 */
export const PresencePayloadSchema = UserSchema;

/**
 * What a `join` carries between instances: the person's member entry as the server stored it
 * when they entered (`tag` and `look`; absent from entries of earlier releases), with the `role`
 * the publishing script spliced in.
 */
export const JoinPayloadSchema = MemberSchema;

import * as v from 'valibot';
import { DeliveryAttemptSchema, DeliveryCountsSchema } from './deliveries.ts';
import { ERROR_CODES } from './error-codes.ts';
import { isMessageId } from './message-id.ts';
import { MODERATION_ACTIONS, ROLES, RoomRolesSchema, RoomSettingsSchema } from './moderation.ts';

// Every frame the server sends on `parley.v1`, one schema each, and their union.

/**
 * A person in a room: the id the server issued and the display name they chose. `bot`: a program
 * posting over the HTTP API (its id starts with `bot_`); clients show a BOT badge.
 */
export const UserSchema = v.object({ id: v.string(), name: v.string(), bot: v.optional(v.literal(true)) });
export type User = v.InferOutput<typeof UserSchema>;

/**
 * A person present in a room, as `welcome.members` and `join` frames list them: the user and,
 * from servers since these fields existed (so each is optional):
 * - `tag`: userTag of the id, to show after the name;
 * - `role`: their role in the room when the frame was made (keep it current from `moderation`
 *   events, as for the welcome's `roles`);
 * - `look`: lookKeys of the name, computed by the server when they entered. Two members present
 *   who share a key look alike: mark both (a member without `look`: compute lookKeys of the name).
 * - `lookalike`: `true` when someone else present in the room (listed to you or not: a welcome
 *   and a member page list only some) shares one of the member's look keys when the frame was
 *   made; absent otherwise. The server keeps count of everyone present, so every client marks the
 *   same people however many members it has loaded.
 */
export const MemberSchema = v.object({
  ...UserSchema.entries,
  tag: v.optional(v.string()),
  role: v.optional(v.picklist(ROLES)),
  look: v.optional(v.array(v.string())),
  lookalike: v.optional(v.literal(true)),
});
export type Member = v.InferOutput<typeof MemberSchema>;

/** A message id (`<ms>-<seq>`, each part at most 2^64 − 1; see isMessageId). */
export const MessageIdSchema = v.pipe(v.string(), v.check(isMessageId, 'must be a message id like 1700000000000-0'));

/** One emoji's reactions to a message: who reacted (oldest first) and how many they are. */
export const ReactionSchema = v.object({ emoji: v.string(), count: v.number(), userIds: v.array(v.string()) });
export type Reaction = v.InferOutput<typeof ReactionSchema>;

/**
 * What a reply shows of the message it answers: its id and author, and the first
 * LIMITS.replyExcerptLength characters of its text (none once it was deleted or left the history).
 */
export const ReplyRefSchema = v.object({
  id: MessageIdSchema,
  user: UserSchema,
  excerpt: v.optional(v.string()),
});
export type ReplyRef = v.InferOutput<typeof ReplyRefSchema>;

/**
 * A chat message. `id` is unique and strictly increasing within a room across all server
 * instances; `ts` is the server time in ms; `clientMsgId` is the sender's own id for it.
 * Live and in history, a message shows its latest state: `editedTs` once edited, `deleted`
 * (and no `text`) once deleted, `reactions` while it has any, `replyTo` when it answers another.
 */
export const MessageFrameSchema = v.object({
  type: v.literal('message'),
  id: MessageIdSchema,
  room: v.string(),
  user: UserSchema,
  /** Absent only when `deleted`. */
  text: v.optional(v.string()),
  ts: v.number(),
  clientMsgId: v.optional(v.string()),
  replyTo: v.optional(ReplyRefSchema),
  editedTs: v.optional(v.number()),
  deleted: v.optional(v.literal(true)),
  reactions: v.optional(v.array(ReactionSchema)),
});
export type MessageFrame = v.InferOutput<typeof MessageFrameSchema>;

/**
 * A message's text was edited. `id` is the message's; `eventId` is the edit's own place in the
 * room's log (pass the newest id seen, message or change, as `since` when reconnecting).
 */
export const EditFrameSchema = v.object({
  type: v.literal('edit'),
  id: MessageIdSchema,
  text: v.string(),
  editedTs: v.number(),
  eventId: MessageIdSchema,
});
export type EditFrame = v.InferOutput<typeof EditFrameSchema>;

/** A message was deleted: show a tombstone in its place. */
export const DeleteFrameSchema = v.object({
  type: v.literal('delete'),
  id: MessageIdSchema,
  eventId: MessageIdSchema,
});
export type DeleteFrame = v.InferOutput<typeof DeleteFrameSchema>;

/** A message's reactions changed: `reactions` is the whole summary after the change (applying it twice is harmless). */
export const ReactionsFrameSchema = v.object({
  type: v.literal('reactions'),
  id: MessageIdSchema,
  reactions: v.array(ReactionSchema),
  eventId: MessageIdSchema,
});
export type ReactionsFrame = v.InferOutput<typeof ReactionsFrameSchema>;

/**
 * A moderator acted on a person (see MODERATION_ACTIONS): `user` is the person, `by` the
 * moderator; `until` ends a ban or mute (absent: until lifted); `count` says how many of the
 * person's messages a purge deleted (each also has its own `delete` event, before this one).
 * Stored in the room's log like a change (`eventId`), so recovery replays it and every instance
 * applies it in the same order.
 */
export const ModerationFrameSchema = v.object({
  type: v.literal('moderation'),
  action: v.picklist(MODERATION_ACTIONS),
  user: UserSchema,
  by: UserSchema,
  until: v.optional(v.number()),
  reason: v.optional(v.string()),
  count: v.optional(v.pipe(v.number(), v.integer(), v.minValue(0))),
  eventId: MessageIdSchema,
});
export type ModerationFrame = v.InferOutput<typeof ModerationFrameSchema>;

/**
 * The room's owner changed its settings: all of them after the change, who changed them, and
 * the change's place in the room's log.
 */
export const SettingsFrameSchema = v.object({
  type: v.literal('settings'),
  ...RoomSettingsSchema.entries,
  by: UserSchema,
  eventId: MessageIdSchema,
});
export type SettingsFrame = v.InferOutput<typeof SettingsFrameSchema>;

/**
 * An invite to this room, for the one who asked (`clientMsgId`): pass `invite` on connect
 * (`&invite=<invite>`) before `expiresTs`; `url` opens the room with it in the web app when the
 * server knows the app's address (the page that asked).
 */
export const InviteFrameSchema = v.object({
  type: v.literal('invite'),
  invite: v.string(),
  url: v.optional(v.string()),
  expiresTs: v.number(),
  clientMsgId: v.string(),
});
export type InviteFrame = v.InferOutput<typeof InviteFrameSchema>;

/**
 * How a room webhook's deliveries went, for its owner: every instance's counts added up since
 * each started (or since the URL was set, if later), the last attempt, and the last failed
 * attempts (at most 20, newest first). Instances report every few seconds; the one that answers
 * counts as of now.
 */
export const RoomWebhookDeliveriesSchema = v.object({
  ...DeliveryCountsSchema.entries,
  last: v.optional(DeliveryAttemptSchema),
  failures: v.array(DeliveryAttemptSchema),
});
export type RoomWebhookDeliveries = v.InferOutput<typeof RoomWebhookDeliveriesSchema>;

/**
 * A room's webhook as frames show it: everyone sees which events go to it (some of
 * WEBHOOK_EVENTS; a client ignores names it does not know); only the owner's answers carry its
 * URL (redacted like the operator's: query values and token-like path segments become `…`),
 * its secret (in the answer to setting a URL, only) and its deliveries (in the answer to asking).
 */
export const RoomWebhookSchema = v.object({
  events: v.array(v.string()),
  url: v.optional(v.string()),
  /** Signs every delivery (Parley-Signature): shown once, when the URL is set. */
  secret: v.optional(v.string()),
  deliveries: v.optional(RoomWebhookDeliveriesSchema),
});
export type RoomWebhook = v.InferOutput<typeof RoomWebhookSchema>;

/**
 * What the owner did to the room's webhook, in a log entry of a change: `set` a URL (a new
 * webhook, or a new URL and secret for the one there was), `events` (other events for the
 * webhook there is), `removed`. Lets a client word a change whose state before it does not hold
 * (the first of a welcome's list).
 */
export const WEBHOOK_ACTIONS = ['set', 'events', 'removed'] as const;
export type WebhookAction = (typeof WEBHOOK_ACTIONS)[number];

/**
 * The room's webhook (`null`: it has none). To everyone, when the owner sets, changes or removes
 * it (`by` and `eventId`; no URL: see WebhookChangeFrameSchema); to the owner, as the answer to a
 * `webhook` request (`clientMsgId`, with the URL; never stored).
 */
export const WebhookFrameSchema = v.object({
  type: v.literal('webhook'),
  webhook: v.nullable(RoomWebhookSchema),
  /** Who changed it (to everyone). */
  by: v.optional(UserSchema),
  /**
   * The change's place in the room's log (to everyone, with `by`; absent from servers before
   * webhook changes were logged, and from the owner's answers).
   */
  eventId: v.optional(MessageIdSchema),
  /** What the owner did (with `by` and `eventId`; absent from servers before it was sent). */
  action: v.optional(v.picklist(WEBHOOK_ACTIONS)),
  /** The owner's request this answers. */
  clientMsgId: v.optional(v.string()),
});
export type WebhookFrame = v.InferOutput<typeof WebhookFrameSchema>;

/**
 * The owner set, changed or removed the room's webhook, as the room's log keeps it: which events
 * go to it after the change (`null`: it was removed), who changed it, and the change's place in
 * the log. Never the URL or the secret. Everyone gets it live as a `webhook` frame, and in
 * welcomes and history pages (`webhookChanges`) like settings changes.
 */
export const WebhookChangeFrameSchema = v.object({
  type: v.literal('webhook'),
  webhook: v.nullable(v.object({ events: v.array(v.string()) })),
  by: UserSchema,
  eventId: MessageIdSchema,
  /** What the owner did (absent from entries logged before it was kept). */
  action: v.optional(v.picklist(WEBHOOK_ACTIONS)),
});
export type WebhookChangeFrame = v.InferOutput<typeof WebhookChangeFrameSchema>;

/** Every frame that changes a message already sent. */
export const ChangeFrameSchema = v.variant('type', [EditFrameSchema, DeleteFrameSchema, ReactionsFrameSchema]);
export type ChangeFrame = v.InferOutput<typeof ChangeFrameSchema>;

/**
 * The first frame on every connection. `history` is oldest first. With `since`, it holds the
 * retained messages after that id (at most a bounded page of them) and `recovered` is true;
 * when messages after `since` are no longer retained, it holds the latest page and `recovered`
 * is false.
 */
export const WelcomeFrameSchema = v.object({
  type: v.literal('welcome'),
  room: v.string(),
  /**
   * You, with your role in the room (absent from servers before roles existed: a member) and,
   * while you are muted there, when that ends (ms since the epoch; 0: until a moderator lifts it).
   */
  you: v.object({ ...UserSchema.entries, role: v.optional(v.picklist(ROLES)), mutedUntil: v.optional(v.number()) }),
  /**
   * Who owns and who moderates the room (every other person is a member); kept up to date by
   * `moderation` events (promote, demote, transfer). Absent from servers before roles existed.
   */
  roles: v.optional(RoomRolesSchema),
  /** The room's settings now (absent from servers before settings existed: the defaults). */
  settings: v.optional(RoomSettingsSchema),
  /**
   * Set when the room has a webhook (its owner's): the events of the room sent to it, which
   * leave the server (never its URL, not even to the owner: ask with a `webhook` frame).
   */
  webhook: v.optional(v.object({ events: v.array(v.string()) })),
  /** Keep it (e.g. in localStorage) and pass it as `token` when reconnecting to stay the same person. */
  token: v.string(),
  /**
   * People present (see MemberSchema): at most WELCOME_MEMBERS_MAX of them (50 by default), the
   * first by the order `GET /api/rooms/<room>/members` walks; `hasMoreMembers` says the list is
   * cut, `memberCount` how many are present in all.
   */
  members: v.array(MemberSchema),
  /** Everyone present in the room, across server instances. (Absent from servers before it existed: `members.length`.) */
  memberCount: v.optional(v.number()),
  /**
   * True when `members` is cut (more people are present than a welcome lists): page through
   * them all with `GET /api/rooms/<room>/members`. (Absent from servers before it existed: false.)
   */
  hasMoreMembers: v.optional(v.boolean()),
  history: v.array(MessageFrameSchema),
  recovered: v.boolean(),
  /** True when older messages exist before the first one in `history` (scroll-back can load them). */
  hasMore: v.boolean(),
  /**
   * True when a `since` recovery was cut short: more messages follow the last one in `history`
   * than one welcome carries. Fetch them with `GET /api/rooms/<room>/messages?after=<last id>`
   * until `hasNewer` is false. (Absent from servers before it existed: read as false.)
   */
  hasNewer: v.optional(v.boolean()),
  /**
   * With `since`: changes (edits, deletions, reactions) made after `since` to messages older
   * than `history`, oldest first, each carrying the message's latest state. (Messages in
   * `history` already show theirs.) Absent when there are none.
   */
  changes: v.optional(v.array(ChangeFrameSchema)),
  /**
   * With `since`: the moderation actions taken after `since` (kicks, bans, mutes, role
   * changes), oldest first, so a client that was away applies them. Without: those since the
   * oldest message of `history` (the newest 20 at most), lines of the log only: the welcome's
   * `you` and `roles` are the state now. Absent when there are none.
   */
  moderation: v.optional(v.array(ModerationFrameSchema)),
  /**
   * The settings changes in the stretch of the log the welcome covers, oldest first: with
   * `since`, those made after it; without, those since the oldest message of `history` (the
   * newest 20 at most; the first has nothing before it here). The welcome's `settings` are the
   * settings now. Absent when there are none.
   */
  settingsChanges: v.optional(v.array(SettingsFrameSchema)),
  /**
   * The changes of the room's webhook in the stretch of the log the welcome covers, oldest first:
   * with `since`, those made after it; without, those since the oldest message of `history` (the
   * welcome's `webhook` is the webhook now). Absent when there are none.
   */
  webhookChanges: v.optional(v.array(WebhookChangeFrameSchema)),
  /**
   * The newest log entry (message or change) this welcome covers. Continue a cut-short recovery
   * with `after=<lastEventId>`, and reconnect with it as `since` if nothing newer arrives.
   * (Absent when the room has no entries, and from servers before changes existed.)
   */
  lastEventId: v.optional(v.string()),
});
export type WelcomeFrame = v.InferOutput<typeof WelcomeFrameSchema>;

/** A person's first connection in the room opened. */
export const JoinFrameSchema = v.object({ type: v.literal('join'), user: MemberSchema, ts: v.number() });
export type JoinFrame = v.InferOutput<typeof JoinFrameSchema>;

/** A person's last connection in the room closed (or their server stopped answering). */
export const LeaveFrameSchema = v.object({ type: v.literal('leave'), user: UserSchema, ts: v.number() });
export type LeaveFrame = v.InferOutput<typeof LeaveFrameSchema>;

/**
 * How many people are present, in a room of more than PRESENCE_COUNT_ONLY_MEMBERS (200 by
 * default), where joins and leaves are not sent one by one: at most once a second, when the
 * count changed. Ask `GET /api/rooms/<room>/members` for who they are.
 */
export const PresenceFrameSchema = v.object({ type: v.literal('presence'), count: v.number() });
export type PresenceFrame = v.InferOutput<typeof PresenceFrameSchema>;

/** Someone is typing; clients show it for a few seconds. */
export const TypingFrameSchema = v.object({ type: v.literal('typing'), user: UserSchema });
export type TypingFrame = v.InferOutput<typeof TypingFrameSchema>;

/**
 * The message (or change) with this clientMsgId is stored and published under `id`: for a
 * change, its own place in the room's log, which the change frame carries as `eventId`.
 */
export const AckFrameSchema = v.object({ type: v.literal('ack'), clientMsgId: v.string(), id: MessageIdSchema });
export type AckFrame = v.InferOutput<typeof AckFrameSchema>;

/**
 * The server's link to the message bus changed. While `degraded`, sending fails with
 * `unavailable` (resend later) and live messages may pause; when it clears, nothing is missing.
 */
export const StatusFrameSchema = v.object({ type: v.literal('status'), degraded: v.boolean(), message: v.string() });
export type StatusFrame = v.InferOutput<typeof StatusFrameSchema>;

/**
 * Sent by the server when it refuses something a client did. The connection stays open unless
 * a close frame follows. `clientMsgId` names the refused message when there is one.
 */
export const ErrorFrameSchema = v.object({
  type: v.literal('error'),
  code: v.picklist(ERROR_CODES),
  message: v.string(),
  clientMsgId: v.optional(v.string()),
  /** For `banned` and `muted`: when it ends (ms since the epoch); absent: until lifted. */
  until: v.optional(v.number()),
  /** For `slow_mode`: how long until this person may post again. */
  retryAfterMs: v.optional(v.number()),
  /** For `banned`: `server` when the operator banned the person from the whole server (absent: this room). */
  scope: v.optional(v.literal('server')),
});

/** An `error` frame. */
export type ErrorFrame = v.InferOutput<typeof ErrorFrameSchema>;

/** Every frame the server sends on `parley.v1`. */
export const ServerFrameSchema = v.variant('type', [
  WelcomeFrameSchema,
  MessageFrameSchema,
  JoinFrameSchema,
  LeaveFrameSchema,
  PresenceFrameSchema,
  TypingFrameSchema,
  EditFrameSchema,
  DeleteFrameSchema,
  ReactionsFrameSchema,
  ModerationFrameSchema,
  SettingsFrameSchema,
  InviteFrameSchema,
  WebhookFrameSchema,
  AckFrameSchema,
  StatusFrameSchema,
  ErrorFrameSchema,
]);
export type ServerFrame = v.InferOutput<typeof ServerFrameSchema>;

import * as v from 'valibot';
import { UserSchema } from './server-frames.ts';

// What Parley sends to programs the operator runs beside it, and what they answer: the
// before-publish hook (asked before each new message or edit is stored: accept, reject or
// replace the text) and the outgoing webhooks (told after events happened: the operator's, a
// bot's mentions, and a room's, set by its owner). All are HTTP POSTs of JSON, signed with the
// same scheme (see the headers below).

/** Unix time in seconds of the request (a receiver refuses old ones: replays). Signed with the body. */
export const TIMESTAMP_HEADER = 'parley-timestamp';
/**
 * `sha256=<hex>`: HMAC-SHA256, keyed with the shared secret (BEFORE_PUBLISH_SECRET,
 * WEBHOOK_SECRET, a bot's webhook secret or a room webhook's secret), of `<timestamp>.<body>`:
 * the Parley-Timestamp header's value, a full stop, and the request body's bytes exactly as
 * received.
 */
export const SIGNATURE_HEADER = 'parley-signature';
/**
 * A webhook delivery's id: the same for every attempt of one event (retries included, and
 * whichever instance sends it), so a receiver keeps the ids it has handled and skips repeats.
 */
export const DELIVERY_HEADER = 'parley-delivery';
/** The webhook event's name (`message`, `edit`, …), also in the body. */
export const EVENT_HEADER = 'parley-event';

/** The largest reject reason the server passes on to the sender (longer ones are cut). */
export const MAX_REJECT_REASON_CHARS = 300;

// ---- Before-publish hook ----

/** What the hook is asked about: a new message (`message`) or a new text for one (`edit`). */
export const BeforePublishRequestSchema = v.variant('event', [
  v.object({
    event: v.literal('message'),
    room: v.string(),
    /** The author (a bot's id starts with `bot_`, a reference-protocol client's with `anon_`). */
    user: UserSchema,
    /** Already checked by the server's text rules. */
    text: v.string(),
    /** The sender's id for this message (a retry carries the same one). */
    clientMsgId: v.optional(v.string()),
    /** The id of the message it answers. */
    replyTo: v.optional(v.string()),
  }),
  v.object({
    event: v.literal('edit'),
    room: v.string(),
    user: UserSchema,
    /** The id of the message edited. */
    id: v.string(),
    text: v.string(),
    clientMsgId: v.string(),
  }),
]);
export type BeforePublishRequest = v.InferOutput<typeof BeforePublishRequestSchema>;

/**
 * The hook's answer (status 200, JSON): post as sent; refuse (the sender gets an `error`
 * `rejected` with the reason, nothing is stored); or post `text` instead (checked by the rules a
 * client's text must meet; a text that breaks them counts as a failed call). Unknown fields are
 * ignored.
 */
export const BeforePublishAnswerSchema = v.variant('action', [
  v.object({ action: v.literal('accept') }),
  v.object({ action: v.literal('reject'), reason: v.optional(v.string()) }),
  v.object({ action: v.literal('replace'), text: v.string() }),
]);
export type BeforePublishAnswer = v.InferOutput<typeof BeforePublishAnswerSchema>;

// ---- Outgoing webhooks ----

/**
 * The events a webhook may be told about (WEBHOOK_EVENTS). `room.occupied`: a room's first
 * person arrived (nobody was present anywhere); `room.vacated`: its last person left.
 */
export const WEBHOOK_EVENTS = ['message', 'edit', 'delete', 'join', 'leave', 'room.occupied', 'room.vacated'] as const;
export type WebhookEventName = (typeof WEBHOOK_EVENTS)[number];

/**
 * The events a room's webhook gets when its owner names none (the instance-wide webhooks'
 * default too): messages, edits and deletions.
 */
export const DEFAULT_ROOM_WEBHOOK_EVENTS: readonly WebhookEventName[] = ['message', 'edit', 'delete'];

/** Whether a string is one of WEBHOOK_EVENTS. */
export function isWebhookEventName(value: string): value is WebhookEventName {
  return (WEBHOOK_EVENTS as readonly string[]).includes(value);
}

const webhookBase = {
  /** The delivery's id, as in the Parley-Delivery header. */
  deliveryId: v.string(),
  room: v.string(),
  /** When it happened (ms since the epoch; for log entries, their id's time). */
  ts: v.number(),
};

/** The body of a webhook delivery, by `event`. */
export const WebhookEventSchema = v.variant('event', [
  v.object({
    event: v.literal('message'),
    ...webhookBase,
    message: v.object({
      id: v.string(),
      user: UserSchema,
      text: v.string(),
      clientMsgId: v.optional(v.string()),
      /** The id of the message it answers. */
      replyTo: v.optional(v.string()),
    }),
  }),
  v.object({
    event: v.literal('edit'),
    ...webhookBase,
    /** `id`: the message edited; `eventId`: the edit's own place in the room's log; `by`: its author. */
    edit: v.object({ id: v.string(), eventId: v.string(), text: v.string(), by: UserSchema }),
  }),
  v.object({
    event: v.literal('delete'),
    ...webhookBase,
    /** `by`: its author, the room's owner or a moderator. */
    delete: v.object({ id: v.string(), eventId: v.string(), by: UserSchema }),
  }),
  v.object({ event: v.literal('join'), ...webhookBase, user: UserSchema }),
  v.object({ event: v.literal('leave'), ...webhookBase, user: UserSchema }),
  /** `user`: the person whose arrival made the room occupied. */
  v.object({ event: v.literal('room.occupied'), ...webhookBase, user: UserSchema }),
  /** `user`: the last person to leave. */
  v.object({ event: v.literal('room.vacated'), ...webhookBase, user: UserSchema }),
]);
export type WebhookEvent = v.InferOutput<typeof WebhookEventSchema>;

// ---- A bot's mentions ----

/** The event of a delivery to a bot's webhook URL: a message mentioned the bot (`@<bot name>`). */
export const BOT_MENTION_EVENT = 'mention';

/**
 * A message's mentions of bots are delivered to at most this many bots (the first ones named);
 * the rest of the message's mentions are ignored.
 */
export const MAX_BOT_MENTIONS_PER_MESSAGE = 5;

/**
 * The body of a delivery to a bot's webhook URL (the `mention` event), signed with the bot's
 * webhook secret like a webhook's with WEBHOOK_SECRET, with Parley-Delivery and Parley-Event.
 */
export const BotMentionDeliverySchema = v.object({
  event: v.literal(BOT_MENTION_EVENT),
  ...webhookBase,
  /** The bot mentioned. */
  bot: v.object({ id: v.string(), name: v.string() }),
  /** The message that mentions it (never a bot's: bots' messages mention nobody). */
  message: v.object({
    id: v.string(),
    user: UserSchema,
    text: v.string(),
    clientMsgId: v.optional(v.string()),
    replyTo: v.optional(v.string()),
  }),
});
export type BotMentionDelivery = v.InferOutput<typeof BotMentionDeliverySchema>;

/**
 * A bot's answer to a mention (a 2xx, JSON): `text`, when there is one, is posted to the room as
 * the bot, in answer to the message that mentioned it, through the bot API's path (its rate,
 * moderation, the before-publish hook; at most once per delivery id). `{}`, or an empty body,
 * posts nothing. Unknown fields are ignored.
 */
export const BotMentionAnswerSchema = v.object({ text: v.optional(v.string()) });
export type BotMentionAnswer = v.InferOutput<typeof BotMentionAnswerSchema>;

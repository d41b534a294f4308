import * as v from 'valibot';
import { parseDisplayName } from './display-name.ts';
import { CLIENT_MSG_ID_PATTERN, isMessageId } from './message-id.ts';

// Bots: programs that post to rooms over HTTP. The operator creates a bot (`/admin`, or
// `POST /api/admin/bots`) and gets its key once; the bot posts with
// `POST /api/rooms/<room>/messages` and `Authorization: Bearer <key>`. Its messages go through
// the same append-and-publish path as a socket's (ordered, recoverable, deduplicated, moderated,
// rate-limited) and carry `user.bot: true`.

/** Every bot's user id starts with this (people's ids start with `u_`). Bots never own a room. */
export const BOT_ID_PREFIX = 'bot_';

/** Whether a user id is a bot's. */
export function isBotId(id: string): boolean {
  return id.startsWith(BOT_ID_PREFIX);
}

/** `GET`: the bots (`BotList`); `POST` a `BotCreateRequest` to make one (`BotCreated`). */
export const ADMIN_BOTS_PATH = '/api/admin/bots';
/** `DELETE`: deletes a bot; its key stops working at once. */
export const ADMIN_BOT_ROUTE = '/api/admin/bots/:id';
/**
 * `PUT` a `BotWebhookRequest`: sets the bot's webhook URL (its mentions are delivered there) and
 * answers a new webhook secret (`BotWebhookSet`); `DELETE`: the bot has no webhook any more.
 */
export const ADMIN_BOT_WEBHOOK_ROUTE = '/api/admin/bots/:id/webhook';

/** Path of one bot (to delete it). */
export function adminBotPath(id: string): string {
  return `${ADMIN_BOTS_PATH}/${encodeURIComponent(id)}`;
}

/** Path of one bot's webhook (to set or remove it). */
export function adminBotWebhookPath(id: string): string {
  return `${adminBotPath(id)}/webhook`;
}

/** The longest webhook URL a bot may have. */
export const WEBHOOK_URL_MAX_LENGTH = 2048;

/** `http(s)://`, an authority without user information (no `@`), then a path, query or fragment, without white space. */
const WEBHOOK_URL_PATTERN = /^https?:\/\/[^\s/?#@\\]+(?:[/?#]\S*)?$/i;

/**
 * Whether a string can be a bot's webhook URL: `http://` or `https://`, a host, no user name or
 * password (the signature is its secret), no white space, at most WEBHOOK_URL_MAX_LENGTH
 * characters. (The server parses it as a URL too; which addresses it may reach is its business:
 * WEBHOOK_ALLOW_PRIVATE.)
 */
export function isWebhookUrl(value: string): boolean {
  return value.length <= WEBHOOK_URL_MAX_LENGTH && WEBHOOK_URL_PATTERN.test(value);
}

/** A webhook URL (see isWebhookUrl): a bot's, or a room's. */
export const WebhookUrlSchema = v.pipe(
  v.string(),
  v.check(isWebhookUrl, 'must be an http:// or https:// URL without credentials, of at most 2048 characters'),
);

/** How many bots the server keeps by default (MAX_BOTS). */
export const MAX_BOTS = 1000;

/** The header that makes a bot's post safe to retry: the same key posts once (as a socket's `clientMsgId`). */
export const IDEMPOTENCY_KEY_HEADER = 'idempotency-key';

export const BotSchema = v.object({
  /** The bot's user id (`bot_…`), as its messages carry it. */
  id: v.string(),
  name: v.string(),
  createdAt: v.number(),
  /**
   * Where its mentions are delivered, if anywhere: as the operator's API shows URLs, with the
   * query's values and any path segment that looks like a token replaced by `…`.
   */
  webhookUrl: v.optional(v.string()),
});
export type Bot = v.InferOutput<typeof BotSchema>;

export const BotListSchema = v.object({ bots: v.array(BotSchema) });
export type BotList = v.InferOutput<typeof BotListSchema>;

/**
 * `POST /api/admin/bots`: a bot's display name (the rules of people's names) and, optionally,
 * the URL its mentions are delivered to.
 */
export const BotCreateRequestSchema = v.object({
  name: v.pipe(
    v.string(),
    v.check((name) => parseDisplayName(name).ok, 'must be a valid display name'),
  ),
  webhookUrl: v.optional(WebhookUrlSchema),
});
export type BotCreateRequest = v.InferOutput<typeof BotCreateRequestSchema>;

/**
 * The answer to creating a bot: the key is shown this once (the server keeps only its hash), and
 * so is the webhook secret (which signs the deliveries to its webhook URL), when it has one.
 */
export const BotCreatedSchema = v.object({
  bot: BotSchema,
  key: v.string(),
  webhookSecret: v.optional(v.string()),
});
export type BotCreated = v.InferOutput<typeof BotCreatedSchema>;

/** `PUT /api/admin/bots/<id>/webhook`: the URL the bot's mentions are delivered to from now on. */
export const BotWebhookRequestSchema = v.object({ url: WebhookUrlSchema });
export type BotWebhookRequest = v.InferOutput<typeof BotWebhookRequestSchema>;

/** The answer to setting a bot's webhook: a new secret, shown this once (the one before stops signing). */
export const BotWebhookSetSchema = v.object({ bot: BotSchema, webhookSecret: v.string() });
export type BotWebhookSet = v.InferOutput<typeof BotWebhookSetSchema>;

/** `POST /api/rooms/<room>/messages` (a bot's): the text, and optionally the message answered. */
export const PostMessageRequestSchema = v.object({
  text: v.string(),
  replyTo: v.optional(v.pipe(v.string(), v.check(isMessageId, 'must be a message id'))),
});
export type PostMessageRequest = v.InferOutput<typeof PostMessageRequestSchema>;

/** The answer to a bot's post: the message's id (201), or the first id of a retry (200, `duplicate`). */
export const PostMessageResultSchema = v.object({
  id: v.string(),
  duplicate: v.optional(v.literal(true)),
});
export type PostMessageResult = v.InferOutput<typeof PostMessageResultSchema>;

/** Whether an Idempotency-Key header value can be used (the rules of `clientMsgId`). */
export function isIdempotencyKey(value: string): boolean {
  return CLIENT_MSG_ID_PATTERN.test(value);
}

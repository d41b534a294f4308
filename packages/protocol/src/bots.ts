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

/** Path of one bot (to delete it). */
export function adminBotPath(id: string): string {
  return `${ADMIN_BOTS_PATH}/${encodeURIComponent(id)}`;
}

/** How many bots the server keeps by default (MAX_BOTS). */
export const MAX_BOTS = 1000;

/** The header that makes a bot's post safe to retry: the same key posts once (as a socket's `clientMsgId`). */
export const IDEMPOTENCY_KEY_HEADER = 'idempotency-key';

export const BotSchema = v.object({
  /** The bot's user id (`bot_…`), as its messages carry it. */
  id: v.string(),
  name: v.string(),
  createdAt: v.number(),
});
export type Bot = v.InferOutput<typeof BotSchema>;

export const BotListSchema = v.object({ bots: v.array(BotSchema) });
export type BotList = v.InferOutput<typeof BotListSchema>;

/** `POST /api/admin/bots`: a bot's display name (the rules of people's names). */
export const BotCreateRequestSchema = v.object({
  name: v.pipe(
    v.string(),
    v.check((name) => parseDisplayName(name).ok, 'must be a valid display name'),
  ),
});
export type BotCreateRequest = v.InferOutput<typeof BotCreateRequestSchema>;

/** The answer to creating a bot: the key is shown this once (the server keeps only its hash). */
export const BotCreatedSchema = v.object({ bot: BotSchema, key: v.string() });
export type BotCreated = v.InferOutput<typeof BotCreatedSchema>;

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

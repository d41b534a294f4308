import * as v from 'valibot';
import { CLIENT_MSG_ID_PATTERN } from './message-id.ts';
import { MEMBER_CURSOR_PATTERN } from './paths.ts';
import { isRoomName } from './room-name.ts';
import { MessageIdSchema } from './server-frames.ts';

// The parameters of the HTTP API's routes (paths.ts, operator.ts, bots.ts), as schemas: what the
// server reads from a path, a query string or a header, for clients and for the API's OpenAPI
// document (`GET /api/openapi.json`). The routes read them as their rules say, and the server's
// OpenAPI tests hold the two together.

/** The largest page of `GET /api/rooms/<room>/messages` (`limit`); by default HISTORY_PAGE_SIZE. */
export const HISTORY_PAGE_MAX = 200;
/** The largest page of `GET /api/rooms/<room>/members` (`limit`), and its default. */
export const MEMBER_PAGE_MAX = 200;
export const MEMBER_PAGE_DEFAULT = 100;

/**
 * A room name as a path holds it: percent-encoded UTF-8, 1–100 letters, combining marks, digits
 * or underscores (the rules of `parseRoomName`; the server folds it to its canonical form).
 */
export const RoomNameParamSchema = v.pipe(
  v.string(),
  v.check(isRoomName, 'must be a room name'),
  v.description(
    'The room name, percent-encoded UTF-8: 1–100 letters, combining marks, digits or underscores, starting with one that is not a mark. Normalized to NFC and lower case (`Lobby` is `lobby`).',
  ),
);

/** `/api/rooms/<room>/…` and `/api/admin/rooms/<room>/…`. */
export const RoomPathParamsSchema = v.object({ room: RoomNameParamSchema });

/** `DELETE /api/admin/rooms/<room>/messages/<id>`. */
export const RoomMessagePathParamsSchema = v.object({
  room: RoomNameParamSchema,
  id: v.pipe(MessageIdSchema, v.description('The message’s id (`<ms>-<seq>`).')),
});

/** The largest page of `GET /api/admin/rooms/<room>/messages` (`limit`). */
export const OPERATOR_MESSAGES_PAGE_MAX = 100;
/** Its page by default. */
export const OPERATOR_MESSAGES_PAGE_DEFAULT = 20;

/** The query of `GET /api/admin/rooms/<room>/messages`: the latest page, or the one before an id. */
export const OperatorMessagesQuerySchema = v.object({
  before: v.optional(
    v.pipe(MessageIdSchema, v.description('Older messages: the page ends before this message id (`<ms>-<seq>`).')),
  ),
  limit: v.optional(
    v.pipe(
      v.number(),
      v.integer(),
      v.minValue(1),
      v.maxValue(OPERATOR_MESSAGES_PAGE_MAX),
      v.description(`Messages in the page (${OPERATOR_MESSAGES_PAGE_DEFAULT} by default).`),
    ),
  ),
});

/** `DELETE /api/admin/bans/<key>`. */
export const BanPathParamsSchema = v.object({
  key: v.pipe(v.string(), v.description('The ban’s key, as listed: `u:<user id>` or `a:<address key>`.')),
});

/** `DELETE /api/admin/bots/<id>`. */
export const BotPathParamsSchema = v.object({
  id: v.pipe(v.string(), v.description('The bot’s id (`bot_…`).')),
});

/** The query of `GET /api/rooms/<room>/messages` (see RoomMessagesQuery). */
export const RoomMessagesQuerySchema = v.object({
  before: v.optional(
    v.pipe(MessageIdSchema, v.description('Older messages: the page ends before this message id (`<ms>-<seq>`).')),
  ),
  after: v.optional(
    v.pipe(
      MessageIdSchema,
      v.description('Newer messages: the page starts after this message id (finishing a recovery). Not with `before`.'),
    ),
  ),
  limit: v.optional(
    v.pipe(
      v.number(),
      v.integer(),
      v.minValue(1),
      v.maxValue(HISTORY_PAGE_MAX),
      v.description('Messages in the page; by default the server’s HISTORY_PAGE_SIZE.'),
    ),
  ),
});

/** The query of `GET /api/rooms/<room>/members`. */
export const RoomMembersQuerySchema = v.object({
  cursor: v.optional(
    v.pipe(
      v.string(),
      v.regex(MEMBER_CURSOR_PATTERN),
      v.description('The `cursor` of the previous page; none for the first page.'),
    ),
  ),
  limit: v.optional(
    v.pipe(
      v.number(),
      v.integer(),
      v.minValue(1),
      v.maxValue(MEMBER_PAGE_MAX),
      v.description(`Members in the page (${MEMBER_PAGE_DEFAULT} by default).`),
    ),
  ),
});

/** The headers of a bot's `POST /api/rooms/<room>/messages` besides its key (IDEMPOTENCY_KEY_HEADER). */
export const PostMessageHeadersSchema = v.object({
  'idempotency-key': v.optional(
    v.pipe(
      v.string(),
      v.regex(CLIENT_MSG_ID_PATTERN),
      v.description(
        'Makes a retry safe: the same key posts once (it is the message’s clientMsgId). 1–64 letters, digits, _ or -.',
      ),
    ),
  ),
});

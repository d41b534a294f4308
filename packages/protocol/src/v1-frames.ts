import * as v from 'valibot';
import { CLIENT_MSG_ID_PATTERN, MESSAGE_ID_PATTERN } from './message-id.ts';
import { ErrorFrameSchema } from './error-frame.ts';

/** The WebSocket subprotocol of Parley's own protocol. Clients offer it; the server echoes it. */
export const PROTOCOL_V1 = 'parley.v1';

/** A person in a room: the id the server issued and the display name they chose. */
export const UserSchema = v.object({ id: v.string(), name: v.string() });
export type User = v.InferOutput<typeof UserSchema>;

const MessageId = v.pipe(v.string(), v.regex(MESSAGE_ID_PATTERN, 'must be a message id like 1700000000000-0'));
const ClientMsgId = v.pipe(v.string(), v.regex(CLIENT_MSG_ID_PATTERN, 'must be 1–64 letters, digits, _ or -'));

/**
 * A chat message. `id` is unique and strictly increasing within a room across all server
 * instances; `ts` is the server time in ms; `clientMsgId` is the sender's own id for it.
 */
export const MessageFrameSchema = v.object({
  type: v.literal('message'),
  id: MessageId,
  room: v.string(),
  user: UserSchema,
  text: v.string(),
  ts: v.number(),
  clientMsgId: v.optional(v.string()),
});
export type MessageFrame = v.InferOutput<typeof MessageFrameSchema>;

/**
 * The first frame on every connection. `history` is oldest first. With `since`, it holds the
 * retained messages after that id (at most a bounded page of them) and `recovered` is true;
 * when messages after `since` are no longer retained, it holds the latest page and `recovered`
 * is false.
 */
export const WelcomeFrameSchema = v.object({
  type: v.literal('welcome'),
  room: v.string(),
  you: UserSchema,
  /** Keep it (e.g. in localStorage) and pass it as `token` when reconnecting to stay the same person. */
  token: v.string(),
  members: v.array(UserSchema),
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
});
export type WelcomeFrame = v.InferOutput<typeof WelcomeFrameSchema>;

/** A person's first connection in the room opened. */
export const JoinFrameSchema = v.object({ type: v.literal('join'), user: UserSchema, ts: v.number() });
export type JoinFrame = v.InferOutput<typeof JoinFrameSchema>;

/** A person's last connection in the room closed (or their server stopped answering). */
export const LeaveFrameSchema = v.object({ type: v.literal('leave'), user: UserSchema, ts: v.number() });
export type LeaveFrame = v.InferOutput<typeof LeaveFrameSchema>;

/** Someone is typing; clients show it for a few seconds. */
export const TypingFrameSchema = v.object({ type: v.literal('typing'), user: UserSchema });
export type TypingFrame = v.InferOutput<typeof TypingFrameSchema>;

/** The message with this clientMsgId is stored and published under `id`. */
export const AckFrameSchema = v.object({ type: v.literal('ack'), clientMsgId: v.string(), id: MessageId });
export type AckFrame = v.InferOutput<typeof AckFrameSchema>;

/**
 * The server's link to the message bus changed. While `degraded`, sending fails with
 * `unavailable` (resend later) and live messages may pause; when it clears, nothing is missing.
 */
export const StatusFrameSchema = v.object({ type: v.literal('status'), degraded: v.boolean(), message: v.string() });
export type StatusFrame = v.InferOutput<typeof StatusFrameSchema>;

/** Every frame the server sends on `parley.v1`. */
export const ServerFrameSchema = v.variant('type', [
  WelcomeFrameSchema,
  MessageFrameSchema,
  JoinFrameSchema,
  LeaveFrameSchema,
  TypingFrameSchema,
  AckFrameSchema,
  StatusFrameSchema,
  ErrorFrameSchema,
]);
export type ServerFrame = v.InferOutput<typeof ServerFrameSchema>;

/** Sends a chat message; the server answers with `ack` (or `error` carrying the clientMsgId). */
export const ClientMessageFrameSchema = v.object({
  type: v.literal('message'),
  text: v.string(),
  clientMsgId: ClientMsgId,
});
export type ClientMessageFrame = v.InferOutput<typeof ClientMessageFrameSchema>;

/** Tells the room this person is typing. */
export const ClientTypingFrameSchema = v.object({ type: v.literal('typing') });
export type ClientTypingFrame = v.InferOutput<typeof ClientTypingFrameSchema>;

/** Every frame a client may send on `parley.v1`. */
export const ClientFrameSchema = v.variant('type', [ClientMessageFrameSchema, ClientTypingFrameSchema]);
export type ClientFrame = v.InferOutput<typeof ClientFrameSchema>;

/** What a `parley.v1` client passes when it connects. */
export interface ConnectParams {
  /** Display name, 1–32 characters (query parameter `name`). */
  name: string;
  /**
   * The token from an earlier `welcome`, to keep the same user id. Sent as the subprotocol
   * {@link tokenProtocol}(token) beside `parley.v1`, never in the URL (URLs end up in logs).
   */
  token?: string;
  /** The id of the last message this client has (query parameter `since`); the welcome then carries what came after it. */
  since?: string;
}

/** Subprotocols starting with this carry the identity token; the server never selects them. */
export const TOKEN_PROTOCOL_PREFIX = 'parley.token.';

/**
 * The subprotocol value that carries an identity token. Tokens are made of characters that are
 * valid in a subprotocol name (letters, digits, `-`, `_`, `.`).
 *
 * @param token As received in a `welcome`.
 * @returns E.g. `parley.token.u_Qm9iLWlzLWhl.k1.mq2x8.3q2-7w…`.
 */
export function tokenProtocol(token: string): string {
  return TOKEN_PROTOCOL_PREFIX + token;
}

/**
 * The identity token among the offered subprotocols, if any.
 *
 * @param offered The `Sec-WebSocket-Protocol` header (comma-separated) or its values.
 */
export function tokenFromProtocols(offered: string | readonly string[] | undefined): string | undefined {
  const values = typeof offered === 'string' ? offered.split(',') : (offered ?? []);
  for (const value of values) {
    const trimmed = value.trim();
    if (trimmed.startsWith(TOKEN_PROTOCOL_PREFIX) && trimmed.length > TOKEN_PROTOCOL_PREFIX.length) {
      return trimmed.slice(TOKEN_PROTOCOL_PREFIX.length);
    }
  }
  return undefined;
}

/**
 * A page of messages from `GET /api/rooms/<room>/messages`: older ones (`before=<id>`, scroll-back)
 * or newer ones (`after=<id>`, finishing a recovery the welcome cut short). Oldest first.
 */
export const HistoryPageSchema = v.object({
  room: v.string(),
  messages: v.array(MessageFrameSchema),
  /** Older messages exist before the first one of the page. */
  hasMore: v.boolean(),
  /** With `after`: newer messages exist after the last one of the page (fetch the next page). */
  hasNewer: v.optional(v.boolean()),
  /**
   * With `after`: false when messages right after `after` are no longer retained (the room
   * moved on too far); the page then starts at the oldest message kept, after a gap.
   */
  recovered: v.optional(v.boolean()),
});
export type HistoryPage = v.InferOutput<typeof HistoryPageSchema>;

/** One active room in `GET /api/rooms`. */
export const RoomSummarySchema = v.object({
  room: v.string(),
  members: v.number(),
  lastActivity: v.number(),
});
export type RoomSummary = v.InferOutput<typeof RoomSummarySchema>;

/** The body of `GET /api/rooms`: most active first. */
export const RoomListSchema = v.object({ rooms: v.array(RoomSummarySchema) });
export type RoomList = v.InferOutput<typeof RoomListSchema>;

import * as v from 'valibot';
import { ERROR_CODES } from './error-codes.ts';
import { isMessageId } from './message-id.ts';

// Every frame the server sends on `parley.v1`, one schema each, and their union.

/** A person in a room: the id the server issued and the display name they chose. */
export const UserSchema = v.object({ id: v.string(), name: v.string() });
export type User = v.InferOutput<typeof UserSchema>;

/** A message id (`<ms>-<seq>`, each part at most 2^64 − 1; see isMessageId). */
export const MessageIdSchema = v.pipe(v.string(), v.check(isMessageId, 'must be a message id like 1700000000000-0'));

/**
 * A chat message. `id` is unique and strictly increasing within a room across all server
 * instances; `ts` is the server time in ms; `clientMsgId` is the sender's own id for it.
 */
export const MessageFrameSchema = v.object({
  type: v.literal('message'),
  id: MessageIdSchema,
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
});

/** An `error` frame. */
export type ErrorFrame = v.InferOutput<typeof ErrorFrameSchema>;

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

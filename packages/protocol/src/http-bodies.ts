import * as v from 'valibot';
import { HTTP_ERROR_CODES, type HttpErrorCode } from './error-codes.ts';
import {
  ChangeFrameSchema,
  MemberSchema,
  MessageFrameSchema,
  ModerationFrameSchema,
  SettingsFrameSchema,
  WebhookChangeFrameSchema,
} from './server-frames.ts';

// The bodies of the HTTP API (see paths.ts for the routes).

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
  /** With `after`: changes made after `after` to messages older than the page (as in the welcome). */
  changes: v.optional(v.array(ChangeFrameSchema)),
  /** With `after`: the moderation actions in the page's stretch of the log, oldest first (as in the welcome). */
  moderation: v.optional(v.array(ModerationFrameSchema)),
  /** With `after`: the settings changes in the page's stretch of the log, oldest first. */
  settingsChanges: v.optional(v.array(SettingsFrameSchema)),
  /** With `after`: the changes of the room's webhook in the page's stretch of the log, oldest first. */
  webhookChanges: v.optional(v.array(WebhookChangeFrameSchema)),
  /** With `after`: the newest log entry (message or change) the page covers; pass it as the next `after`. */
  lastEventId: v.optional(v.string()),
});
export type HistoryPage = v.InferOutput<typeof HistoryPageSchema>;

/**
 * A page of the people present in a room, from `GET /api/rooms/<room>/members?cursor=<c>&limit=<n>`:
 * members as the welcome lists them. Walk from no cursor and pass each page's `cursor` to get the
 * next, until a page comes without one. Everyone present for the whole walk is listed once;
 * people who come or go meanwhile may or may not be.
 */
export const MemberPageSchema = v.object({
  room: v.string(),
  members: v.array(MemberSchema),
  /** Everyone present, across server instances, when the page was read. */
  memberCount: v.number(),
  /** Where the next page starts; absent on the last page. */
  cursor: v.optional(v.string()),
});
export type MemberPage = v.InferOutput<typeof MemberPageSchema>;

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

/** The body of every HTTP error answer: a code of {@link HTTP_ERROR_CODES} and a sentence for people. */
export const HttpErrorBodySchema = v.object({
  error: v.picklist(Object.keys(HTTP_ERROR_CODES) as [HttpErrorCode, ...HttpErrorCode[]]),
  message: v.string(),
  /** `banned` on a room read: when the ban ends (ms since the epoch); absent: until lifted (as the socket's error). */
  until: v.optional(v.number()),
  /** `banned` by the operator from the whole server, not by the room (as the socket's error). */
  scope: v.optional(v.literal('server')),
});
export type HttpErrorBody = v.InferOutput<typeof HttpErrorBodySchema>;

/** `GET /healthz` (liveness): the process answers. */
export const HealthSchema = v.object({ status: v.literal('ok'), uptimeSeconds: v.number() });
export type Health = v.InferOutput<typeof HealthSchema>;

/** `GET /readyz` (readiness): whether the engine can carry messages (200 `ready`, 503 `unready`). */
export const ReadinessSchema = v.object({
  status: v.picklist(['ready', 'unready']),
  /** `memory` (one instance) or `redis`. */
  engine: v.picklist(['memory', 'redis']),
  /** For people: e.g. "redis up (0.4 ms)" or the connection error. */
  detail: v.string(),
});
export type Readiness = v.InferOutput<typeof ReadinessSchema>;

/** `GET /` of a server deployed without the web app (WEB_DIST_DIR unset): what it is. */
export const ServerInfoSchema = v.object({ name: v.string(), message: v.string() });
export type ServerInfo = v.InferOutput<typeof ServerInfoSchema>;

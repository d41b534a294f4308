import * as v from 'valibot';
import type { HttpErrorCode } from './error-codes.ts';
import {
  ChangeFrameSchema,
  MemberSchema,
  MessageFrameSchema,
  ModerationFrameSchema,
  SettingsFrameSchema,
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

/** The body of every HTTP error answer. */
export interface HttpErrorBody {
  error: HttpErrorCode;
  message: string;
}

import * as v from 'valibot';
import { ClientInviteFrameSchema, ClientModerateFrameSchema } from './client-frames.ts';
import { DeliveryAttemptSchema, DeliveryCountsSchema } from './deliveries.ts';
import { MAX_MODERATION_SECONDS, MAX_REASON_LENGTH, RoomSettingsSchema } from './moderation.ts';

// The operator's HTTP API (`/api/admin/...`): whoever holds the server's ADMIN_TOKEN sees every
// room (unlisted ones too) and every instance, bans people from the whole server, purges rooms
// and acts as a moderator in any room. Every request carries `Authorization: Bearer <ADMIN_TOKEN>`;
// without ADMIN_TOKEN set, these routes do not exist (404).

/** `GET`: every active room, unlisted ones included (`OperatorRoomList`). */
export const ADMIN_ROOMS_PATH = '/api/admin/rooms';
/** `GET`: the server's instances and their connections (`InstanceList`). */
export const ADMIN_INSTANCES_PATH = '/api/admin/instances';
/** `GET`: instance-wide bans (`InstanceBanList`); `POST` an `InstanceBanRequest` to add one. */
export const ADMIN_BANS_PATH = '/api/admin/bans';
/** `DELETE`: lifts the instance-wide ban with this key. */
export const ADMIN_BAN_ROUTE = '/api/admin/bans/:key';
/** `POST` an `OperatorModerationRequest`: a moderation action in a room, by the operator. */
export const ADMIN_MODERATE_ROUTE = '/api/admin/rooms/:room/moderate';
/** `POST` (no body): deletes every retained message of a room. */
export const ADMIN_PURGE_ROUTE = '/api/admin/rooms/:room/purge';
/** `GET`: a page of a room's history, any room (`HistoryPage`; query: `OperatorMessagesQuery`). */
export const ADMIN_ROOM_MESSAGES_ROUTE = '/api/admin/rooms/:room/messages';
/** `DELETE`: deletes one message of a room, as a moderator's `delete` (`OperatorActionResult`). */
export const ADMIN_ROOM_MESSAGE_ROUTE = '/api/admin/rooms/:room/messages/:id';
/** `POST` an `OperatorInviteRequest` (or no body): an invite to a room (`OperatorInvite`). */
export const ADMIN_INVITES_ROUTE = '/api/admin/rooms/:room/invites';
/**
 * `GET`: the webhooks, bots' webhook URLs and rooms' webhooks (those delivered to lately), with
 * each instance's deliveries to them (`WebhookStatusList`).
 */
export const ADMIN_WEBHOOKS_PATH = '/api/admin/webhooks';

/** Path of an instance-wide ban (to lift it). */
export function adminBanPath(key: string): string {
  return `${ADMIN_BANS_PATH}/${encodeURIComponent(key)}`;
}

/** Path of a room's operator moderation endpoint. */
export function adminModeratePath(room: string): string {
  return `/api/admin/rooms/${encodeURIComponent(room)}/moderate`;
}

/** Path of a room's purge endpoint. */
export function adminPurgePath(room: string): string {
  return `/api/admin/rooms/${encodeURIComponent(room)}/purge`;
}

/** Path of a page of a room's history, as the operator reads it (the latest page, or the one `before` an id). */
export function adminRoomMessagesPath(room: string, query: { before?: string; limit?: number } = {}): string {
  const params = Object.entries(query)
    .filter(([, value]) => value !== undefined)
    .map(([key, value]) => `${key}=${encodeURIComponent(String(value))}`);
  return `/api/admin/rooms/${encodeURIComponent(room)}/messages${params.length === 0 ? '' : `?${params.join('&')}`}`;
}

/** Path of one message of a room, to delete it as the operator. */
export function adminRoomMessagePath(room: string, id: string): string {
  return `/api/admin/rooms/${encodeURIComponent(room)}/messages/${encodeURIComponent(id)}`;
}

/** Path of a room's invites, to make one as the operator. */
export function adminInvitesPath(room: string): string {
  return `/api/admin/rooms/${encodeURIComponent(room)}/invites`;
}

/**
 * The operator's identity in moderation events (identity tokens' ids all start with `u_`, so no
 * person can be it). The operator outranks every role in every room.
 */
export const OPERATOR_USER = { id: 'operator', name: 'Operator' } as const;

/**
 * Whom an operator's purge of a whole room names (`user` of its `moderation` event): every
 * author. Only the operator may purge it.
 */
export const EVERYONE_USER = { id: '*', name: 'everyone' } as const;

/** How many instance-wide bans the server keeps by default (MAX_INSTANCE_BANS; each instance holds them all in memory). */
export const MAX_INSTANCE_BANS = 10_000;

/** One room as the operator sees it. */
export const OperatorRoomSchema = v.object({
  room: v.string(),
  /** People present, across instances. */
  members: v.number(),
  /** Messages retained in the room's history. */
  messages: v.number(),
  lastActivity: v.number(),
  /** Absent while nobody has posted. */
  owner: v.optional(v.string()),
  moderators: v.number(),
  settings: RoomSettingsSchema,
});
export type OperatorRoom = v.InferOutput<typeof OperatorRoomSchema>;

export const OperatorRoomListSchema = v.object({ rooms: v.array(OperatorRoomSchema) });
export type OperatorRoomList = v.InferOutput<typeof OperatorRoomListSchema>;

/** One server instance, as it last reported itself (every few seconds). */
export const InstanceReportSchema = v.object({
  id: v.string(),
  /** Open WebSocket connections, by protocol (`v1`, `reference`). */
  connections: v.record(v.string(), v.number()),
  /** Rooms with sockets on this instance. */
  rooms: v.number(),
  startedAt: v.number(),
  /** When it last reported. */
  reportedAt: v.number(),
});
export type InstanceReport = v.InferOutput<typeof InstanceReportSchema>;

export const InstanceListSchema = v.object({ instances: v.array(InstanceReportSchema) });
export type InstanceList = v.InferOutput<typeof InstanceListSchema>;

/**
 * A ban from the whole server: by user id (`u:<id>`) or by client address (`a:<address key>`,
 * IPv6 grouped by the server's prefix). Checked when a socket is set up and on every send; the
 * sockets it matches are closed (`banned`, 4403) within a few seconds on every instance.
 */
export const InstanceBanSchema = v.object({
  key: v.string(),
  /** When it ends (ms); 0: until lifted. */
  until: v.number(),
  reason: v.optional(v.string()),
  at: v.number(),
});
export type InstanceBan = v.InferOutput<typeof InstanceBanSchema>;

export const InstanceBanListSchema = v.object({ bans: v.array(InstanceBanSchema) });
export type InstanceBanList = v.InferOutput<typeof InstanceBanListSchema>;

/** `POST /api/admin/bans`: ban a user id or an address (exactly one of them). */
export const InstanceBanRequestSchema = v.pipe(
  v.object({
    userId: v.optional(v.pipe(v.string(), v.minLength(1), v.maxLength(100))),
    address: v.optional(v.pipe(v.string(), v.minLength(1), v.maxLength(100))),
    /** Absent: until lifted. */
    durationSeconds: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(MAX_MODERATION_SECONDS))),
    reason: v.optional(v.pipe(v.string(), v.maxLength(MAX_REASON_LENGTH))),
  }),
  v.check(
    (ban) => (ban.userId === undefined) !== (ban.address === undefined),
    'give exactly one of userId and address',
  ),
);
export type InstanceBanRequest = v.InferOutput<typeof InstanceBanRequestSchema>;

/** The key of an instance-wide ban on a user id. */
export function userBanKey(userId: string): string {
  return `u:${userId}`;
}

/** The key of an instance-wide ban on an address key. */
export function addressBanKey(addressKey: string): string {
  return `a:${addressKey}`;
}

/**
 * `POST /api/admin/rooms/<room>/moderate`: a moderation action by the operator, who outranks
 * every role: any action on anyone, and `transfer` makes anyone the owner (present or not).
 * `clientMsgId` makes a retry safe, as on the socket. Answered with `{ "eventId": <log id> }`.
 */
export const OperatorModerationRequestSchema = v.object(
  (({ type: _type, ...entries }) => entries)(ClientModerateFrameSchema.entries),
);
export type OperatorModerationRequest = v.InferOutput<typeof OperatorModerationRequestSchema>;

/** The answer to an operator's moderation action or purge. */
export const OperatorActionResultSchema = v.object({
  /** The action's entry in the room's log. */
  eventId: v.string(),
  /** Purge: how many messages were deleted. */
  count: v.optional(v.number()),
});
export type OperatorActionResult = v.InferOutput<typeof OperatorActionResultSchema>;

/**
 * `POST /api/admin/rooms/<room>/invites`: how long the invite lasts, bounded as the socket's
 * `invite` frame (a minute to MAX_INVITE_SECONDS; DEFAULT_INVITE_SECONDS when absent).
 */
export const OperatorInviteRequestSchema = v.object({
  expiresInSeconds: ClientInviteFrameSchema.entries.expiresInSeconds,
});
export type OperatorInviteRequest = v.InferOutput<typeof OperatorInviteRequestSchema>;

/** An invite made by the operator: what an `invite` frame carries, the link always. */
export const OperatorInviteSchema = v.object({
  /** Presented on connect as `&invite=<invite>` (SDKs, bots); the link carries it. */
  invite: v.string(),
  /** Opens the room in the web app with the invite. */
  url: v.string(),
  /** When it stops letting people in (ms). */
  expiresTs: v.number(),
});
export type OperatorInvite = v.InferOutput<typeof OperatorInviteSchema>;

/** One instance's deliveries to one target, as it last reported them (every few seconds). */
export const InstanceDeliveriesSchema = v.object({
  instance: v.string(),
  reportedAt: v.number(),
  ...DeliveryCountsSchema.entries,
  /** The last attempt, if any. */
  last: v.optional(DeliveryAttemptSchema),
  /** The last failed attempts (at most 20), newest first. */
  failures: v.array(DeliveryAttemptSchema),
});
export type InstanceDeliveries = v.InferOutput<typeof InstanceDeliveriesSchema>;

/**
 * A place the server delivers events to: one of the instance-wide webhooks (WEBHOOK_URLS), a
 * bot's webhook URL (its mentions), or a room's webhook (set by its owner), with each
 * instance's deliveries to it. URLs are shown with the query's values and any path segment that
 * looks like a token replaced by `…`.
 */
export const WebhookStatusSchema = v.object({
  /** Stable across instances and reports: a hash of the URL (a room's: of the room and URL), or the bot's id. */
  id: v.string(),
  kind: v.picklist(['webhook', 'bot', 'room']),
  url: v.string(),
  /** The events delivered there. */
  events: v.array(v.string()),
  /** The bot, for a bot's webhook. */
  bot: v.optional(v.object({ id: v.string(), name: v.string() })),
  /** The room, for a room's webhook. */
  room: v.optional(v.string()),
  /** Every instance that reported deliveries to it in the last 15 s, by instance id. */
  instances: v.array(InstanceDeliveriesSchema),
});
export type WebhookStatus = v.InferOutput<typeof WebhookStatusSchema>;

export const WebhookStatusListSchema = v.object({ webhooks: v.array(WebhookStatusSchema) });
export type WebhookStatusList = v.InferOutput<typeof WebhookStatusListSchema>;

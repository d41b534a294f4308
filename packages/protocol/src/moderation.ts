import * as v from 'valibot';

// Rooms people can protect: who may do what in a room, and what moderators can do to people.
// A room's first poster owns it; the owner appoints moderators; both can remove, ban and mute
// people below them. Roles belong to user ids (the identity token's), not to names.

/** A person's standing in a room, highest first. */
export const ROLES = ['owner', 'moderator', 'member'] as const;
export type Role = (typeof ROLES)[number];

/**
 * What a moderator can do to a person (`moderate` frames; `moderation` events tell the room):
 * - `kick`: their connections to the room are closed (4403, error `kicked`); they may come back.
 * - `ban` / `unban`: closed, and kept out (by user id, and by the address they were on) until
 *   `until` (`durationSeconds`; none: until unbanned or the room is forgotten).
 * - `mute` / `unmute`: they stay, but cannot post, edit or react until `until`.
 * - `promote` / `demote` (owner only): make a person a moderator, or a member again.
 * - `transfer` (owner only): hand the room to a person present; the old owner becomes a moderator.
 * - `purge`: delete the person's messages of the last `durationSeconds` (an hour when absent, at
 *   most MAX_PURGE_SECONDS), the newest first, at most MAX_PURGE_MESSAGES; the person need not be
 *   present. Each deletion reaches the room as a `delete`, and the `moderation` event says how many
 *   went (`count`).
 */
export const MODERATION_ACTIONS = [
  'kick',
  'ban',
  'unban',
  'mute',
  'unmute',
  'promote',
  'demote',
  'transfer',
  'purge',
] as const;
export type ModerationAction = (typeof MODERATION_ACTIONS)[number];

/** The actions only the owner may take. */
export const OWNER_ACTIONS: readonly ModerationAction[] = ['promote', 'demote', 'transfer'];

/** The longest ban or mute one action can set (a year); longer: leave `durationSeconds` out. */
export const MAX_MODERATION_SECONDS = 365 * 24 * 3600;

/** How far back a purge reaches unless asked otherwise (an hour), and at most (7 days; further: `bad_frame`). */
export const DEFAULT_PURGE_SECONDS = 3600;
export const MAX_PURGE_SECONDS = 7 * 24 * 3600;

/**
 * The most messages one purge deletes, the newest first: it bounds the work of one action (and the
 * frames it sends everyone). A purge whose `count` reaches it may have left older ones: purge again.
 */
export const MAX_PURGE_MESSAGES = 500;

/**
 * The window of a purge in seconds (`durationSeconds`, or DEFAULT_PURGE_SECONDS when absent), or
 * undefined when it reaches back further than MAX_PURGE_SECONDS.
 */
export function purgeWindowSeconds(durationSeconds: number | undefined): number | undefined {
  const seconds = durationSeconds ?? DEFAULT_PURGE_SECONDS;
  return seconds <= MAX_PURGE_SECONDS ? seconds : undefined;
}

/** Characters a moderation reason may have. */
export const MAX_REASON_LENGTH = 200;

/** How long an invite lasts unless asked otherwise (a day), and at most (30 days). */
export const DEFAULT_INVITE_SECONDS = 24 * 3600;
export const MAX_INVITE_SECONDS = 30 * 24 * 3600;

/** Characters a room's topic may have. */
export const MAX_TOPIC_LENGTH = 200;

/** The longest slow mode: one message an hour per person. */
export const MAX_SLOW_MODE_SECONDS = 3600;

/**
 * A room's settings, changed by its owner (`settings` frames):
 * - `topic`: a line shown under the room's name;
 * - `unlisted`: the room never appears in `/api/rooms` (people need its name);
 * - `inviteOnly`: only people with an invite (`invite` frames), people already let in, and the
 *   owner and moderators get in;
 * - `slowModeSeconds`: each member may post one message per this many seconds (0: off); the owner
 *   and moderators are exempt;
 * - `readOnly`: only the owner and moderators may post.
 */
export const RoomSettingsSchema = v.object({
  topic: v.pipe(v.string(), v.maxLength(MAX_TOPIC_LENGTH)),
  unlisted: v.boolean(),
  inviteOnly: v.boolean(),
  slowModeSeconds: v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(MAX_SLOW_MODE_SECONDS)),
  readOnly: v.boolean(),
});
export type RoomSettings = v.InferOutput<typeof RoomSettingsSchema>;

/** A room's settings until its owner changes them. */
export const DEFAULT_ROOM_SETTINGS: RoomSettings = {
  topic: '',
  unlisted: false,
  inviteOnly: false,
  slowModeSeconds: 0,
  readOnly: false,
};

/** Who holds a role in a room (everyone else is a member). */
export const RoomRolesSchema = v.object({
  /** Absent while nobody has posted in the room yet. */
  owner: v.optional(v.string()),
  moderators: v.array(v.string()),
});
export type RoomRoles = v.InferOutput<typeof RoomRolesSchema>;

/** A person's role from the room's roles. */
export function roleOf(roles: RoomRoles | undefined, userId: string): Role {
  if (roles?.owner === userId) return 'owner';
  return roles?.moderators.includes(userId) === true ? 'moderator' : 'member';
}

/** Whether a person of role `actor` may take `action` against one of role `target`. */
export function mayModerate(actor: Role, action: ModerationAction, target: Role): boolean {
  if (OWNER_ACTIONS.includes(action)) return actor === 'owner' && target !== 'owner';
  return ROLES.indexOf(actor) < ROLES.indexOf(target) && actor !== 'member';
}

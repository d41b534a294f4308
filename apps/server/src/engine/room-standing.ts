import {
  DEFAULT_ROOM_SETTINGS,
  EVERYONE_USER,
  OPERATOR_USER,
  OWNER_ACTIONS,
  mayModerate,
  roleOf,
  type ModerationAction,
  type Role,
  type RoomRoles,
  type RoomSettings,
  type User,
} from '@parley/protocol';

// Who may do what in a room, and who is kept out or silenced: the rules both engines apply (the
// Redis engine in its scripts, with the same rules; see redis-scripts.ts, MODERATE).

/** A person's standing in a room at one moment. */
export interface Standing {
  roles: RoomRoles;
  role: Role;
  settings: RoomSettings;
  /** Set while banned (by user id, or by the address they connect from): when it ends, 0 for never. */
  bannedUntil?: number;
  /** Let into the room while it is invite-only (an invite presented, or present when it became so). */
  admitted: boolean;
  /** Set while muted: when it ends, 0 for never. */
  mutedUntil?: number;
  /** Set when the room has a webhook: the events sent to it (everyone may know; never its URL). */
  webhookEvents?: string[];
}

/**
 * Whether a person must bring an invite to get in: the room is invite-only and they are a
 * member never let in (the owner and moderators always get in, and so does whoever was let in
 * once: an invite presented, or present when the room became invite-only).
 */
export function needsInvite(standing: Pick<Standing, 'settings' | 'role' | 'admitted'>): boolean {
  return standing.settings.inviteOnly && standing.role === 'member' && !standing.admitted;
}

/** Actions on a person who must be in the room (the others lift something, or change a role). */
export const NEEDS_PRESENCE: readonly ModerationAction[] = ['kick', 'ban', 'mute', 'promote', 'transfer'];

/**
 * Where a purge (see the protocol's MODERATION_ACTIONS) reaches back to: messages logged at or
 * after this time (ms) may go. Both engines then apply the same rules (the Redis PURGE script
 * too): a moderator above the person (present or not); that person's messages of the window,
 * newest first, not deleted yet, at most the draft's `maxMessages`; each deleted as a moderator's
 * `delete` of it would be (an entry of the log and a `delete` event), then one `moderation` entry
 * with the `count`, all in one atomic step. The window never reaches past the retained log.
 */
export function purgeFrom(now: number, windowSeconds: number): number {
  return now - windowSeconds * 1000;
}

/** How many moderators a room may have (the list travels in every welcome). */
export const MAX_MODERATORS = 50;

/** Whether a ban or mute that ends at `until` (0: never) still holds at `now`. */
export function holds(until: number | undefined, now: number): until is number {
  return until !== undefined && (until === 0 || until > now);
}

/**
 * Why a moderation action is refused, or undefined when it may go ahead: `forbidden` when it is
 * above the moderator's role (or would pass the moderator limit), `not_present` when it needs
 * the person in the room and they are not.
 */
export function moderationRefusal(
  roles: RoomRoles,
  by: string,
  action: ModerationAction,
  target: string,
  present: boolean,
): 'forbidden' | 'not_present' | undefined {
  if (by === target) return 'forbidden';
  // The operator outranks everyone, present or not (a kick still needs someone to kick), and
  // appoints owners; only the operator purges a whole room.
  if (by === OPERATOR_USER.id) {
    if (OWNER_ACTIONS.includes(action) && roles.owner === target) return 'forbidden';
    if (action === 'promote' && roles.moderators.length >= MAX_MODERATORS) return 'forbidden';
    return action === 'kick' && !present ? 'not_present' : undefined;
  }
  if (target === EVERYONE_USER.id || target === OPERATOR_USER.id) return 'forbidden';
  if (!mayModerate(roleOf(roles, by), action, roleOf(roles, target))) return 'forbidden';
  if (action === 'promote' && roles.moderators.length >= MAX_MODERATORS) return 'forbidden';
  if (NEEDS_PRESENCE.includes(action) && !present) return 'not_present';
  return undefined;
}

/**
 * A room's roles, bans and mutes, as the memory engine keeps them. (The Redis engine keeps the
 * same in the room's moderation hash.)
 */
export class RoomModeration {
  owner: string | undefined;
  readonly moderators = new Set<string>();
  /** userId → when the ban ends (0: never), and who it is (for unban). */
  readonly bans = new Map<string, number>();
  /** address key → when the ban ends, and whose ban it came from (lifted with theirs). */
  readonly addressBans = new Map<string, { until: number; userId: string }>();
  readonly mutes = new Map<string, number>();
  settings: RoomSettings = DEFAULT_ROOM_SETTINGS;
  /** People let into the room while it is invite-only. */
  readonly admitted = new Set<string>();
  /** userId → when they last posted (ms), while the room is in slow mode. */
  readonly lastPosts = new Map<string, number>();

  roles(): RoomRoles {
    const roles: RoomRoles = { moderators: [...this.moderators] };
    if (this.owner !== undefined) roles.owner = this.owner;
    return roles;
  }

  standing(userId: string, address: string | undefined, now: number): Standing {
    const roles = this.roles();
    const standing: Standing = {
      roles,
      role: roleOf(roles, userId),
      settings: this.settings,
      admitted: this.admitted.has(userId),
    };
    const byId = this.bans.get(userId);
    const byAddress = address === undefined ? undefined : this.addressBans.get(address)?.until;
    if (holds(byId, now)) standing.bannedUntil = byId;
    // An address ban keeps out members from that address, never the room's owner and moderators
    // (who may well share it: one office, one household).
    else if (holds(byAddress, now) && standing.role === 'member') standing.bannedUntil = byAddress;
    const muted = this.mutes.get(userId);
    if (holds(muted, now)) standing.mutedUntil = muted;
    return standing;
  }

  /** Applies an action already checked by {@link moderationRefusal}. */
  apply(action: ModerationAction, target: User, by: User, until: number): void {
    switch (action) {
      case 'kick':
        return;
      case 'ban':
        this.bans.set(target.id, until);
        return;
      case 'unban':
        this.bans.delete(target.id);
        for (const [address, ban] of this.addressBans) if (ban.userId === target.id) this.addressBans.delete(address);
        return;
      case 'mute':
        this.mutes.set(target.id, until);
        return;
      case 'unmute':
        this.mutes.delete(target.id);
        return;
      case 'promote':
        this.moderators.add(target.id);
        return;
      case 'demote':
        this.moderators.delete(target.id);
        return;
      case 'transfer':
        // The old owner stays on as a moderator (the operator, who may hand over any room, is
        // never one).
        this.moderators.delete(target.id);
        if (this.owner !== undefined) this.moderators.add(this.owner);
        this.owner = target.id;
        return;
    }
  }

  /**
   * Why a message of `userId` may not be posted now (read-only room, slow mode), or undefined.
   * The owner and moderators are exempt. Call {@link posted} once it is stored.
   */
  postRefusal(
    userId: string,
    now: number,
  ): { code: 'read_only' } | { code: 'slow_mode'; retryAfterMs: number } | undefined {
    if (roleOf(this.roles(), userId) !== 'member') return undefined;
    if (this.settings.readOnly) return { code: 'read_only' };
    const wait = this.settings.slowModeSeconds * 1000 - (now - (this.lastPosts.get(userId) ?? -Infinity));
    return wait > 0 ? { code: 'slow_mode', retryAfterMs: Math.ceil(wait) } : undefined;
  }

  posted(userId: string, now: number): void {
    if (this.settings.slowModeSeconds > 0) this.lastPosts.set(userId, now);
  }

  /** Drops bans and mutes that ended (called now and then, so they do not pile up). */
  sweep(now: number): void {
    const slowMs = this.settings.slowModeSeconds * 1000;
    for (const [id, at] of this.lastPosts) if (now - at >= slowMs) this.lastPosts.delete(id);
    for (const [id, until] of this.bans) if (!holds(until, now)) this.bans.delete(id);
    for (const [address, ban] of this.addressBans) if (!holds(ban.until, now)) this.addressBans.delete(address);
    for (const [id, until] of this.mutes) if (!holds(until, now)) this.mutes.delete(id);
  }
}

// Every key and channel of one room shares the hash tag `{room}`, so a later move to Redis
// Cluster keeps a room's data on one slot without migrating anything. Room names are word
// characters only, so they can never contain the braces that delimit the tag.
const PREFIX = 'parley:{';
const EVENTS_SUFFIX = '}:events';

/** The pub/sub channel that carries a room's events between instances. */
export function roomChannel(room: string): string {
  return `${PREFIX}${room}${EVENTS_SUFFIX}`;
}

/** The room a channel belongs to, or undefined for a channel that is not a room's. */
export function roomOfChannel(channel: string): string | undefined {
  if (!channel.startsWith(PREFIX) || !channel.endsWith(EVENTS_SUFFIX)) return undefined;
  return channel.slice(PREFIX.length, channel.length - EVENTS_SUFFIX.length);
}

/** The keys of one room, all on the same cluster slot. */
export function roomKeys(room: string) {
  const base = `${PREFIX}${room}}`;
  return {
    /**
     * Stream: the room's log, one entry per message or change: `r` = record JSON (`b` in the
     * first release), `s` = seq; a message's `a` = author id and `rt` = id answered; a change's
     * `t` = id of the message changed (see redis-scripts.ts).
     */
    log: `${base}:log`,
    /** Hash: message id → its current text (messages of record version 2; gone once deleted). */
    texts: `${base}:texts`,
    /** Hash: message id → time of its last edit (ms). */
    edited: `${base}:edited`,
    /** Hash: message id → its emoji, space separated; `<id> <emoji>` → user ids, space separated, oldest first. */
    reactions: `${base}:reactions`,
    /** Counter: entries ever appended to the room's log; each published entry carries it as `seq`. */
    seq: `${base}:seq`,
    /** String: the newest id trimmed from the log, so a `since` at it is known to be recoverable. */
    trimmed: `${base}:trimmed`,
    /** Sorted set: `<userId>|<instanceId>` scored by the expiry of that presence. */
    presence: `${base}:presence`,
    /** Hash: userId → number of live presence entries (instances) of that person. */
    tabs: `${base}:tabs`,
    /**
     * Hash: userId → member entry JSON `{"id","name","tag","look"}` (member-entry.ts; entries an
     * earlier release stored are `{"id","name"}` until their person enters again).
     */
    people: `${base}:people`,
    /**
     * Hash: userId → the address keys (limits/address-key.ts) the person entered from, newest
     * last, at most ADDRESSES_PER_PERSON (space separated), so that a ban also keys on them in
     * the same step (MODERATE). Written on entry; kept a while after the person leaves (see
     * `gone`), and dropped with the room's presence when nobody is left in a room without a log.
     */
    addresses: `${base}:addresses`,
    /** Sorted set: userId of someone who left, scored by when; their addresses go ADDRESSES_KEPT_MS later. */
    gone: `${base}:gone`,
    /**
     * Hash: `k:<look key>` → how many people present have that key (lookKeys of their name), and
     * `u:<userId>` → the keys counted for that person (space separated), taken back when they
     * leave. A member listed shares a key with someone else present when its count is 2 or
     * more (member-entry.ts, LookCounts; the presence scripts keep it).
     */
    looks: `${base}:looks`,
    /** Hash: the room's owner, moderators, bans and mutes (see MODERATE in redis-scripts.ts). */
    moderation: `${base}:moderation`,
    /** String: with REDIS_WAIT_REPLICAS, the newest log entry a replica confirmed; reads stop there (see CONFIRM). */
    confirmed: `${base}:confirmed`,
  };
}

/** A member's slow-mode key in a room: present (with a TTL) while they must wait to post again. */
export function slowKey(room: string, userId: string): string {
  return `${PREFIX}${room}}:slow:${userId}`;
}

/** Retry guard for one (user, clientMsgId): holds the id the message was stored under. */
export function sentKey(room: string, userId: string, clientMsgId: string): string {
  return `${PREFIX}${room}}:sent:${userId}:${clientMsgId}`;
}

/**
 * Sorted set of room names scored by the time of their last message (ms), for the room list;
 * trimmed to the ROOM_INDEX_SIZE newest. Not per room (its own slot on a cluster); written at
 * most once a second per room per instance, never per message.
 */
export const ROOM_INDEX_KEY = 'parley:rooms';

/**
 * Sorted set of the rooms with people present, scored by when an instance last confirmed it
 * (on entry and at every presence heartbeat); an entry older than the presence TTL is a room
 * whose instance died. The room list reads it so occupied rooms always rank first.
 */
export const OCCUPIED_INDEX_KEY = 'parley:occupied';

/** Set of the rooms whose owner made them unlisted: the room list leaves them out. Written on settings changes only. */
export const UNLISTED_KEY = 'parley:unlisted';

/**
 * Set of the rooms with a webhook, for MAX_ROOM_WEBHOOKS: added to and removed from as owners set
 * and remove theirs. A room that expired with its webhook stays listed until a new webhook finds
 * the set full, which drops the rooms whose webhook is gone. (The webhook itself is in the room's
 * moderation hash, `hook` and `hookev`, and expires with it.)
 */
export const ROOM_WEBHOOKS_KEY = 'parley:room-webhooks';

/**
 * Hash of room with a webhook → the address key (limits/address-key.ts) of whoever set it, for
 * ROOM_WEBHOOKS_PER_ADDRESS: written as a webhook is set (a new URL: the new setter's), an entry
 * dropped as it is removed, and when the room's webhook is found gone (expired with the room) by
 * a count, as ROOM_WEBHOOKS_KEY is pruned. Its rooms are ROOM_WEBHOOKS_KEY's, so at most
 * MAX_ROOM_WEBHOOKS. Webhooks set before it existed have no entry and count for nobody. Not per
 * room, like ROOM_WEBHOOKS_KEY (read and written by commands one by one, never in a script with
 * a room's keys, so its own slot on a cluster).
 */
export const ROOM_WEBHOOK_SETTERS_KEY = 'parley:room-webhook-setters';

/** Counter: bumped whenever a room's webhook is set, changed or removed, so instances re-read the ones they keep. */
export const ROOM_WEBHOOKS_VERSION_KEY = 'parley:room-webhooks-version';

/** Hash of client address → messages posted that UTC day, for the daily quota; expires after two days. */
export function quotaKey(day: string): string {
  return `parley:quota:${day}`;
}

/** The identity-token secret shared by every instance. */
export const SECRET_KEY = 'parley:identity-secret';

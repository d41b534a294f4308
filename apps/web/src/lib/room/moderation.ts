/**
 * Moderation as the client holds it: who owns and moderates the room (the welcome's `roles`, kept
 * up to date by promote, demote and transfer), who is banned or muted as far as this client saw,
 * why the reader was removed, and what a `moderation` frame says in the log. Pure: apply-frame.ts
 * applies these, the views show them.
 */
import {
  DEFAULT_PURGE_SECONDS,
  EVERYONE_USER,
  mayModerate,
  roleOf,
  type ModerationAction,
  type ModerationFrame,
  type Role,
  type RoomRoles,
  type User,
} from '@parley/protocol';
import type { InviteAnswer } from './invite.ts';
import type { WebhookAnswer } from './webhook.ts';

/** Nobody owns or moderates the room (before its first message, or from a server before roles). */
export const NO_ROLES: RoomRoles = { moderators: [] };

/**
 * Bans or mutes this client saw, by user id: when each ends (ms since the epoch), `null` for
 * until lifted. Only what was seen: a ban made before the reader came is not in it.
 */
export type Restrictions = ReadonlyMap<string, number | null>;

export const NONE: Restrictions = new Map();

/**
 * Why the reader is out of the room: a moderator removed (`kicked`) or banned them, the room
 * is invite-only and they brought no valid invite (`invite_required`), or their invite is valid
 * but the room has let in as many people as it keeps (`room_full`, ROOM_ADMITTED_MAX).
 */
export interface Removal {
  kind: 'kicked' | 'banned' | 'invite_required' | 'room_full';
  /** A ban's end (ms since the epoch); absent: until a moderator lifts it. */
  until?: number;
  /** The moderator and their reason, when the moderation frame came before the close. */
  by?: User;
  reason?: string;
  /** A ban by the server's operator, from every room (the error frame's `scope`). */
  scope?: 'server';
}

/**
 * Where one of the reader's moderation actions (or settings changes, invite or webhook requests)
 * stands: its dialog waits for the answer. An invite request is done with the invite the server
 * gave, a webhook request with the room's webhook as the owner sees it.
 */
export type ModerationRequest =
  | { state: 'sending' }
  | { state: 'done'; invite?: InviteAnswer; webhook?: WebhookAnswer }
  | { state: 'failed'; message: string };

/** The reader's moderation actions by clientMsgId; replaced, never changed. */
export type Requests = ReadonlyMap<string, ModerationRequest>;

export const NO_REQUESTS: Requests = new Map();

/** The requests with this one's state set. */
export function withRequest(requests: Requests, clientMsgId: string, request: ModerationRequest): Requests {
  return new Map(requests).set(clientMsgId, request);
}

/** The requests without this one (its dialog closed); the same map when it is not there. */
export function withoutRequest(requests: Requests, clientMsgId: string): Requests {
  if (!requests.has(clientMsgId)) return requests;
  const next = new Map(requests);
  next.delete(clientMsgId);
  return next;
}

/** The requests with every unanswered one failed for this reason (the connection dropped). */
export function failUnanswered(requests: Requests, message: string): Requests {
  if (![...requests.values()].some((r) => r.state === 'sending')) return requests;
  return new Map(
    [...requests].map(([id, r]): [string, ModerationRequest] => [
      id,
      r.state === 'sending' ? { state: 'failed', message } : r,
    ]),
  );
}

/** The roles after a promote, demote or transfer; the same object for any other action. */
export function applyRoleChange(roles: RoomRoles, frame: ModerationFrame): RoomRoles {
  const target = frame.user.id;
  const others = roles.moderators.filter((id) => id !== target);
  switch (frame.action) {
    case 'promote':
      return roles.moderators.includes(target) ? roles : { ...roles, moderators: [...roles.moderators, target] };
    case 'demote':
      return others.length === roles.moderators.length ? roles : { ...roles, moderators: others };
    case 'transfer': {
      // The old owner stays on as a moderator.
      const old = roles.owner;
      return {
        owner: target,
        moderators: old === undefined || old === target || others.includes(old) ? others : [...others, old],
      };
    }
    default:
      return roles;
  }
}

/** Bans after a ban or unban; mutes after a mute or unmute: the same map when nothing changes. */
export function applyRestriction(
  restrictions: Restrictions,
  frame: ModerationFrame,
  put: ModerationAction,
  lift: ModerationAction,
): Restrictions {
  if (frame.action !== put && frame.action !== lift) return restrictions;
  const next = new Map(restrictions);
  if (frame.action === put) next.set(frame.user.id, frame.until ?? null);
  else if (!next.delete(frame.user.id)) return restrictions;
  return next;
}

/** Whether a ban or mute ending at `until` (`null`: never; `undefined`: none) still holds at `now`. */
export function holds(until: number | null | undefined, now: number): boolean {
  return until === null || (until !== undefined && until > now);
}

/** The choices of how long a ban or mute lasts; `undefined`: until a moderator lifts it. */
export const DURATIONS: readonly { label: string; seconds: number | undefined }[] = [
  { label: '10 minutes', seconds: 10 * 60 },
  { label: '1 hour', seconds: 3600 },
  { label: '1 day', seconds: 24 * 3600 },
  { label: '1 week', seconds: 7 * 24 * 3600 },
  { label: 'Until lifted', seconds: undefined },
];

/**
 * How far back "Remove recent messages" (a purge) reaches; an hour unless the moderator picks
 * another. (The server deletes at most MAX_PURGE_MESSAGES of them at a time.)
 */
export const PURGE_WINDOWS: readonly { label: string; seconds: number }[] = [
  { label: '15 minutes', seconds: 15 * 60 },
  { label: '1 hour', seconds: DEFAULT_PURGE_SECONDS },
  { label: '24 hours', seconds: 24 * 3600 },
];

/** One thing a moderator can do to a person, as a menu shows it. */
export interface PersonAction {
  action: ModerationAction;
  label: string;
  /** Takes a duration (ban, mute) or how far back (purge: `window`), and a reason (kick too). */
  form: 'duration' | 'window' | 'reason' | 'confirm';
  /** Hard to undo, or removes someone: the button is marked as dangerous. */
  danger: boolean;
}

const LABELS: Record<ModerationAction, Omit<PersonAction, 'action'>> = {
  kick: { label: 'Remove from the room', form: 'reason', danger: true },
  ban: { label: 'Ban', form: 'duration', danger: true },
  unban: { label: 'Unban', form: 'confirm', danger: false },
  mute: { label: 'Mute', form: 'duration', danger: false },
  unmute: { label: 'Unmute', form: 'confirm', danger: false },
  promote: { label: 'Make moderator', form: 'confirm', danger: false },
  demote: { label: 'Remove moderator', form: 'confirm', danger: false },
  transfer: { label: 'Hand over the room', form: 'confirm', danger: true },
  purge: { label: 'Remove recent messages', form: 'window', danger: true },
};

/** How a menu names an action. */
export function actionLabel(action: ModerationAction): string {
  return LABELS[action].label;
}

/** Actions the server refuses (`not_present`) when the person is not in the room. */
const NEEDS_PRESENCE: readonly ModerationAction[] = ['kick', 'ban', 'mute', 'promote', 'transfer'];

/**
 * What the reader may do to a person, in menu order: nothing to themselves, nothing above their
 * role (see `mayModerate`), nothing that needs them present when they are not; Mute or Unmute as
 * far as the reader knows they are muted.
 */
export function personActions(
  roles: RoomRoles,
  myId: string | undefined,
  target: string,
  muted: boolean,
  present = true,
): PersonAction[] {
  if (myId === undefined || myId === target) return [];
  const mine = roleOf(roles, myId);
  const theirs = roleOf(roles, target);
  const wanted: ModerationAction[] = [
    'kick',
    'ban',
    muted ? 'unmute' : 'mute',
    'purge',
    theirs === 'moderator' ? 'demote' : 'promote',
    'transfer',
  ];
  return wanted
    .filter((action) => mayModerate(mine, action, theirs) && (present || !NEEDS_PRESENCE.includes(action)))
    .map((action) => ({ action, ...LABELS[action] }));
}

/** Whether the reader may delete someone else's message (the owner and moderators may). */
export function mayDeleteAny(role: Role): boolean {
  return role !== 'member';
}

/** A piece of a moderation line: a person's name (the view adds their tag) or plain words. */
export type LineSegment = { kind: 'name'; user: User } | { kind: 'words'; text: string };

/** What each action's line says around the person's name (a purge's also says how many: purgedWords). */
const VERBS: Record<Exclude<ModerationAction, 'purge'>, [before: string, after: string]> = {
  kick: ['removed', ''],
  ban: ['banned', ''],
  unban: ['unbanned', ''],
  mute: ['muted', ''],
  unmute: ['unmuted', ''],
  promote: ['made', ' a moderator'],
  demote: ['made', ' a member again'],
  transfer: ['handed the room over to', ''],
};

/** What a purge removed, as its line says it: "12 recent messages", "1 recent message". */
export function purgedWords(count: number | undefined): string {
  if (count === undefined) return 'recent messages'; // (a server before counts)
  if (count === 0) return 'no recent messages';
  return count === 1 ? '1 recent message' : `${count} recent messages`;
}

/**
 * A moderation line in pieces: "Olga removed Carl", "Olga banned Carl until 14:20 (spam)",
 * "Olga made Bob a moderator", "Olga handed the room over to Bob", "Olga removed 12 recent
 * messages by Carl" (a purge).
 *
 * @param formatUntil How the end of a ban or mute reads ("14:20", "3 Mar, 14:20").
 */
export function moderationSegments(frame: ModerationFrame, formatUntil: (until: number) => string): LineSegment[] {
  // The operator's purge of the whole room names no one: "Operator removed 40 messages from the room".
  if (frame.action === 'purge' && frame.user.id === EVERYONE_USER.id) {
    const count = frame.count === undefined ? 'the' : `${frame.count}`;
    return [
      { kind: 'name', user: frame.by },
      { kind: 'words', text: ` removed ${count} ${frame.count === 1 ? 'message' : 'messages'} from the room` },
    ];
  }
  const [verb, after] = frame.action === 'purge' ? [`removed ${purgedWords(frame.count)} by`, ''] : VERBS[frame.action];
  const segments: LineSegment[] = [
    { kind: 'name', user: frame.by },
    { kind: 'words', text: ` ${verb} ` },
    { kind: 'name', user: frame.user },
  ];
  let tail = after;
  if (frame.action === 'ban' || frame.action === 'mute')
    tail += frame.until === undefined ? ' until a moderator lifts it' : ` until ${formatUntil(frame.until)}`;
  if (frame.reason !== undefined && frame.reason.trim() !== '') tail += ` (${frame.reason.trim()})`;
  if (tail !== '') segments.push({ kind: 'words', text: tail });
  return segments;
}

/** The whole line as text, for screen readers and tests. */
export function moderationText(frame: ModerationFrame, formatUntil: (until: number) => string): string {
  return moderationSegments(frame, formatUntil)
    .map((s) => (s.kind === 'name' ? s.user.name : s.text))
    .join('');
}

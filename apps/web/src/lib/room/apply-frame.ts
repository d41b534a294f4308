/**
 * What a frame from the server does to one room: {@link applyFrame} takes the room's state and a
 * decoded frame and returns the new state and the effects to run, with one `case` per frame type
 * and a `never` check after them, so a frame type added to the protocol does not compile until it
 * is handled here. {@link RoomConnection} is the reactive shell around it: it owns the socket, the
 * timers and the `$state`, applies this, and runs the effects in order.
 *
 * Pure, with one deliberate exception: the log. {@link Timeline} is mutable so that a message or
 * a join costs O(1) however long the log is (copying it on every frame made a flood of joins
 * quadratic), so `applyFrame` changes `state.timeline` in place and says so (`timelineChanged`);
 * the shell then bumps the version its views follow. Everything else in {@link RoomState} is
 * immutable: a field that changes is replaced, one that does not keeps its identity, so the shell
 * can assign every field back without waking anything that did not change.
 */
import { newestInBatch } from '@parley/client';
import {
  decodeServerFrame,
  type ChangeFrame,
  type ErrorFrame,
  type HistoryPage,
  type Member,
  type MessageFrame,
  type ModerationFrame,
  type Result,
  type RoomRoles,
  type RoomSettings,
  type ServerFrame,
  type SettingsFrame,
  type User,
  type WebhookChangeFrame,
  type WebhookFrame,
  type WelcomeFrame,
} from '@parley/protocol';
import { formatTime } from '../ui/format-time.ts';
import { addMember, headcountAfter, removeMember, welcomeHeadcount, type Headcount } from './members.ts';
import {
  applyRestriction,
  applyRoleChange,
  moderationText,
  NO_REQUESTS,
  NO_ROLES,
  NONE,
  withRequest,
  type Removal,
  type Requests,
  type Restrictions,
} from './moderation.ts';
import {
  awaitingSend,
  failureText,
  markAcked,
  markFailed,
  removeAppliedChanges,
  removeDelivered,
  renewClientMsgId,
  type OutboxItem,
} from './outbox.ts';
import { sameSettings, settingsChanges, settingsOf, settingText } from './settings.ts';
import { firstUnread, type Timeline } from './timeline.ts';
import { noteTyping, stopTyping, type Typist } from './typing.ts';
import { sameEvents, webhookChange, webhookText, type WebhookEvents } from './webhook.ts';

/** A problem the server reported that concerns no particular message. */
export interface ServerProblem {
  code: string;
  message: string;
}

/** One room as the client holds it: what the views show and what the next frames need to know. */
export interface RoomState {
  /** The log; changed in place (see the module's comment). */
  readonly timeline: Timeline;
  /** The reader as the server knows them, from the latest welcome. */
  readonly me: User | null;
  readonly members: readonly Member[];
  /** How many are present (`members` may list only some of them in a big room). */
  readonly headcount: Headcount;
  readonly typists: readonly Typist[];
  /** The reader's own messages not yet in the log, oldest first. */
  readonly outbox: readonly OutboxItem[];
  /** Older messages exist on the server before the oldest one held. */
  readonly hasMore: boolean;
  readonly serverProblem: ServerProblem | null;
  /** Set while the server says it cannot reach its message bus (sending may fail meanwhile). */
  readonly degraded: string | null;
  /** Where the "new since your last visit" divider goes; fixed by the first welcome. */
  readonly dividerBefore: string | undefined;
  /** The newest message the reader has seen; later ones from others count as unread. */
  readonly readUpTo: string | null;
  /** Whether a welcome came on any connection yet: only the first one places the divider. */
  readonly welcomedOnce: boolean;
  /** The `since` the current socket asked for: a welcome without recovery then means a gap. */
  readonly askedSince: string | undefined;
  /**
   * While a recovery fetches pages: the last id held with no hole before it. A reconnect asks
   * for what follows it, not for what follows the newest (live messages came after the hole).
   */
  readonly contiguous: string | undefined;
  /** Who owns and moderates the room: the latest welcome's, kept up to date by role changes. */
  readonly roles: RoomRoles;
  /** Bans this client saw (a moderation line of a ban offers Unban while it holds). */
  readonly bans: Restrictions;
  /** Mutes this client saw, the reader's own included (from a `muted` refusal too). */
  readonly mutes: Restrictions;
  /** Set when a moderator removed or banned the reader: the room shows why, and does not reconnect. */
  readonly removed: Removal | null;
  /** The reader's moderation actions and settings changes, unanswered or answered (by clientMsgId). */
  readonly requests: Requests;
  /** The room's settings: the latest welcome's, replaced by each `settings` frame. */
  readonly settings: RoomSettings;
  /**
   * While a recovery fetches pages: the settings as of the last settings change it has shown,
   * which the next page's first change is described against (`settings` is already the newest).
   */
  readonly recoveredSettings?: RoomSettings | undefined;
  /**
   * While a recovery fetches pages: the webhook's events as of the last webhook change it has
   * shown, which the next page's first change is described against (`webhook` is already now's).
   */
  readonly recoveredWebhook?: { events: WebhookEvents } | undefined;
  /**
   * When the reader may post again (ms since the epoch, this client's clock), after a `slow_mode`
   * refusal said how long to wait; `null` when no refusal is pending.
   */
  readonly slowModeUntil: number | null;
  /** The events of the room that go to its owner's webhook (`null`: it has none): everyone is told. */
  readonly webhook: WebhookEvents;
}

export type { ModerationRequest } from './moderation.ts';

/** A room before its first welcome: an empty log, and the messages a reload left unsent. */
export function initialRoomState(timeline: Timeline, outbox: readonly OutboxItem[] = []): RoomState {
  return {
    timeline,
    me: null,
    members: [],
    headcount: { count: 0, complete: true },
    typists: [],
    outbox,
    hasMore: false,
    serverProblem: null,
    degraded: null,
    dividerBefore: undefined,
    readUpTo: null,
    welcomedOnce: false,
    askedSince: undefined,
    contiguous: undefined,
    roles: NO_ROLES,
    bans: NONE,
    mutes: NONE,
    removed: null,
    requests: NO_REQUESTS,
    settings: settingsOf(undefined),
    slowModeUntil: null,
    webhook: null,
  };
}

/** What the shell does after a frame, in the order given. */
export type RoomEffect =
  /** Keep this identity token: every welcome brings a fresh one (its expiry slides). */
  | { kind: 'save-token'; token: string }
  /** More was missed than the welcome carried: fetch the rest, page by page, after `after`. */
  | { kind: 'recover'; after: string }
  /** The socket is usable (status `connected`), and its backoff starts over. */
  | { kind: 'welcomed' }
  /** Put these outbox items on the wire, if the socket is open (they stay pending otherwise). */
  | { kind: 'transmit'; clientMsgIds: readonly string[] }
  /** A line for screen readers. */
  | { kind: 'announce'; text: string }
  /** A new message from someone else arrived (not history, not a duplicate). */
  | { kind: 'incoming'; message: MessageFrame };

/** What {@link applyFrame} returns. */
export interface FrameOutcome {
  state: RoomState;
  effects: RoomEffect[];
  /** `state.timeline` was changed in place. */
  timelineChanged: boolean;
}

/** What a frame may need besides the state; injected so that tests decide. */
export interface FrameContext {
  /** The current time (ms): how long a typing notice shows counts from it. */
  now: number;
  /** The newest message the reader saw in this room on an earlier visit; asked at the first welcome only. */
  lastSeen: () => string | null;
  /** A fresh clientMsgId (see `newClientMsgId` in outbox.ts). */
  newClientMsgId: () => string;
}

/**
 * An `error` frame whose code this build does not know: a newer server may send one. Its
 * message is still worth showing.
 */
export type UnknownErrorFrame = Omit<ErrorFrame, 'code'> & { code: string };

/** A frame {@link applyFrame} takes: any frame of the protocol, or an error it does not know. */
export type RoomFrame = ServerFrame | UnknownErrorFrame;

/**
 * Decodes a text frame from the server; an error frame with an unknown code is read all the same.
 *
 * @returns The frame, or why it is ignored.
 */
export function decodeRoomFrame(data: string): Result<RoomFrame> {
  const decoded = decodeServerFrame(data);
  if (decoded.ok) return decoded;
  const loose = looseError(data);
  return loose === null ? decoded : { ok: true, value: loose };
}

/**
 * Applies one frame to the room.
 *
 * @param state The room now; its timeline is changed in place, nothing else is.
 * @returns The room after the frame, the effects to run in order, and whether the log changed.
 */
export function applyFrame(state: RoomState, frame: RoomFrame, context: FrameContext): FrameOutcome {
  switch (frame.type) {
    case 'welcome':
      return applyWelcome(state, frame, context);
    case 'message':
      return applyMessage(state, frame);
    case 'edit':
    case 'delete':
    case 'reactions':
      return applyChangeFrame(state, frame);
    case 'join':
    case 'leave':
      state.timeline.addPresence(frame.type, frame.user, frame.ts);
      return {
        state: {
          ...state,
          headcount: headcountAfter(
            state.headcount,
            frame.type,
            state.members.some((m) => m.id === frame.user.id),
          ),
          members:
            frame.type === 'join' ? addMember(state.members, frame.user) : removeMember(state.members, frame.user.id),
          typists: frame.type === 'leave' ? stopTyping(state.typists, frame.user.id) : state.typists,
        },
        effects: [],
        timelineChanged: true,
      };
    case 'presence':
      // A big room's head count: joins and leaves are not sent one by one there, so the list
      // held is a snapshot from now on (the member list offers to load it again).
      return only({ ...state, headcount: { count: frame.count, complete: false } });
    case 'typing':
      // Another tab of the reader's own is not someone else typing.
      if (frame.user.id === state.me?.id) return only(state);
      return only({ ...state, typists: noteTyping(state.typists, frame.user, context.now) });
    case 'ack': {
      if (state.requests.has(frame.clientMsgId))
        return only({ ...state, requests: withRequest(state.requests, frame.clientMsgId, { state: 'done' }) });
      const acked = markAcked(state.outbox, frame.clientMsgId, frame.id);
      // The message itself may have arrived first: then the outbox item is done.
      const outbox =
        state.timeline.hasMessage(frame.id) && acked.some((item) => item.id === frame.id)
          ? acked.filter((item) => item.id !== frame.id)
          : acked;
      // So may a change (or something after it: the log arrives in order).
      return only({ ...state, outbox: removeAppliedChanges(outbox, state.timeline.cursor()) });
    }
    case 'moderation':
      return applyModeration(state, frame, context);
    case 'settings':
      return applySettings(state, frame);
    case 'invite': {
      // The answer to the reader's invite request: its view shows the link. An answer whose
      // view was closed meanwhile is dropped.
      if (!state.requests.has(frame.clientMsgId)) return only(state);
      const { invite, url, expiresTs } = frame;
      const answer = url === undefined ? { invite, expiresTs } : { invite, url, expiresTs };
      return only({
        ...state,
        requests: withRequest(state.requests, frame.clientMsgId, { state: 'done', invite: answer }),
      });
    }
    case 'error':
      return applyError(state, frame, context);
    case 'status':
      // The server's link to its message bus: sending may fail until it is back.
      return only({
        ...state,
        degraded: frame.degraded ? frame.message || 'The server is having trouble; messages may be delayed.' : null,
      });
    case 'webhook':
      return applyWebhook(state, frame);
    default:
      return unhandled(frame);
  }
}

function applyWelcome(state: RoomState, welcome: WelcomeFrame, context: FrameContext): FrameOutcome {
  const { timeline } = state;
  const asked = state.askedSince;
  if (asked !== undefined && !welcome.recovered) {
    // What was said after our newest message is gone from the server: say so, rather than
    // quietly joining two stretches of history. If a recovery was under way, live messages
    // newer than its hole are held too: the hole (after `asked`) gets its own marker.
    if (state.contiguous !== undefined) timeline.insertGapAfter(asked);
    timeline.appendGap();
  }
  const hasMore = timeline.oldestMessageId() === undefined ? welcome.hasMore : state.hasMore;
  timeline.appendMessages(welcome.history);
  // Changes to messages older than the history, each with its latest state: after the history.
  for (const change of welcome.changes ?? []) timeline.applyChange(change);
  // Actions missed while away: their lines, and the bans and mutes they set or lifted. The
  // welcome's `roles` are the roles now, with every role change in the list already applied.
  let { bans, mutes } = state;
  // The server says whether the reader is muted now (0: until lifted).
  const mutedUntil = welcome.you.mutedUntil;
  if (mutedUntil !== undefined) mutes = new Map(mutes).set(welcome.you.id, mutedUntil === 0 ? null : mutedUntil);
  else if (mutes.has(welcome.you.id)) mutes = new Map([...mutes].filter(([id]) => id !== welcome.you.id));
  let roles = welcome.roles ?? rolesOfYou(welcome.you);
  // Settings changed while away: a line each, each compared with the one before it. A welcome
  // without `since` (a reload, a newcomer) lists those of its history's stretch: the settings
  // before the first of them are older than anything here (the settings held are a fresh page's
  // defaults, or a stretch ago), so its line says the settings it left, not what changed.
  const before = addSettingsLines(timeline, welcome.settingsChanges, asked === undefined ? undefined : state.settings);
  // The same for the webhook's changes. A welcome without `since` lists those of its history's
  // stretch: the state before the first of them is older than anything here, so its line says
  // what the entry says the owner did.
  // (null is a state too, no webhook: only undefined means none was listed.)
  const listedWebhook = addWebhookLines(
    timeline,
    welcome.webhookChanges,
    asked === undefined ? undefined : state.webhook,
  );
  const webhookBefore = listedWebhook === undefined ? state.webhook : listedWebhook;
  for (const action of welcome.moderation ?? []) {
    timeline.addModeration(action);
    // A welcome without `since` lists the actions of its history's stretch: lines of the log
    // only. They are not news (this client was not told of them as they came), and what they set
    // may be over: a mute that ran out, a ban lifted by its end. What holds now is the welcome's
    // own (`you.mutedUntil`, `roles`).
    if (asked === undefined) continue;
    bans = applyRestriction(bans, action, 'ban', 'unban');
    mutes = applyRestriction(mutes, action, 'mute', 'unmute');
    if (welcome.roles === undefined) roles = applyRoleChange(roles, action);
  }
  // Whatever the welcome covered (changes folded into its messages too) is not asked for again.
  const covered = newestInBatch(welcome);
  if (covered !== undefined) timeline.noteLogId(covered);
  const outbox = removeAppliedChanges(
    removeDelivered(state.outbox, welcome.history, welcome.you.id),
    timeline.cursor(),
  );

  let { dividerBefore, readUpTo } = state;
  if (!state.welcomedOnce) {
    const lastSeen = context.lastSeen();
    dividerBefore = firstUnread(timeline.entries, lastSeen, welcome.you.id);
    // A first visit has no "new since": what the welcome shows counts as seen.
    readUpTo = lastSeen ?? timeline.newestMessageId() ?? null;
  }

  // More was missed than one welcome carries: the rest is fetched page by page, and until then
  // a reconnect asks from the last id without a hole before it.
  const last = covered ?? asked;
  const recoverAfter = welcome.hasNewer === true ? last : undefined;

  const effects: RoomEffect[] = [{ kind: 'save-token', token: welcome.token }];
  if (recoverAfter !== undefined) effects.push({ kind: 'recover', after: recoverAfter });
  effects.push({ kind: 'welcomed' });
  // Everything typed offline or left unanswered by the last connection goes out now, with its
  // original clientMsgId, so the server stores each once even if it got it before.
  effects.push({ kind: 'transmit', clientMsgIds: awaitingSend(outbox).map((item) => item.clientMsgId) });

  return {
    state: {
      ...state,
      welcomedOnce: true,
      me: welcome.you,
      members: welcome.members,
      headcount: welcomeHeadcount(welcome),
      // Typing notices from before the drop are stale; nobody replays them.
      typists: state.typists.length === 0 ? state.typists : [],
      hasMore,
      outbox,
      dividerBefore,
      readUpTo,
      contiguous: recoverAfter,
      roles,
      bans,
      mutes,
      // Welcomed: whatever kept the reader out is over.
      removed: null,
      // The settings now (a server before settings sends none: the defaults); the changes made
      // while the reader was away are lines (above).
      settings: welcomeSettings(state.settings, welcome),
      recoveredSettings: recoverAfter !== undefined ? before : undefined,
      recoveredWebhook: recoverAfter !== undefined ? { events: webhookBefore } : undefined,
      // Whether the room's events leave the server now (the changes made while away are lines, above).
      webhook: keptEvents(state.webhook, welcome.webhook?.events ?? null),
    },
    effects,
    timelineChanged: true,
  };
}

/** A welcome's settings; the ones held (same object) when they are the same. */
function welcomeSettings(held: RoomSettings, welcome: WelcomeFrame): RoomSettings {
  const settings = settingsOf(welcome.settings);
  return sameSettings(held, settings) ? held : settings;
}

/**
 * The owner changed the room's settings: the room takes them all, and each setting that changed
 * is a line in the log (read out, like a moderation line). A replay changes nothing.
 */
function applySettings(state: RoomState, frame: SettingsFrame): FrameOutcome {
  const settings = settingsOf(frame);
  const changes = settingsChanges(state.settings, settings);
  const fresh = state.timeline.addSettings(frame, changes);
  const outbox = removeAppliedChanges(state.outbox, state.timeline.cursor());
  if (!fresh) return only(outbox === state.outbox ? state : { ...state, outbox });
  return {
    state: {
      ...state,
      outbox,
      settings: sameSettings(state.settings, settings) ? state.settings : settings,
      // Slow mode turned off: a wait it gave is over.
      slowModeUntil: settings.slowModeSeconds === 0 ? null : state.slowModeUntil,
    },
    effects: changes.map((change) => ({ kind: 'announce', text: settingText(frame.by, change) })),
    timelineChanged: changes.length > 0,
  };
}

/** `next`, or `held` (the same object) when they name the same events. */
function keptEvents(held: WebhookEvents, next: WebhookEvents): WebhookEvents {
  return held !== null && next !== null && sameEvents(held, next) ? held : next;
}

/**
 * The room's webhook. To the owner, the answer to their request (`clientMsgId`): its dialog shows
 * it (an answer whose dialog closed is dropped). To everyone, the owner's tabs included, when the
 * owner changed it (`by`, an entry of the room's log): the room says which events leave it now,
 * with a line in the log (read out). Only that entry changes the room's state: the answer to a
 * change usually comes first, and the line compares the entry with the state before the change.
 * A replay of an entry held (a welcome brought it) changes nothing.
 */
function applyWebhook(state: RoomState, frame: WebhookFrame): FrameOutcome {
  if (frame.by === undefined) {
    if (frame.clientMsgId === undefined || !state.requests.has(frame.clientMsgId)) return only(state);
    const answer = { state: 'done', webhook: { webhook: frame.webhook } } as const;
    return only({ ...state, requests: withRequest(state.requests, frame.clientMsgId, answer) });
  }
  const after = frame.webhook?.events ?? null;
  const change = webhookChange(state.webhook, after);
  // (A server before webhook changes were logged sends no eventId: the state changes, no line.)
  const { eventId, by } = frame;
  const webhook = after === null ? null : { events: [...after] };
  if (eventId !== undefined && !state.timeline.addWebhook({ type: 'webhook', webhook, by, eventId }, change))
    return only(state);
  const events = keptEvents(state.webhook, after);
  const next = events === state.webhook ? state : { ...state, webhook: events };
  if (change === null) return only(next);
  return {
    state: next,
    effects: [{ kind: 'announce', text: webhookText(by, change) }],
    timelineChanged: eventId !== undefined,
  };
}

/** The roles a welcome without `roles` implies (a server before the list): the reader's own. */
function rolesOfYou(you: WelcomeFrame['you']): RoomRoles {
  if (you.role === 'owner') return { owner: you.id, moderators: [] };
  if (you.role === 'moderator') return { moderators: [you.id] };
  return NO_ROLES;
}

/**
 * A moderator acted: a line in the log (read out, like a message), the roles, bans and mutes it
 * changes, and, when it is about the reader and removes them, why they are out (the `kicked` or
 * `banned` error and the close follow).
 */
function applyModeration(state: RoomState, frame: ModerationFrame, context: FrameContext): FrameOutcome {
  const added = state.timeline.addModeration(frame);
  const outbox = removeAppliedChanges(state.outbox, state.timeline.cursor());
  if (!added) return only(outbox === state.outbox ? state : { ...state, outbox });
  const aboutMe = frame.user.id === state.me?.id;
  let { removed } = state;
  if (aboutMe && (frame.action === 'kick' || frame.action === 'ban')) {
    removed = { kind: frame.action === 'kick' ? 'kicked' : 'banned', by: frame.by };
    if (frame.until !== undefined) removed.until = frame.until;
    if (frame.reason !== undefined) removed.reason = frame.reason;
  }
  return {
    state: {
      ...state,
      outbox,
      roles: applyRoleChange(state.roles, frame),
      bans: applyRestriction(state.bans, frame, 'ban', 'unban'),
      mutes: applyRestriction(state.mutes, frame, 'mute', 'unmute'),
      removed,
    },
    effects: [{ kind: 'announce', text: moderationText(frame, (until) => formatTime(until, context.now).short) }],
    timelineChanged: true,
  };
}

function applyMessage(state: RoomState, message: MessageFrame): FrameOutcome {
  const added = state.timeline.appendMessages([message]).length > 0;
  let next: RoomState = {
    ...state,
    outbox: removeAppliedChanges(removeDelivered(state.outbox, [message], state.me?.id), state.timeline.cursor()),
    typists: stopTyping(state.typists, message.user.id),
  };
  // The first message posted in a room without an owner makes its author the owner; the server
  // sends no frame for it. People without an identity (reference-protocol clients, `anon_` ids,
  // named "Anonymous") cannot own a room.
  if (added && state.roles.owner === undefined && !message.user.id.startsWith('anon_'))
    next = { ...next, roles: { ...state.roles, owner: message.user.id } };
  const news = added && message.user.id !== state.me?.id;
  return {
    state: next,
    effects: news
      ? [
          {
            kind: 'announce',
            text:
              message.replyTo === undefined
                ? `${message.user.name}: ${message.text ?? ''}`
                : `${message.user.name}, replying to ${message.replyTo.user.name}: ${message.text ?? ''}`,
          },
          { kind: 'incoming', message },
        ]
      : [],
    timelineChanged: added,
  };
}

/**
 * An edit, a deletion or new reactions: the message changes in its place. Someone else's edit or
 * deletion is read out (politely, like their messages); reactions are not, they would be noise.
 */
function applyChangeFrame(state: RoomState, change: ChangeFrame): FrameOutcome {
  const changed = state.timeline.applyChange(change);
  const outbox = removeAppliedChanges(state.outbox, state.timeline.cursor());
  const next = outbox === state.outbox ? state : { ...state, outbox };
  if (changed === undefined) return only(next);
  const effects: RoomEffect[] = [];
  if (changed.user.id !== state.me?.id) {
    if (change.type === 'edit')
      effects.push({ kind: 'announce', text: `${changed.user.name} edited a message: ${change.text}` });
    else if (change.type === 'delete')
      effects.push({ kind: 'announce', text: `${changed.user.name} deleted a message` });
  }
  return { state: next, effects, timelineChanged: true };
}

function applyError(state: RoomState, frame: ErrorFrame | UnknownErrorFrame, context: FrameContext): FrameOutcome {
  // An invite-only room without a (valid) invite: the close that follows ends the connection,
  // and the room says so instead of trying again.
  if (frame.code === 'invite_required' || frame.code === 'room_full')
    return only({ ...state, removed: { kind: frame.code } });
  // Removed or banned: the close that follows ends the connection; the room says why instead.
  if (frame.code === 'kicked' || frame.code === 'banned') {
    const kind = frame.code;
    // The moderation frame before it named who and why: keep that.
    const removed: Removal = state.removed?.kind === kind ? { ...state.removed } : { kind };
    if (frame.until !== undefined) removed.until = frame.until;
    if (frame.code === 'banned' && frame.scope === 'server') removed.scope = 'server';
    return only({ ...state, removed });
  }
  // A refused moderation action: its dialog shows why.
  if (frame.clientMsgId !== undefined && state.requests.has(frame.clientMsgId))
    return only({
      ...state,
      requests: withRequest(state.requests, frame.clientMsgId, { state: 'failed', message: frame.message }),
    });
  // Muted: the composer says until when (the refused message is marked failed below).
  if (frame.code === 'muted' && state.me !== null) {
    const mutes = new Map(state.mutes).set(state.me.id, frame.until ?? null);
    state = { ...state, mutes };
  }
  // Slow mode: the composer counts down the wait (the refused message is marked failed below).
  if (frame.code === 'slow_mode' && frame.retryAfterMs !== undefined)
    state = { ...state, slowModeUntil: context.now + frame.retryAfterMs };
  const item =
    frame.clientMsgId === undefined ? undefined : state.outbox.find((i) => i.clientMsgId === frame.clientMsgId);
  if (item === undefined) return only({ ...state, serverProblem: { code: frame.code, message: frame.message } });
  let outbox = markFailed(state.outbox, item.clientMsgId, frame.message);
  // The server holds another text under this clientMsgId: a Retry must not reuse it.
  if (frame.code === 'client_msg_id_reused')
    outbox = renewClientMsgId(outbox, item.clientMsgId, context.newClientMsgId());
  return {
    state: { ...state, outbox },
    effects: [{ kind: 'announce', text: `${failureText(item)}: ${frame.message}` }],
    timelineChanged: false,
  };
}

/**
 * Applies a page of a recovery (`recoverAfter` of @parley/client): its messages go in their place among the live
 * ones, and a reconnect now asks from `cursor`.
 *
 * @param after The id the page was asked after: when the page says `recovered: false`, what
 *   followed it is gone, and a gap marker goes right after it.
 * @param cursor The last id held without a hole before it.
 * @returns The room after the page; its timeline was changed in place.
 */
export function applyRecoveryPage(state: RoomState, page: HistoryPage, after: string, cursor: string): RoomState {
  if (page.recovered === false) state.timeline.insertGapAfter(after);
  state.timeline.appendMessages(page.messages);
  for (const change of page.changes ?? []) state.timeline.applyChange(change);
  // Only their lines: the page is older than what arrived live meanwhile, so the roles, bans and
  // mutes it would set may already be out of date (the welcome's roles include its role changes).
  for (const action of page.moderation ?? []) state.timeline.addModeration(action);
  // The same for settings, described from where the welcome or the last page left them.
  const recoveredSettings = addSettingsLines(
    state.timeline,
    page.settingsChanges,
    state.recoveredSettings ?? state.settings,
  );
  const webhookBefore = state.recoveredWebhook === undefined ? state.webhook : state.recoveredWebhook.events;
  // (webhookBefore is known here, so what comes back is too.)
  const recoveredWebhook = { events: addWebhookLines(state.timeline, page.webhookChanges, webhookBefore)! };
  const covered = newestInBatch(page);
  if (covered !== undefined) state.timeline.noteLogId(covered);
  const outbox = removeAppliedChanges(
    removeDelivered(state.outbox, page.messages, state.me?.id),
    state.timeline.cursor(),
  );
  return { ...state, contiguous: cursor, outbox, recoveredSettings, recoveredWebhook };
}

/**
 * Puts a line in the log for each settings change missed (a welcome's or a recovery page's),
 * each described against the settings before it, starting from `before` (undefined: not known
 * here, see settingsChanges).
 * @returns The settings after the last of them (`before` when there are none).
 */
function addSettingsLines(
  timeline: Timeline,
  changes: readonly SettingsFrame[] | undefined,
  before: RoomSettings | undefined,
): RoomSettings | undefined {
  let current = before;
  for (const change of changes ?? []) {
    const after = settingsOf(change);
    timeline.addSettings(change, settingsChanges(current, after));
    current = after;
  }
  return current;
}

/**
 * Puts a line in the log for each change of the room's webhook a welcome or a recovery page
 * brought, each described against the webhook before it, starting from `before` (undefined:
 * not known here, see webhookChange).
 * @returns The webhook's events after the last of them (`before` when there are none).
 */
function addWebhookLines(
  timeline: Timeline,
  changes: readonly WebhookChangeFrame[] | undefined,
  before: WebhookEvents | undefined,
): WebhookEvents | undefined {
  let current = before;
  for (const frame of changes ?? []) {
    const after = frame.webhook?.events ?? null;
    timeline.addWebhook(frame, webhookChange(current, after, frame.action));
    current = after;
  }
  return current;
}

function only(state: RoomState): FrameOutcome {
  return { state, effects: [], timelineChanged: false };
}

/** Reached only if a frame type is missing above, which the compiler reports first. */
function unhandled(frame: never): never {
  throw new Error(`no handler for the frame type ${(frame as { type?: unknown }).type}`);
}

function looseError(data: string): UnknownErrorFrame | null {
  try {
    const value: unknown = JSON.parse(data);
    if (typeof value !== 'object' || value === null) return null;
    const v = value as Record<string, unknown>;
    if (v['type'] !== 'error' || typeof v['message'] !== 'string') return null;
    return {
      type: 'error',
      code: typeof v['code'] === 'string' ? v['code'] : 'unknown',
      message: v['message'],
      ...(typeof v['clientMsgId'] === 'string' ? { clientMsgId: v['clientMsgId'] } : {}),
    };
  } catch {
    return null;
  }
}

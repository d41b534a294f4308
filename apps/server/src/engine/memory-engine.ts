import {
  compareMessageIds,
  DEFAULT_ROOM_SETTINGS,
  isBotId,
  EVERYONE_USER,
  OPERATOR_USER,
  roleOf,
  type ChangeOp,
  type ModerationFrame,
  type RoomEvent,
  type SettingsFrame,
  type RoomSummary,
  type User,
  type WebhookChangeFrame,
} from '@parley/protocol';
import {
  ADDRESSES_KEPT_MS,
  ADDRESSES_PER_PERSON,
  ANONYMOUS_ID_PREFIX,
  CHANGE_COST,
  idTime,
  messageCost,
  messageWireBytes,
  type BusListener,
  type ChatEngine,
  type EngineHealth,
  type EngineOptions,
  type HistoryQuery,
  type AdmitResult,
  type HistoryResult,
  type Entered,
  type Exited,
  type MemberList,
  type MembersJson,
  type ChangeDraft,
  type MessageDraft,
  type ModerationDraft,
  type PostResult,
  type PurgeDraft,
  type PurgeResult,
  type RoomFacts,
  type SettingsDraft,
  type StoredMessage,
  type StoredRoomWebhook,
  type WebhookDraft,
  type WebhookResult,
  webhookActionOf,
} from './engine.ts';
import { sinceIsRecoverable } from './history-window.ts';
import {
  addLatestRoomEntry,
  addRoomEntry,
  applyReaction,
  ChangeCollector,
  changeFrameFor,
  changeWireBytes,
  moderationFingerprint,
  moderationUntil,
  purgeDraftOf,
  purgeFingerprint,
  settingsFingerprint,
  replyExcerpt,
  retryFingerprint,
  tombstone,
} from './message-state.ts';
import { MemoryOperatorStore, type OperatorStore } from '../operator/operator-store.ts';
import { LookCounts, memberEntry, withRole } from './member-entry.ts';
import { byActivity, RecentRooms } from './room-index.ts';
import { moderationRefusal, purgeFrom, RoomModeration, type Standing } from './room-standing.ts';

/**
 * An entry of a room's log: a message (its state is in `messages`), a change to one, or an entry
 * about the room (a moderation action, a settings change, a change of its webhook).
 */
type LogEntry =
  | { kind: 'message'; id: string; retryKey: string | undefined }
  | { kind: 'change'; id: string; retryKey: string | undefined; op: ChangeOp; target: string }
  | { kind: 'moderation'; id: string; retryKey: string | undefined; frame: ModerationFrame }
  | { kind: 'settings'; id: string; retryKey: string | undefined; frame: SettingsFrame }
  | { kind: 'webhook'; id: string; retryKey: undefined; frame: WebhookChangeFrame };

/**
 * What a clientMsgId was used for: the log id, and a hash of what was sent (to tell a retry from
 * a reuse; a hash, so that a deleted message's text is not kept here either).
 */
interface SentRecord {
  id: string;
  content: string;
}

interface MemoryRoom {
  /** Retained log entries, oldest first (a bounded buffer: the oldest is dropped past the limit). */
  log: LogEntry[];
  /** Retained messages by id, each in its latest state (replies without their excerpt). */
  messages: Map<string, StoredMessage>;
  /** The newest id ever dropped from the log, to tell whether a `since` can be recovered. */
  maxDeletedId: string | undefined;
  lastId: string | undefined;
  /** (userId, clientMsgId) → what was stored, for retries; dropped with the entry. */
  sent: Map<string, SentRecord>;
  present: Map<string, User>;
  /**
   * How each person present is listed: the JSON of their entry, without their role (memberEntry;
   * see member-entry.ts), and their arrival number. The map keeps arrival order, which member
   * pages walk, the arrival number being the cursor.
   */
  memberEntries: Map<string, { json: string; arrival: number; look: string[] }>;
  /** How many people present have each look key: a member shares one with another, or not. */
  looks: LookCounts;
  /** The arrival number of the next person to enter. */
  nextArrival: number;
  /**
   * userId → the address keys the person entered from, newest last (at most
   * ADDRESSES_PER_PERSON), which a ban bans with them; kept ADDRESSES_KEPT_MS after they leave.
   */
  addresses: Map<string, string[]>;
  /** userId → when they left, for people whose addresses are still kept, in the order they left. */
  gone: Map<string, number>;
  /** Roles, bans and mutes. */
  moderation: RoomModeration;
  /** The owner's webhook, if any (forgotten with the room). */
  webhook: StoredRoomWebhook | undefined;
  lastActivity: number;
  /** What the room's history costs, by {@link messageCost} and CHANGE_COST, plus {@link ROOM_COST}. */
  bytes: number;
}

/** What a room itself costs besides its messages (its maps and strings), in the byte budget. */
const ROOM_COST = 1024;

/**
 * The embedded engine: rooms live in this process only. Fine for one instance and for
 * development; two instances on it do not see each other.
 *
 * Bounded: a room exists only while it has messages or people present; all rooms' history
 * together stays within `historyBudgetBytes` (the rooms idle longest are forgotten first, and
 * then a client's `since` for them is answered as not recovered); the active-room index keeps
 * the `roomIndexSize` most recently active rooms.
 */
export class MemoryEngine implements ChatEngine {
  readonly kind = 'memory' as const;
  /** Nothing to batch here: one call per person. */
  readonly presenceCalls = { entered: 0, calls: 0 };
  readonly operator: OperatorStore = new MemoryOperatorStore();
  /** Every room, in order of last message (oldest first): the budget evicts from the front. */
  private readonly rooms = new Map<string, MemoryRoom>();
  private readonly occupied = new Set<string>();
  private readonly recent: RecentRooms;
  private readonly subscribed = new Set<string>();
  private storedBytes = 0;
  private listener: BusListener | undefined;
  private lastMs = 0;
  private seq = 0;
  private readonly sweeper: NodeJS.Timeout;
  private quotaDay = '';
  private readonly quotaTotals = new Map<string, number>();
  /**
   * Rooms with a webhook (MAX_ROOM_WEBHOOKS bounds them) → the address key that set it
   * (ROOM_WEBHOOKS_PER_ADDRESS: counted by going through them when a room gets a new webhook),
   * and the version of all of them.
   */
  private readonly webhookSetters = new Map<string, string>();
  private webhookVersion = 0;

  constructor(private readonly options: EngineOptions) {
    this.recent = new RecentRooms(options.roomIndexSize);
    this.sweeper = setInterval(() => this.forgetIdleRooms(), Math.min(60_000, options.roomTtlMs)).unref();
  }

  setListener(listener: BusListener): void {
    this.listener = listener;
  }

  async subscribe(room: string): Promise<void> {
    this.subscribed.add(room);
  }

  async unsubscribe(room: string): Promise<void> {
    this.subscribed.delete(room);
  }

  async post(draft: MessageDraft): Promise<PostResult> {
    const room = this.room(draft.room);
    const retryKey = draft.clientMsgId === undefined ? undefined : `${draft.user.id}\u0000${draft.clientMsgId}`;
    const content = retryFingerprint(draft);
    const earlier = retryKey === undefined ? undefined : earlierUse(room, retryKey, content);
    if (earlier !== undefined) return earlier;
    const now = Date.now();
    const kept = keptOut(room.moderation.standing(draft.user.id, draft.address, now));
    if (kept !== undefined) return kept;
    const slowed = room.moderation.postRefusal(draft.user.id, now);
    if (slowed !== undefined) return { outcome: 'refused', ...slowed };
    const answered = draft.replyTo === undefined ? undefined : room.messages.get(draft.replyTo);
    if (draft.replyTo !== undefined && (answered === undefined || answered.deleted === true))
      return { outcome: 'refused', code: 'not_found' };
    // Whoever posts first owns the room (a visit alone creates nothing).
    if (!draft.user.id.startsWith(ANONYMOUS_ID_PREFIX) && !isBotId(draft.user.id))
      room.moderation.owner ??= draft.user.id;
    room.moderation.posted(draft.user.id, now);

    const id = this.nextId();
    const ts = this.lastMs;
    const message: StoredMessage = { type: 'message', id, ts, room: draft.room, user: draft.user, text: draft.text };
    if (draft.clientMsgId !== undefined) message.clientMsgId = draft.clientMsgId;
    if (answered !== undefined) message.replyTo = { id: answered.id, user: answered.user };
    room.messages.set(id, message);
    this.append(draft.room, room, { kind: 'message', id, retryKey }, messageCost(message), content);
    this.emit(draft.room, { kind: 'message', message: this.withExcerpt(room, message) });
    return { outcome: 'stored', id };
  }

  async change(draft: ChangeDraft): Promise<PostResult> {
    const room = this.rooms.get(draft.room);
    if (room === undefined) return { outcome: 'refused', code: 'not_found' };
    const retryKey = `${draft.user.id}\u0000${draft.clientMsgId}`;
    const content = retryFingerprint(draft);
    const earlier = earlierUse(room, retryKey, content);
    if (earlier !== undefined) return earlier;
    const standing = room.moderation.standing(draft.user.id, draft.address, Date.now());
    const kept = keptOut(standing);
    if (kept !== undefined) return kept;
    const message = room.messages.get(draft.id);
    if (message === undefined || message.deleted === true) return { outcome: 'refused', code: 'not_found' };

    let changed: StoredMessage;
    switch (draft.op) {
      case 'edit': {
        if (message.user.id !== draft.user.id) return { outcome: 'refused', code: 'forbidden' };
        const window = this.options.editWindowMs;
        if (window > 0 && Date.now() - message.ts > window) return { outcome: 'refused', code: 'edit_window_closed' };
        changed = { ...message, text: draft.text ?? '' };
        break;
      }
      case 'delete': {
        // Its author's, or the owner's and moderators' (any message of their room), or the operator's (any room).
        if (message.user.id !== draft.user.id && standing.role === 'member' && draft.user.id !== OPERATOR_USER.id)
          return { outcome: 'refused', code: 'forbidden' };
        changed = tombstone(message);
        break;
      }
      case 'react':
      case 'unreact': {
        const reactions = applyReaction(message.reactions, draft.op, draft.emoji ?? '', draft.user.id, this.options);
        if (reactions === 'unchanged') return { outcome: 'duplicate', id: room.lastId ?? draft.id };
        if (typeof reactions === 'string') return { outcome: 'refused', code: reactions };
        const { reactions: _old, ...rest } = message;
        changed = reactions.length === 0 ? rest : { ...rest, reactions };
        break;
      }
    }
    const id = this.nextId();
    if (draft.op === 'edit') changed.editedTs = this.lastMs;
    room.messages.set(message.id, changed);
    this.charge(room, messageCost(changed) - messageCost(message));
    this.append(
      draft.room,
      room,
      { kind: 'change', id, retryKey, op: draft.op, target: message.id },
      CHANGE_COST,
      content,
    );
    const frame = changeFrameFor(draft.op, changed, id);
    if (frame !== undefined) this.emit(draft.room, { kind: 'change', room: draft.room, change: frame });
    return { outcome: 'stored', id };
  }

  async moderate(draft: ModerationDraft): Promise<PostResult> {
    if (draft.action === 'purge') return this.purge(purgeDraftOf(draft));
    const room = this.rooms.get(draft.room);
    if (room === undefined) return { outcome: 'refused', code: 'not_present' };
    const retryKey = `${draft.by.id}\u0000${draft.clientMsgId}`;
    const content = moderationFingerprint(draft);
    const earlier = earlierUse(room, retryKey, content);
    if (earlier !== undefined) return earlier;
    const present = room.present.get(draft.userId);
    const { moderation } = room;
    const refusal = moderationRefusal(
      moderation.roles(),
      draft.by.id,
      draft.action,
      draft.userId,
      present !== undefined,
    );
    if (refusal !== undefined) return { outcome: 'refused', code: refusal };
    // Someone absent (unban, unmute, demote) is named as the room last knew them.
    const user = present ?? this.lastKnown(room, draft.userId);
    const until = moderationUntil(draft);
    moderation.apply(draft.action, user, draft.by, until);
    // A ban also keys on the addresses the person entered from, in the same step.
    if (draft.action === 'ban')
      for (const address of room.addresses.get(draft.userId) ?? [])
        moderation.addressBans.set(address, { until, userId: draft.userId });
    moderation.sweep(Date.now());
    const id = this.nextId();
    const frame: ModerationFrame = { type: 'moderation', action: draft.action, user, by: draft.by, eventId: id };
    if (until > 0) frame.until = until;
    if (draft.reason !== undefined && draft.reason !== '') frame.reason = draft.reason;
    this.append(draft.room, room, { kind: 'moderation', id, retryKey, frame }, CHANGE_COST, content);
    this.emit(draft.room, { kind: 'moderation', room: draft.room, moderation: frame });
    return { outcome: 'stored', id };
  }

  async purge(draft: PurgeDraft): Promise<PurgeResult> {
    const room = this.rooms.get(draft.room);
    // A room without history has no owner, so nobody moderates it.
    if (room === undefined) return { outcome: 'refused', code: 'forbidden' };
    const retryKey = `${draft.by.id}\u0000${draft.clientMsgId}`;
    const content = purgeFingerprint(draft);
    const earlier = earlierUse(room, retryKey, content);
    if (earlier !== undefined) return earlier;
    const refusal = moderationRefusal(room.moderation.roles(), draft.by.id, 'purge', draft.userId, true);
    if (refusal !== undefined) return { outcome: 'refused', code: refusal };
    const everyone = draft.userId === EVERYONE_USER.id;
    const user = everyone ? EVERYONE_USER : (room.present.get(draft.userId) ?? this.lastKnown(room, draft.userId));

    // The person's messages of the window, newest first (log times never go back).
    const from = purgeFrom(Date.now(), draft.windowSeconds);
    const doomed: string[] = [];
    for (let i = room.log.length - 1; i >= 0 && doomed.length < draft.maxMessages; i--) {
      const entry = room.log[i]!;
      if (idTime(entry.id) < from) break;
      if (entry.kind !== 'message') continue;
      const message = room.messages.get(entry.id);
      if (message !== undefined && (everyone || message.user.id === draft.userId) && message.deleted !== true)
        doomed.push(entry.id);
    }
    let count = 0;
    for (const target of doomed) {
      // (In a full log, each entry appended trims the oldest: a message may have gone with it.)
      const message = room.messages.get(target);
      if (message === undefined) continue;
      const changed = tombstone(message);
      room.messages.set(target, changed);
      this.charge(room, messageCost(changed) - messageCost(message));
      const id = this.nextId();
      this.append(draft.room, room, { kind: 'change', id, retryKey: undefined, op: 'delete', target }, CHANGE_COST, '');
      this.emit(draft.room, { kind: 'change', room: draft.room, change: { type: 'delete', id: target, eventId: id } });
      count += 1;
    }
    const id = this.nextId();
    const frame: ModerationFrame = { type: 'moderation', action: 'purge', user, by: draft.by, count, eventId: id };
    if (draft.reason !== undefined && draft.reason !== '') frame.reason = draft.reason;
    this.append(draft.room, room, { kind: 'moderation', id, retryKey, frame }, CHANGE_COST, content);
    this.emit(draft.room, { kind: 'moderation', room: draft.room, moderation: frame });
    return { outcome: 'stored', id, count };
  }

  async configure(draft: SettingsDraft): Promise<PostResult> {
    const room = this.rooms.get(draft.room);
    if (room === undefined || room.moderation.owner !== draft.by.id) return { outcome: 'refused', code: 'forbidden' };
    const retryKey = `${draft.by.id}\u0000${draft.clientMsgId}`;
    const content = settingsFingerprint(draft);
    const earlier = earlierUse(room, retryKey, content);
    if (earlier !== undefined) return earlier;
    const settings = { ...room.moderation.settings, ...draft.changes };
    // Whoever is here when the room becomes invite-only stays let in (the owner needs not be),
    // counted, past ROOM_ADMITTED_MAX too: they are in already. Turning it off forgets the list,
    // which has no use then (and so frees its places: on again, whoever is here stays let in).
    if (settings.inviteOnly && !room.moderation.settings.inviteOnly)
      for (const id of room.present.keys()) if (id !== draft.by.id) room.moderation.admitted.add(id);
    if (!settings.inviteOnly && room.moderation.settings.inviteOnly) room.moderation.admitted.clear();
    room.moderation.settings = settings;
    room.moderation.sweep(Date.now());
    const id = this.nextId();
    const frame: SettingsFrame = { type: 'settings', ...settings, by: draft.by, eventId: id };
    this.append(draft.room, room, { kind: 'settings', id, retryKey, frame }, CHANGE_COST, content);
    this.emit(draft.room, { kind: 'settings', room: draft.room, settings: frame });
    return { outcome: 'stored', id };
  }

  async setWebhook(draft: WebhookDraft): Promise<WebhookResult> {
    const room = this.rooms.get(draft.room);
    if (room === undefined || room.moderation.owner !== draft.by.id) return { outcome: 'refused', code: 'forbidden' };
    const before = room.webhook;
    const { change } = draft;
    if (change.op === 'clear') {
      if (before === undefined) return { outcome: 'cleared', had: false };
      room.webhook = undefined;
      this.webhookSetters.delete(draft.room);
    } else if (change.op === 'events') {
      if (before === undefined) return { outcome: 'refused', code: 'not_found' };
      room.webhook = { ...before, events: change.events };
    } else {
      if (before === undefined && this.webhookSetters.size >= draft.max)
        return { outcome: 'refused', code: 'too_many_webhooks', bound: 'total' };
      // A new URL for a room's webhook is no new one: only a room that had none counts against
      // its setter's address.
      if (before === undefined && draft.maxPerAddress > 0 && this.setBy(draft.address) >= draft.maxPerAddress)
        return { outcome: 'refused', code: 'too_many_webhooks', bound: 'address' };
      room.webhook = change.webhook;
      this.webhookSetters.set(draft.room, draft.address);
    }
    this.webhookVersion += 1;
    // An entry of the log, like a settings change: the events and who, never the URL or secret.
    const id = this.nextId();
    const frame: WebhookChangeFrame = {
      type: 'webhook',
      webhook: room.webhook === undefined ? null : { events: [...room.webhook.events] },
      by: draft.by,
      eventId: id,
      action: webhookActionOf(change.op),
    };
    this.append(draft.room, room, { kind: 'webhook', id, retryKey: undefined, frame }, CHANGE_COST, '');
    this.emit(draft.room, { kind: 'webhook', room: draft.room, webhook: frame });
    return room.webhook === undefined
      ? { outcome: 'cleared', had: true }
      : { outcome: 'stored', webhook: room.webhook };
  }

  /** The rooms' webhooks an address key set (of at most MAX_ROOM_WEBHOOKS). */
  private setBy(address: string): number {
    let count = 0;
    for (const setter of this.webhookSetters.values()) if (setter === address) count += 1;
    return count;
  }

  async webhook(roomName: string): Promise<StoredRoomWebhook | undefined> {
    return this.rooms.get(roomName)?.webhook;
  }

  async webhooksVersion(): Promise<string> {
    return String(this.webhookVersion);
  }

  async standing(roomName: string, userId: string, address: string): Promise<Standing> {
    const room = this.rooms.get(roomName);
    if (room === undefined)
      return { roles: { moderators: [] }, role: 'member', settings: DEFAULT_ROOM_SETTINGS, admitted: false };
    const standing = room.moderation.standing(userId, address, Date.now());
    if (room.webhook !== undefined) standing.webhookEvents = [...room.webhook.events];
    return standing;
  }

  async admit(roomName: string, userId: string): Promise<AdmitResult> {
    const admitted = this.rooms.get(roomName)?.moderation.admitted;
    if (admitted === undefined || admitted.has(userId)) return { outcome: 'admitted' };
    if (admitted.size >= this.options.admittedMax) return { outcome: 'refused', code: 'room_full' };
    admitted.add(userId);
    return { outcome: 'admitted' };
  }

  async banAddress(roomName: string, address: string, until: number, userId: string): Promise<void> {
    this.rooms.get(roomName)?.moderation.addressBans.set(address, { until, userId });
  }
  async addressesOf(roomName: string, userId: string): Promise<string[]> {
    return [...(this.rooms.get(roomName)?.addresses.get(userId) ?? [])];
  }

  async history(roomName: string, query: HistoryQuery): Promise<HistoryResult> {
    const room = this.rooms.get(roomName);
    if (room === undefined)
      return {
        messages: [],
        changes: [],
        moderation: [],
        settings: [],
        webhooks: [],
        recovered: false,
        hasMore: false,
        hasNewer: false,
      };
    const from = query.since ?? query.after;
    if (from !== undefined) {
      const recoverable = sinceIsRecoverable(from, room.maxDeletedId, room.lastId, room.log[0]?.id);
      // Not recoverable (after): what follows the trimmed stretch, from the oldest kept.
      if (recoverable || query.after !== undefined)
        return this.readForward(room, recoverable ? from : undefined, recoverable, query);
    }
    return this.readBackward(room, query);
  }

  async enter(roomName: string, user: User, listLimit: number, address?: string): Promise<Entered> {
    this.presenceCalls.entered += 1;
    this.presenceCalls.calls += 1;
    const room = this.room(roomName);
    room.gone.delete(user.id);
    if (address !== undefined) {
      const kept = (room.addresses.get(user.id) ?? []).filter((known) => known !== address);
      kept.push(address);
      room.addresses.set(user.id, kept.slice(-ADDRESSES_PER_PERSON));
    }
    const known = room.memberEntries.get(user.id);
    const entry = memberEntry(user);
    room.present.set(user.id, user);
    // Someone already present (another tab, a new name) keeps their place in the order.
    room.memberEntries.set(user.id, {
      json: JSON.stringify(entry),
      arrival: known?.arrival ?? room.nextArrival++,
      look: entry.look,
    });
    if (known !== undefined) room.looks.remove(known.look);
    room.looks.add(entry.look);
    this.occupied.add(roomName);
    if (known === undefined) {
      const member = {
        ...entry,
        role: roleOf(room.moderation.roles(), user.id),
        ...(room.looks.shared(entry.look) ? { lookalike: true as const } : {}),
      };
      this.emit(roomName, { kind: 'join', room: roomName, user: member, ts: Date.now(), count: room.present.size });
    }
    return { ...this.listMembers(room, undefined, listLimit), joined: known === undefined };
  }

  async members(roomName: string, cursor: string | undefined, limit: number): Promise<MemberList> {
    const room = this.rooms.get(roomName);
    if (room === undefined) return { json: '[]' as MembersJson, listed: 0, count: 0 };
    return this.listMembers(room, cursor === undefined ? undefined : Number(cursor), limit);
  }

  /**
   * Up to `limit` people present who arrived after `after`, in arrival order, each with their
   * role as of now (see withRole). Skipping to the cursor walks the map (cheap next to
   * building the JSON); the list itself costs O(limit).
   */
  private listMembers(room: MemoryRoom, after: number | undefined, limit: number): MemberList {
    const roles = room.moderation.roles();
    const members: string[] = [];
    let lastArrival = 0;
    let more = false;
    for (const [id, { json, arrival, look }] of room.memberEntries) {
      if (after !== undefined && arrival <= after) continue;
      if (members.length === limit) {
        more = true;
        break;
      }
      members.push(withRole(json, roleOf(roles, id), room.looks.shared(look)));
      lastArrival = arrival;
    }
    return {
      json: `[${members.join(',')}]` as MembersJson,
      listed: members.length,
      count: room.present.size,
      // Someone follows: the next page starts after the last one listed.
      cursor: more ? String(lastArrival) : undefined,
    };
  }

  async exit(roomName: string, user: User): Promise<Exited> {
    const room = this.rooms.get(roomName);
    if (room === undefined) return { left: false, count: 0 };
    if (!room.present.delete(user.id)) return { left: false, count: room.present.size };
    const entry = room.memberEntries.get(user.id);
    if (entry !== undefined) room.looks.remove(entry.look);
    room.memberEntries.delete(user.id);
    this.keepAddressesOf(room, user.id, Date.now());
    this.emit(roomName, { kind: 'leave', room: roomName, user, ts: Date.now(), count: room.present.size });
    if (room.present.size === 0) {
      this.occupied.delete(roomName);
      // A visit alone leaves nothing behind.
      if (room.lastId === undefined) this.forget(roomName, room);
    }
    return { left: true, count: room.present.size };
  }

  /** Keeps a person's addresses ADDRESSES_KEPT_MS after they left, and forgets those of people gone longer. */
  private keepAddressesOf(room: MemoryRoom, userId: string, now: number): void {
    room.gone.delete(userId);
    if (room.addresses.has(userId)) room.gone.set(userId, now);
    for (const [id, at] of room.gone) {
      if (now - at < ADDRESSES_KEPT_MS) break;
      room.gone.delete(id);
      room.addresses.delete(id);
    }
  }

  async typing(room: string, user: User): Promise<void> {
    this.emit(room, { kind: 'typing', room, user });
  }

  async activeRooms(limit: number, options: { includeUnlisted?: boolean } = {}): Promise<RoomSummary[]> {
    const since = Date.now() - this.options.activeWindowMs;
    const summaries = new Map<string, RoomSummary>();
    const hidden = (room: MemoryRoom | undefined) =>
      room?.moderation.settings.unlisted === true && options.includeUnlisted !== true;
    for (const name of this.occupied) {
      const room = this.rooms.get(name);
      if (room !== undefined && !hidden(room))
        summaries.set(name, { room: name, members: room.present.size, lastActivity: room.lastActivity });
    }
    for (const [name, lastActivity] of this.recent.newest(limit)) {
      if (hidden(this.rooms.get(name))) continue;
      if (!summaries.has(name) && lastActivity >= since) summaries.set(name, { room: name, members: 0, lastActivity });
    }
    return [...summaries.values()].sort(byActivity).slice(0, limit);
  }

  async roomFacts(roomName: string): Promise<RoomFacts> {
    const room = this.rooms.get(roomName);
    if (room === undefined) return { messages: 0, roles: { moderators: [] }, settings: DEFAULT_ROOM_SETTINGS };
    let messages = 0;
    for (const message of room.messages.values()) if (message.deleted !== true) messages += 1;
    return { messages, roles: room.moderation.roles(), settings: room.moderation.settings };
  }

  async sharedSecret(candidate: string): Promise<string> {
    return candidate;
  }

  async addMessageCounts(day: string, counts: ReadonlyMap<string, number>): Promise<Map<string, number>> {
    if (day !== this.quotaDay) {
      this.quotaDay = day;
      this.quotaTotals.clear();
    }
    const totals = new Map<string, number>();
    for (const [key, n] of counts) {
      const total = (this.quotaTotals.get(key) ?? 0) + n;
      this.quotaTotals.set(key, total);
      totals.set(key, total);
    }
    return totals;
  }

  async health(): Promise<EngineHealth> {
    return { ok: true, detail: 'memory engine (single instance)' };
  }

  async close(): Promise<void> {
    clearInterval(this.sweeper);
    this.subscribed.clear();
  }

  /** Rooms held and the bytes their history is estimated to take (for tests and metrics). */
  get usage(): { rooms: number; bytes: number; indexed: number } {
    return { rooms: this.rooms.size, bytes: this.storedBytes, indexed: this.recent.size };
  }

  private room(name: string): MemoryRoom {
    let room = this.rooms.get(name);
    if (room === undefined) {
      room = {
        log: [],
        messages: new Map(),
        maxDeletedId: undefined,
        lastId: undefined,
        sent: new Map(),
        present: new Map(),
        memberEntries: new Map(),
        looks: new LookCounts(),
        nextArrival: 0,
        addresses: new Map(),
        gone: new Map(),
        moderation: new RoomModeration(),
        webhook: undefined,
        lastActivity: Date.now(),
        bytes: 0,
      };
      this.rooms.set(name, room);
      this.charge(room, ROOM_COST);
    }
    return room;
  }

  private charge(room: MemoryRoom, bytes: number): void {
    room.bytes += bytes;
    this.storedBytes += bytes;
  }

  /** Appends an entry to a room's log, trimming the log to its length and all rooms to the budget. */
  private append(name: string, room: MemoryRoom, entry: LogEntry, cost: number, content: string): void {
    room.log.push(entry);
    room.lastId = entry.id;
    room.lastActivity = this.lastMs;
    this.charge(room, cost);
    if (entry.retryKey !== undefined) room.sent.set(entry.retryKey, { id: entry.id, content });
    while (room.log.length > this.options.historyLength) this.dropOldest(room);
    // Most recently active last: the budget forgets from the front.
    this.rooms.delete(name);
    this.rooms.set(name, room);
    this.recent.touch(name, this.lastMs);
    this.enforceBudget(name);
  }

  /** Drops the oldest log entry; a message takes its state (edits, reactions) with it. */
  private dropOldest(room: MemoryRoom): void {
    const dropped = room.log.shift()!;
    room.maxDeletedId = dropped.id;
    if (dropped.kind === 'message') {
      const message = room.messages.get(dropped.id);
      room.messages.delete(dropped.id);
      if (message !== undefined) this.charge(room, -messageCost(message));
    } else {
      this.charge(room, -CHANGE_COST);
    }
    if (dropped.retryKey !== undefined) room.sent.delete(dropped.retryKey);
  }

  /** A message as clients see it: a reply quotes the start of its original's current text. */
  private withExcerpt(room: MemoryRoom, message: StoredMessage): StoredMessage {
    if (message.replyTo === undefined) return message;
    const excerpt = replyExcerpt(room.messages.get(message.replyTo.id)?.text);
    const replyTo = { id: message.replyTo.id, user: message.replyTo.user };
    return { ...message, replyTo: excerpt === undefined ? replyTo : { ...replyTo, excerpt } };
  }

  /**
   * The entries after `from` (all retained ones when undefined), oldest first: messages in
   * their latest state, and the changes to messages older than `from`. Bounded like every page.
   */
  private readForward(
    room: MemoryRoom,
    from: string | undefined,
    recovered: boolean,
    query: HistoryQuery,
  ): HistoryResult {
    const { log } = room;
    let start = 0;
    if (from !== undefined) while (start < log.length && compareMessageIds(log[start]!.id, from) <= 0) start += 1;
    const messages: StoredMessage[] = [];
    const changes = new ChangeCollector();
    const lists = {
      moderation: [] as ModerationFrame[],
      settings: [] as SettingsFrame[],
      webhooks: [] as WebhookChangeFrame[],
    };
    let bytes = 0;
    let i = start;
    for (; i < log.length; i++) {
      const entry = log[i]!;
      if (entry.kind === 'message') {
        const message = this.withExcerpt(room, room.messages.get(entry.id)!);
        const size = messageWireBytes(message);
        if (messages.length === query.limit || (i > start && bytes + size > query.maxBytes)) break;
        messages.push(message);
        bytes += size;
        continue;
      }
      if (entry.kind === 'moderation' || entry.kind === 'settings' || entry.kind === 'webhook') {
        const size = changeWireBytes(entry.frame);
        if (i > start && bytes + size > query.maxBytes) break;
        addRoomEntry(lists, entry);
        bytes += size;
        continue;
      }
      // A change to a message of this page is in the message's state already.
      if (from !== undefined && compareMessageIds(entry.target, from) > 0) continue;
      const target = room.messages.get(entry.target);
      const frame = target === undefined ? undefined : changeFrameFor(entry.op, target, entry.id);
      if (frame === undefined) continue;
      const size = changeWireBytes(frame);
      if (i > start && bytes + size > query.maxBytes) break;
      changes.add(frame);
      bytes += size;
    }
    const firstMessage = log.find((entry) => entry.kind === 'message');
    // Older messages that can still be fetched (trimmed ones cannot).
    const hasMore = firstMessage !== undefined && firstMessage.id !== messages[0]?.id;
    return {
      messages,
      changes: changes.list(),
      ...lists,
      recovered,
      hasMore,
      hasNewer: i < log.length,
      lastEventId: i > start ? log[i - 1]!.id : undefined,
    };
  }

  /**
   * The latest messages (before `before`, for scroll-back), in their latest state, oldest first;
   * for the latest page, the entries about the room in its stretch too (moderation, settings and
   * webhook changes, the newest of each kind up to its bound: see addLatestRoomEntry).
   */
  private readBackward(room: MemoryRoom, query: HistoryQuery): HistoryResult {
    const page: StoredMessage[] = [];
    const lists = {
      moderation: [] as ModerationFrame[],
      settings: [] as SettingsFrame[],
      webhooks: [] as WebhookChangeFrame[],
    };
    let bytes = 0;
    let hasMore = false;
    for (let i = room.log.length - 1; i >= 0; i--) {
      const entry = room.log[i]!;
      if (
        query.before === undefined &&
        (entry.kind === 'moderation' || entry.kind === 'settings' || entry.kind === 'webhook')
      )
        addLatestRoomEntry(lists, entry);
      if (entry.kind !== 'message') continue;
      if (query.before !== undefined && compareMessageIds(entry.id, query.before) >= 0) continue;
      const message = this.withExcerpt(room, room.messages.get(entry.id)!);
      const size = messageWireBytes(message);
      if (page.length === query.limit || (page.length > 0 && bytes + size > query.maxBytes)) {
        hasMore = true;
        break;
      }
      page.push(message);
      bytes += size;
    }
    // The latest page shows the state of every message as of the newest entry.
    const lastEventId = query.before === undefined ? room.lastId : undefined;
    return {
      messages: page.reverse(),
      changes: [],
      moderation: lists.moderation.reverse(),
      settings: lists.settings.reverse(),
      webhooks: lists.webhooks.reverse(),
      recovered: false,
      hasMore,
      hasNewer: false,
      lastEventId,
    };
  }

  /**
   * Forgets the history of the rooms idle longest until all history fits the budget again:
   * first rooms nobody is in (dropped whole), then rooms with people present (they keep
   * existing, without history). The room just written to goes last, and keeps at least its
   * newest message.
   */
  private enforceBudget(current: string): void {
    for (const occupied of [false, true]) {
      for (const [name, room] of this.rooms) {
        if (this.storedBytes <= this.options.historyBudgetBytes) return;
        if (name === current || room.present.size > 0 !== occupied || room.log.length === 0) continue;
        while (room.log.length > 0) this.dropOldest(room);
        room.sent.clear();
        if (!occupied) this.forget(name, room);
      }
    }
    const room = this.rooms.get(current);
    while (room !== undefined && this.storedBytes > this.options.historyBudgetBytes && room.log.length > 1)
      this.dropOldest(room);
  }

  private forget(name: string, room: MemoryRoom): void {
    // The webhook goes with the room's other state.
    if (this.webhookSetters.delete(name)) this.webhookVersion += 1;
    this.rooms.delete(name);
    this.recent.remove(name);
    this.storedBytes -= room.bytes;
  }

  // Ids look like Redis stream ids (`<ms>-<seq>`) and increase strictly, even if the clock steps back.
  private nextId(): string {
    const now = Date.now();
    if (now > this.lastMs) {
      this.lastMs = now;
      this.seq = 0;
    } else {
      this.seq += 1;
    }
    return `${this.lastMs}-${this.seq}`;
  }

  private emit(room: string, event: RoomEvent): void {
    // Deliver asynchronously, as Redis does, so callers never depend on synchronous delivery.
    queueMicrotask(() => {
      if (this.subscribed.has(room)) this.listener?.event(room, event);
    });
  }

  /** A person as the room last knew them (present, or the author of a retained entry), else by id alone. */
  private lastKnown(room: MemoryRoom, userId: string): User {
    for (let i = room.log.length - 1; i >= 0; i--) {
      const entry = room.log[i]!;
      if (entry.kind === 'message') {
        const user = room.messages.get(entry.id)?.user;
        if (user?.id === userId) return user;
      } else if (entry.kind === 'moderation' && entry.frame.user.id === userId) {
        return entry.frame.user;
      }
    }
    return { id: userId, name: '' };
  }

  private forgetIdleRooms(): void {
    const cutoff = Date.now() - this.options.roomTtlMs;
    for (const [name, room] of this.rooms) {
      if (room.present.size === 0 && room.lastActivity < cutoff) this.forget(name, room);
    }
  }
}

/** A post or change refused because its sender is banned or muted in the room, or undefined. */
function keptOut(standing: Standing): PostResult | undefined {
  if (standing.bannedUntil !== undefined) return { outcome: 'refused', code: 'banned', until: standing.bannedUntil };
  if (standing.mutedUntil !== undefined) return { outcome: 'refused', code: 'muted', until: standing.mutedUntil };
  return undefined;
}

/**
 * A retry of something the room stored under this (person, clientMsgId): `duplicate` with its id
 * when it carried the same content, `reused` when not; undefined when the clientMsgId is new.
 */
function earlierUse(room: MemoryRoom, retryKey: string, content: string): PostResult | undefined {
  const earlier = room.sent.get(retryKey);
  if (earlier === undefined) return undefined;
  return earlier.content === content ? { outcome: 'duplicate', id: earlier.id } : { outcome: 'reused' };
}

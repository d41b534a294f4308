import type {
  ChangeFrame,
  ChangeOp,
  MessageFrame,
  ModerationAction,
  ModerationFrame,
  RoomEvent,
  RoomRoles,
  RoomSettings,
  SettingsFrame,
  RoomSummary,
  User,
  WebhookAction,
  WebhookChangeFrame,
  WebhookEventName,
} from '@parley/protocol';
import type { OperatorStore } from '../operator/operator-store.ts';
import type { Standing } from './room-standing.ts';

/**
 * The id prefix of reference-protocol authors (one per connection, no identity): they post, but
 * never own a room (the Redis post script checks the same prefix).
 */
export const ANONYMOUS_ID_PREFIX = 'anon_';

/**
 * The addresses (address keys, limits/address-key.ts) an engine keeps per person of a room: the
 * last ones they entered from, so that a ban keys on them in the same step as on the user id,
 * whichever instance (if any) still holds a socket of theirs.
 */
export const ADDRESSES_PER_PERSON = 4;

/**
 * How long a person's addresses are kept after they left a room (an operator may ban someone
 * absent): a day, and never past the room itself (a room without a log forgets them when the
 * last person leaves, as it forgets everything else).
 */
export const ADDRESSES_KEPT_MS = 24 * 3600 * 1000;

/** A stored chat message, exactly as clients receive it (`parley.v1` message frame). */
export type StoredMessage = MessageFrame;

/**
 * People present in a room as a JSON array of members (`{id, name, tag, role, look}`; see
 * member-entry.ts), ready to be spliced into a welcome frame or a member page. Kept as text: in
 * a reconnect storm every arrival gets a list, and parsing it into objects only to serialise it
 * again made most of the storm's garbage.
 */
export type MembersJson = string & { readonly __membersJson: unique symbol };

/**
 * A bounded list of the people present, and how many they are: the welcome's (the first
 * `limit` by the order member pages walk) or a page of `ChatEngine.members`.
 */
export interface MemberList {
  /** At most the limit asked for (a Redis page: about it; see ChatEngine.members). */
  json: MembersJson;
  /** How many members `json` lists. */
  listed: number;
  /** Everyone present in the room, across instances. */
  count: number;
  /** For a page: where the next one starts, undefined on the last. */
  cursor?: string | undefined;
}

/** A person's arrival in a room: the welcome's member list, and whether it was their join (their first presence anywhere). */
export interface Entered extends MemberList {
  joined: boolean;
}

/** A person's departure from a room on one instance (see ChatEngine.exit). */
export interface Exited {
  /** Whether it was their leave (their last presence anywhere). */
  left: boolean;
  /** Everyone still present in the room, across instances, counted in the same step. */
  count: number;
}

/** What a session asks the engine to store and publish. */
export interface MessageDraft {
  room: string;
  user: User;
  text: string;
  clientMsgId?: string;
  /** The id of the message this one answers (it must be a retained message of the room). */
  replyTo?: string;
  /** The sender's address key (limits/address-key.ts), checked against the room's address bans. */
  address?: string;
}

/** What a session asks the engine to change about a message (see the protocol's ChangeRecord). */
export interface ChangeDraft {
  room: string;
  user: User;
  op: ChangeOp;
  /** The message changed. */
  id: string;
  /** The new text of an edit. */
  text?: string;
  /** The emoji of a reaction. */
  emoji?: string;
  clientMsgId: string;
  /** The sender's address key, checked against the room's address bans. */
  address?: string;
}

/** What a session asks the engine to do to a person of the room (see the protocol's moderation.ts). */
export interface ModerationDraft {
  room: string;
  /** The moderator. */
  by: User;
  action: ModerationAction;
  /** The person moderated. */
  userId: string;
  /** How long a ban or mute lasts; undefined: until lifted. */
  durationSeconds?: number;
  reason?: string;
  clientMsgId: string;
}

/**
 * A purge: the engine deletes the person's messages of the last `windowSeconds`, the newest
 * first, at most `maxMessages` (see ChatEngine.purge). A `moderate` draft with action `purge`
 * becomes one of these (message-state.ts, purgeDraftOf).
 */
export interface PurgeDraft {
  room: string;
  /** The moderator. */
  by: User;
  /** The person whose messages go. */
  userId: string;
  /** How far back: messages logged within this many seconds before now. */
  windowSeconds: number;
  /** The most messages deleted (the newest first). */
  maxMessages: number;
  reason?: string;
  clientMsgId: string;
}

/** What a session asks the engine to change about a room's settings (the owner's; only the fields given). */
export interface SettingsDraft {
  room: string;
  by: User;
  changes: Partial<RoomSettings>;
  clientMsgId: string;
}

/**
 * A room's webhook as the engines keep it, beside the room's roles and settings (and forgotten
 * with them): where its owner wants the room's events, which ones, and the secret that signs
 * them (kept as it is, like WEBHOOK_SECRET: the server signs with it). Never in the room's log,
 * whose entry of a change holds only the events and who changed them.
 */
export interface StoredRoomWebhook {
  url: string;
  events: WebhookEventName[];
  secret: string;
  /** When the URL was set (ms). */
  setAt: number;
}

/** What the owner asks of the room's webhook (integrations/room-webhooks.ts checked the URL and made the secret). */
export interface WebhookDraft {
  room: string;
  by: User;
  /** `set`: a URL with its events and a new secret; `events`: other events for the webhook there is; `clear`: none. */
  change: { op: 'set'; webhook: StoredRoomWebhook } | { op: 'events'; events: WebhookEventName[] } | { op: 'clear' };
  /** MAX_ROOM_WEBHOOKS: a `set` that would make more rooms with a webhook than this is refused. */
  max: number;
  /**
   * The address key (limits/address-key.ts: IPv6 by prefix) of the socket asking: a `set` records
   * it as the webhook's setter (a new URL records the new setter's), a `clear` forgets it.
   */
  address: string;
  /**
   * ROOM_WEBHOOKS_PER_ADDRESS: a `set` that would give the room a new webhook when its `address`
   * set this many of the rooms' webhooks there are already is refused; 0: no such bound.
   */
  maxPerAddress: number;
}

/** How the log's entry of a WebhookDraft's change names what the owner did. */
export function webhookActionOf(op: WebhookDraft['change']['op']): WebhookAction {
  return op === 'clear' ? 'removed' : op;
}

/** What became of a WebhookDraft: the webhook now, removed (`had`: there was one), or refused. */
export type WebhookResult =
  | { outcome: 'stored'; webhook: StoredRoomWebhook }
  | { outcome: 'cleared'; had: boolean }
  | {
      outcome: 'refused';
      code: 'forbidden' | 'not_found' | 'too_many_webhooks';
      /** With `too_many_webhooks`: the bound that was hit, the server's total or the address's share. */
      bound?: 'total' | 'address';
    };

/**
 * Why a post, a change or a moderation action was refused; each is an error code of the
 * protocol. `banned` and `muted` come with when they end.
 */
export type ChangeRefusal =
  | 'not_found'
  | 'forbidden'
  | 'edit_window_closed'
  | 'too_many_reactions'
  | 'banned'
  | 'muted'
  | 'not_present'
  | 'slow_mode'
  | 'read_only'
  // The room hub's, never an engine's: the before-publish hook refused the text (with its
  // reason), or could not be asked and the operator posts nothing unchecked.
  | 'rejected'
  | 'unavailable';

/**
 * The outcome of a post or a change: stored under a new log id; a retry of one already stored
 * (the same clientMsgId and content: its first id; a change that changes nothing: the newest
 * id of the log); a clientMsgId already used for different content (nothing stored); or
 * refused (nothing stored).
 */
export type PostResult =
  | { outcome: 'stored' | 'duplicate'; id: string }
  | { outcome: 'reused' }
  | {
      outcome: 'refused';
      code: ChangeRefusal;
      until?: number | undefined;
      retryAfterMs?: number | undefined;
      /** For the sender, when the refusal comes with its own words (`rejected`: the hook's reason). */
      reason?: string | undefined;
    };

/** The outcome of a purge: a moderation action's, and for a stored one how many messages it deleted. */
export type PurgeResult = PostResult & { count?: number };

/** Where the day's message counts of every address are added up (one place for all instances; see limits/daily-quota.ts). */
export interface QuotaStore {
  /**
   * Adds this instance's new counts to the day's totals and returns the totals of those addresses.
   *
   * @param day The UTC day, e.g. `2026-11-30`.
   * @param counts Address key → messages posted through this instance since the last call.
   */
  addMessageCounts(day: string, counts: ReadonlyMap<string, number>): Promise<Map<string, number>>;
}

/** What the engine tells the room hub. */
export interface BusListener {
  /**
   * An event of a room this instance is subscribed to (the kinds are the protocol's catalogue
   * of room events). Every instance, the sender's included, receives each event from the bus
   * and delivers it to its local sockets, so all clients see one order.
   *
   * @param seq For a message on the Redis engine: the room's message count, so that a jump
   *   reveals a message pub/sub lost.
   */
  event(room: string, event: RoomEvent, seq?: number): void;
  /** The bus became unreachable (false) or reachable again (true). */
  availability(up: boolean): void;
  /**
   * A person whose presence expired (their instance died, or a deploy let it expire and they did
   * not come back), dropped by a presence call of this instance, the only one to report it;
   * `count`: people present after it (0: the room is vacated). Redis engine only.
   */
  expired?(room: string, user: User, count: number): void;
  /**
   * The subscriptions were restored after a reconnect. Pub/sub delivers at most once, so
   * messages published meanwhile are missing and must be read back from the log.
   */
  resubscribed(): void;
}

/**
 * Which part of a room's history to read: the latest page (none of since/after/before), the
 * page before an id (scroll-back), or the messages after an id, oldest first (`since`: a
 * reconnect's recovery; `after`: the next page of one). Every page holds at most `limit`
 * messages and about `maxBytes` bytes of them (never less than one message).
 */
export interface HistoryQuery {
  /** Messages after this id, for a reconnect; when they are no longer all retained, the latest page instead. */
  since?: string;
  /** Messages after this id; when they are no longer all retained, the oldest retained ones. */
  after?: string;
  /** Messages before this id (scroll-back). */
  before?: string;
  limit: number;
  maxBytes: number;
}

/**
 * Messages oldest first. `recovered`: a since/after page starts right after its id (nothing
 * trimmed in between). `hasMore`: older messages exist before the first one. `hasNewer`: a
 * since/after page stopped at `limit` or `maxBytes` and newer messages follow.
 */
export interface HistoryResult {
  messages: StoredMessage[];
  /**
   * since/after pages: changes in the page's stretch of the log to messages older than the
   * page, oldest first, each with its message's latest state (the page's own messages already
   * show theirs). Empty for other pages.
   */
  changes: ChangeFrame[];
  /**
   * The moderation actions in the page's stretch of the log, oldest first: since/after pages, and
   * the latest page (those since its oldest message, at most the newest LATEST_PAGE_MODERATION: a
   * welcome without `since` lists them, so that the moderation log reads the same after a
   * reload). Empty for scroll-back pages.
   */
  moderation: ModerationFrame[];
  /**
   * The settings changes in the page's stretch of the log, oldest first (the hub's read-back
   * passes them on): since/after pages, and the latest page (at most the newest
   * LATEST_PAGE_SETTINGS_CHANGES, like `moderation`). Empty for scroll-back pages.
   */
  settings: SettingsFrame[];
  /**
   * The changes of the room's webhook in the page's stretch of the log, oldest first: since/after
   * pages, and the latest page (those since its oldest message, at most the newest
   * LATEST_PAGE_WEBHOOK_CHANGES: a welcome without `since` lists them, so that who set up or
   * removed the webhook is known after a reload too). Empty for scroll-back pages.
   */
  webhooks: WebhookChangeFrame[];
  /**
   * since/after pages: the newest log entry the page covers (a message or a change), to read
   * the next page after; undefined when the page is empty.
   */
  lastEventId?: string | undefined;
  recovered: boolean;
  hasMore: boolean;
  hasNewer: boolean;
  /** The room's message count at the newest message returned (Redis engine), for gap checks. */
  lastSeq?: number;
}

/** Whether the engine can currently carry messages, for /readyz. */
export interface EngineHealth {
  ok: boolean;
  /** Human-readable state, e.g. "redis up (0.4 ms)" or the connection error. */
  detail: string;
}

/**
 * The message bus, log and presence behind one interface, with a memory and a Redis engine.
 * The room hub reference-counts rooms and calls subscribe/unsubscribe once per room per
 * instance, and enter/exit once per person per room per instance.
 */
export interface ChatEngine extends QuotaStore {
  readonly kind: 'memory' | 'redis';
  /** Starts delivering a room's events to the listener. Resolves once the subscription is active. */
  subscribe(room: string): Promise<void>;
  /** Stops delivering a room's events. */
  unsubscribe(room: string): Promise<void>;
  /** Registers the single listener the room hub uses. */
  setListener(listener: BusListener): void;
  /**
   * Appends a message to the room's log and publishes it, in one atomic step, so the publish
   * order is the id order. A draft whose (user, clientMsgId) was already stored is not stored
   * again: the result is `duplicate` with the first id, or `reused` when the text differs.
   * @throws EngineUnavailableError when the bus cannot take it or did not answer in time; the
   *   message may still have been stored (a resend with the same clientMsgId is safe).
   */
  post(draft: MessageDraft): Promise<PostResult>;
  /**
   * Checks and applies a change to a message (edit and delete: the author's own, an edit within
   * the edit window; a delete also the room's owner's and moderators', and the operator's;
   * reactions: at most `maxReactionEmoji` emoji and `maxReactionsPerMessage` reactions a
   * message), appends it to the log and publishes the message's new state, in one
   * atomic step. Retries are recognised by clientMsgId like posts.
   * @throws EngineUnavailableError like post.
   */
  change(draft: ChangeDraft): Promise<PostResult>;
  /**
   * Checks and applies a moderation action (roles: see the protocol's mayModerate; kick, ban,
   * mute, promote and transfer need the person present), appends it to the log and publishes
   * it, in one atomic step. Retries are recognised by clientMsgId like posts. A ban also bans
   * the addresses kept for the person (see `enter`), in the same step.
   * @throws EngineUnavailableError like post.
   */
  moderate(draft: ModerationDraft): Promise<PostResult>;
  /**
   * Deletes a person's messages of the draft's window, the newest first, at most `maxMessages`,
   * skipping those already deleted: one `delete` change entry per message (as a moderator's
   * delete of it), then one `moderation` entry (action `purge`, with the count), appended and
   * published in order in one atomic step. The moderator must be above the person (see
   * room-standing.ts, purgeFrom); the person need not be present. Retries are recognised by
   * clientMsgId like posts. `moderate` with action `purge` comes here.
   * @throws EngineUnavailableError like post.
   */
  purge(draft: PurgeDraft): Promise<PurgeResult>;
  /**
   * Changes a room's settings (its owner only: `forbidden` otherwise), appends the change to the
   * log and publishes the settings after it, in one atomic step.
   * @throws EngineUnavailableError like post.
   */
  configure(draft: SettingsDraft): Promise<PostResult>;
  /**
   * Sets, changes or removes a room's webhook (its owner only: `forbidden` otherwise; at most
   * `max` rooms with one, and `maxPerAddress` set from one address: `too_many_webhooks`, with
   * the bound hit), and when it changed, appends the change to the log and publishes it (the
   * events and who, never the URL or secret), in the same atomic step, like `configure`.
   * @throws EngineUnavailableError like post.
   */
  setWebhook(draft: WebhookDraft): Promise<WebhookResult>;
  /** A room's webhook, if it has one. */
  webhook(room: string): Promise<StoredRoomWebhook | undefined>;
  /**
   * Changes whenever a room's webhook is set, changed or removed (by any instance), so that
   * instances keeping rooms' webhooks at hand read them again only then.
   */
  webhooksVersion(): Promise<string>;
  /** A person's standing in a room: the room's roles, and any ban (by id or address) or mute on them. */
  standing(room: string, userId: string, address: string): Promise<Standing>;
  /**
   * Lets a person into an invite-only room from now on (they presented a valid invite):
   * `admitted` (also when they already were), or `room_full` when the room has let in
   * `admittedMax` people already (see EngineOptions) and they are not one of them. The count is
   * kept beside the list, never counted by reading it.
   */
  admit(room: string, userId: string): Promise<AdmitResult>;
  /**
   * Bans an address from a room until `until` (0: until the person is unbanned): called by the
   * instance of a socket whose person was just banned, for the address of that socket. The ban
   * itself already keyed on the addresses the engine kept for the person (see `enter`); this
   * adds any it did not keep (more than ADDRESSES_PER_PERSON, or a presence entered by an
   * earlier release, which kept none).
   */
  banAddress(room: string, address: string, until: number, userId: string): Promise<void>;
  /**
   * The address keys kept for a person of a room (see `enter`): those a ban of them bans. Read
   * once per instance when a ban arrives, to close the other sockets on those addresses.
   */
  addressesOf(room: string, userId: string): Promise<string[]>;
  /** Reads the room's retained history. */
  history(room: string, query: HistoryQuery): Promise<HistoryResult>;
  /**
   * Marks a person present in a room on this instance and returns how many are present (across
   * instances) and the first `listLimit` of them, by the order {@link members} walks, as the JSON
   * array the welcome carries. Publishes `join` when it is their first presence anywhere (and
   * then says `joined`). Costs O(listLimit), not O(people present).
   *
   * @param address The address key the person enters from (limits/address-key.ts): kept with
   *   their last ADDRESSES_PER_PERSON others, while they are present and ADDRESSES_KEPT_MS after,
   *   so that a ban (`moderate`) bans them in the same step.
   */
  enter(room: string, user: User, listLimit: number, address?: string): Promise<Entered>;
  /**
   * People entered, and the calls that entered them: on Redis, a room's arrivals while one of
   * its enter calls is in flight go together in the next call (metrics; the storm tests).
   */
  readonly presenceCalls: { entered: number; calls: number };
  /**
   * A page of the people present, after `cursor` (undefined: from the start), in an order
   * that lists everyone present for a whole walk exactly once. A bounded read: about `limit`
   * members (the memory engine: at most `limit`; Redis: what HSCAN returns for COUNT `limit`,
   * which may be a few more, and a whole small hash at once).
   */
  members(room: string, cursor: string | undefined, limit: number): Promise<MemberList>;
  /**
   * Ends a person's presence on this instance; publishes `leave` when it was their last (then
   * `left`), and says how many people are present after it, across instances (0: the room is empty).
   */
  exit(room: string, user: User): Promise<Exited>;
  /** Publishes a typing notice (not stored). */
  typing(room: string, user: User): Promise<void>;
  /**
   * Rooms with people present or recent messages: every occupied room first (most people
   * first), then rooms by their last message. Reads a bounded index, never every room.
   * Unlisted rooms are left out unless `includeUnlisted` (the operator's view).
   */
  activeRooms(limit: number, options?: { includeUnlisted?: boolean }): Promise<RoomSummary[]>;
  /** What the operator sees of a room beside its summary: retained messages, roles and settings. */
  roomFacts(room: string): Promise<RoomFacts>;
  /** Where the operator's features keep instance reports and instance-wide bans. */
  readonly operator: OperatorStore;
  /** A secret all instances share (for identity tokens): the stored one, or `candidate` if none yet. */
  sharedSecret(candidate: string): Promise<string>;
  health(): Promise<EngineHealth>;
  close(): Promise<void>;
}

/** A room's facts for the operator (see ChatEngine.roomFacts). */
export interface RoomFacts {
  messages: number;
  roles: RoomRoles;
  settings: RoomSettings;
}

/** The engine settings taken from the configuration. */
export interface EngineOptions {
  /** Messages kept per room. */
  historyLength: number;
  /** Memory engine: bytes of history kept across all rooms (the rooms idle longest go first). */
  historyBudgetBytes: number;
  /** Rooms with messages kept in the active-room index. */
  roomIndexSize: number;
  /** Redis engine: a command unanswered this long fails (EngineUnavailableError). */
  commandTimeoutMs: number;
  /** A room with no activity for this long is forgotten (log, presence). */
  roomTtlMs: number;
  /** A presence entry not refreshed for this long is dropped (crashed instance). */
  presenceTtlMs: number;
  /** A room counts as active in the room list this long after its last message. */
  activeWindowMs: number;
  /** How long after sending a message its author may edit it (0: always). */
  editWindowMs: number;
  /** Distinct emoji one message may carry as reactions. */
  maxReactionEmoji: number;
  /** Reactions one message may carry in all (every person's every emoji). */
  maxReactionsPerMessage: number;
  /** Redis engine: replicas that must confirm an entry (WAIT) before it is acked; 0: none. */
  waitReplicas: number;
  /** Redis engine: how long to wait for them. */
  waitTimeoutMs: number;
  /**
   * People one invite-only room lets in with an invite at most (ROOM_ADMITTED_MAX): a newcomer
   * with a valid invite past it is refused (`room_full`); whoever was let in already, the owner
   * and moderators are not. Turning invite-only off forgets the list (and its count).
   */
  admittedMax: number;
}

/** What {@link ChatEngine.admit} did. */
export type AdmitResult = { outcome: 'admitted' } | { outcome: 'refused'; code: 'room_full' };

/** The bus is unreachable; the caller should tell the client to resend later. */
export class EngineUnavailableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'EngineUnavailableError';
  }
}

/** Milliseconds part of a message id. */
export function idTime(id: string): number {
  return Number(id.slice(0, id.indexOf('-')));
}

/**
 * About how many bytes a message takes in the memory engine's heap: two bytes per character
 * (the worst case of V8's string encodings) plus the objects around it.
 */
export function messageCost(message: StoredMessage): number {
  let reactions = 0;
  for (const reaction of message.reactions ?? []) reactions += 40 + 40 * reaction.userIds.length;
  const text = message.text?.length ?? 0;
  const reply = message.replyTo === undefined ? 0 : 100 + 2 * message.replyTo.user.name.length;
  return 200 + 2 * (text + message.user.name.length + (message.clientMsgId?.length ?? 0)) + reactions + reply;
}

/**
 * The changes of the room's webhook a latest page (a welcome without `since`) lists at most, the
 * newest: the page's byte bound does not count them, and an owner can make many. Clients word
 * the first listed by its `action`.
 */
export const LATEST_PAGE_WEBHOOK_CHANGES = 20;

/**
 * The moderation actions, and the settings changes, a latest page lists at most (each kind its
 * own count, the newest), for the same reason: its byte bound counts messages only, and
 * moderators (the owner, for settings) can log many entries within their message quota. So a
 * welcome without `since` carries at most this many of each beside its history (a moderation
 * frame is at most about 1.5 KB with a 200-character reason, a settings frame about 1 KB with a
 * 200-character topic: some 50 KB in all), and the whole welcome is charged to the address's
 * history allowance (HISTORY_BYTES_PER_IP) as before. The first of each kind listed has nothing
 * before it in the welcome: clients word it without comparing it with an earlier state.
 */
export const LATEST_PAGE_MODERATION = 20;
export const LATEST_PAGE_SETTINGS_CHANGES = 20;

/** What a change entry of the log costs in the memory engine's heap (its record and index). */
export const CHANGE_COST = 150;

/** The bytes a message takes in a page on the wire: its JSON and the comma after it. */
export function messageWireBytes(message: StoredMessage): number {
  return Buffer.byteLength(JSON.stringify(message)) + 1;
}

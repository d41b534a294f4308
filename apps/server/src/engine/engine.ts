import type { MessageFrame, RoomSummary, User } from '@parley/protocol';

/** A stored chat message, exactly as clients receive it (`parley.v1` message frame). */
export type StoredMessage = MessageFrame;

/**
 * The people present in a room as a JSON array of `{id, name}`, ready to be spliced into a
 * welcome frame. Kept as text: in a reconnect storm every arrival gets the whole list, and
 * parsing it into objects only to serialise it again made most of the storm's garbage.
 */
export type MembersJson = string & { readonly __membersJson: unique symbol };

/** What a session asks the engine to store and publish. */
export interface MessageDraft {
  room: string;
  user: User;
  text: string;
  clientMsgId?: string;
}

/** The outcome of a post: the message's id, and whether it was a retry of one already stored. */
export interface PostResult {
  id: string;
  duplicate: boolean;
}

/**
 * What travels between instances on a room's channel. Every instance, the sender's included,
 * receives it from the bus and delivers it to its local sockets, so all clients see one order.
 */
export type BusEvent =
  /** `seq` counts the room's messages (Redis engine): a jump reveals a message pub/sub lost. */
  | { kind: 'message'; message: StoredMessage; seq?: number }
  | { kind: 'join' | 'leave'; room: string; user: User; ts: number }
  | { kind: 'typing'; room: string; user: User };

/** What the engine tells the room hub. */
export interface BusListener {
  /** An event of a room this instance is subscribed to. */
  event(room: string, event: BusEvent): void;
  /** The bus became unreachable (false) or reachable again (true). */
  availability(up: boolean): void;
  /**
   * The subscriptions were restored after a reconnect. Pub/sub delivers at most once, so
   * messages published meanwhile are missing and must be read back from the log.
   */
  resubscribed(): void;
}

/** Which part of a room's history to read. */
export interface HistoryQuery {
  /** Messages after this id (reconnect recovery). */
  since?: string;
  /** Messages before this id (scroll-back). */
  before?: string;
  /** Page size for latest/before pages. */
  limit: number;
}

/** Messages oldest first, whether `since` was fully recovered, and whether older ones exist. */
export interface HistoryResult {
  messages: StoredMessage[];
  recovered: boolean;
  hasMore: boolean;
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
export interface ChatEngine {
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
   * again: the result carries the first id and `duplicate: true`.
   * @throws EngineUnavailableError when the bus cannot take it; nothing was stored.
   */
  post(draft: MessageDraft): Promise<PostResult>;
  /** Reads the room's retained history. */
  history(room: string, query: HistoryQuery): Promise<HistoryResult>;
  /**
   * Marks a person present in a room on this instance and returns everyone present (across
   * instances), as the JSON array the welcome carries. Publishes `join` when it is their first
   * presence anywhere.
   */
  enter(room: string, user: User): Promise<MembersJson>;
  /** Ends a person's presence on this instance; publishes `leave` when it was their last. */
  exit(room: string, user: User): Promise<void>;
  /** Publishes a typing notice (not stored). */
  typing(room: string, user: User): Promise<void>;
  /** Rooms with people present or recent messages, most active first. */
  activeRooms(limit: number): Promise<RoomSummary[]>;
  /** A secret all instances share (for identity tokens): the stored one, or `candidate` if none yet. */
  sharedSecret(candidate: string): Promise<string>;
  health(): Promise<EngineHealth>;
  close(): Promise<void>;
}

/** The engine settings taken from the configuration. */
export interface EngineOptions {
  /** Messages kept per room. */
  historyLength: number;
  /** A room with no activity for this long is forgotten (log, presence). */
  roomTtlMs: number;
  /** A presence entry not refreshed for this long is dropped (crashed instance). */
  presenceTtlMs: number;
  /** A room counts as active in the room list this long after its last message. */
  activeWindowMs: number;
}

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

import type { RoomEvent, RoomSummary, User } from '@parley/protocol';
import {
  messageCost,
  type BusListener,
  type ChatEngine,
  type EngineHealth,
  type EngineOptions,
  type HistoryQuery,
  type HistoryResult,
  type MembersJson,
  type MessageDraft,
  type PostResult,
  type StoredMessage,
} from './engine.ts';
import { readHistory } from './history-window.ts';
import { byActivity, RecentRooms } from './room-index.ts';

interface MemoryRoom {
  /** Retained messages, oldest first (a bounded buffer: the oldest is dropped past the limit). */
  log: StoredMessage[];
  /** The newest id ever dropped from the log, to tell whether a `since` can be recovered. */
  maxDeletedId: string | undefined;
  lastId: string | undefined;
  /** (userId, clientMsgId) → the stored message, for retries; dropped with the message. */
  sent: Map<string, StoredMessage>;
  present: Map<string, User>;
  lastActivity: number;
  /** What the room's history costs, by {@link messageCost}, plus {@link ROOM_COST}. */
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
    const earlier = retryKey === undefined ? undefined : room.sent.get(retryKey);
    if (earlier !== undefined)
      return earlier.text === draft.text ? { outcome: 'duplicate', id: earlier.id } : { outcome: 'reused' };

    const id = this.nextId();
    const ts = this.lastMs;
    const message: StoredMessage = { type: 'message', id, ts, room: draft.room, user: draft.user, text: draft.text };
    if (draft.clientMsgId !== undefined) message.clientMsgId = draft.clientMsgId;
    room.log.push(message);
    room.lastId = id;
    room.lastActivity = ts;
    this.charge(room, messageCost(message));
    if (retryKey !== undefined) room.sent.set(retryKey, message);
    while (room.log.length > this.options.historyLength) this.dropOldest(room);
    // Most recently active last: the budget forgets from the front.
    this.rooms.delete(draft.room);
    this.rooms.set(draft.room, room);
    this.recent.touch(draft.room, ts);
    this.enforceBudget(draft.room);
    this.emit(draft.room, { kind: 'message', message });
    return { outcome: 'stored', id };
  }

  async history(roomName: string, query: HistoryQuery): Promise<HistoryResult> {
    const room = this.rooms.get(roomName);
    return readHistory(room?.log ?? [], room?.maxDeletedId, room?.lastId, query);
  }

  async enter(roomName: string, user: User): Promise<MembersJson> {
    const room = this.room(roomName);
    const known = room.present.has(user.id);
    room.present.set(user.id, user);
    this.occupied.add(roomName);
    if (!known) this.emit(roomName, { kind: 'join', room: roomName, user, ts: Date.now() });
    return JSON.stringify([...room.present.values()]) as MembersJson;
  }

  async exit(roomName: string, user: User): Promise<void> {
    const room = this.rooms.get(roomName);
    if (room === undefined || !room.present.delete(user.id)) return;
    this.emit(roomName, { kind: 'leave', room: roomName, user, ts: Date.now() });
    if (room.present.size === 0) {
      this.occupied.delete(roomName);
      // A visit alone leaves nothing behind.
      if (room.lastId === undefined) this.forget(roomName, room);
    }
  }

  async typing(room: string, user: User): Promise<void> {
    this.emit(room, { kind: 'typing', room, user });
  }

  async activeRooms(limit: number): Promise<RoomSummary[]> {
    const since = Date.now() - this.options.activeWindowMs;
    const summaries = new Map<string, RoomSummary>();
    for (const name of this.occupied) {
      const room = this.rooms.get(name);
      if (room !== undefined)
        summaries.set(name, { room: name, members: room.present.size, lastActivity: room.lastActivity });
    }
    for (const [name, lastActivity] of this.recent.newest(limit)) {
      if (!summaries.has(name) && lastActivity >= since) summaries.set(name, { room: name, members: 0, lastActivity });
    }
    return [...summaries.values()].sort(byActivity).slice(0, limit);
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
        maxDeletedId: undefined,
        lastId: undefined,
        sent: new Map(),
        present: new Map(),
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

  private dropOldest(room: MemoryRoom): void {
    const dropped = room.log.shift()!;
    room.maxDeletedId = dropped.id;
    this.charge(room, -messageCost(dropped));
    if (dropped.clientMsgId !== undefined) room.sent.delete(`${dropped.user.id}\u0000${dropped.clientMsgId}`);
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

  private forgetIdleRooms(): void {
    const cutoff = Date.now() - this.options.roomTtlMs;
    for (const [name, room] of this.rooms) {
      if (room.present.size === 0 && room.lastActivity < cutoff) this.forget(name, room);
    }
  }
}

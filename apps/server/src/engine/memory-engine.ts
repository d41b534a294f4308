import type { RoomSummary, User } from '@parley/protocol';
import type {
  BusEvent,
  BusListener,
  ChatEngine,
  EngineHealth,
  EngineOptions,
  HistoryQuery,
  HistoryResult,
  MembersJson,
  MessageDraft,
  PostResult,
  StoredMessage,
} from './engine.ts';
import { readHistory } from './history-window.ts';

interface MemoryRoom {
  /** Retained messages, oldest first (a bounded buffer: the oldest is dropped past the limit). */
  log: StoredMessage[];
  /** The newest id ever dropped from the log, to tell whether a `since` can be recovered. */
  maxDeletedId: string | undefined;
  lastId: string | undefined;
  /** (userId, clientMsgId) → id, for retries; dropped with the message it names. */
  sent: Map<string, string>;
  present: Map<string, User>;
  lastActivity: number;
}

/**
 * The embedded engine: rooms live in this process only. Fine for one instance and for
 * development; two instances on it do not see each other.
 */
export class MemoryEngine implements ChatEngine {
  readonly kind = 'memory' as const;
  private readonly rooms = new Map<string, MemoryRoom>();
  private readonly subscribed = new Set<string>();
  private listener: BusListener | undefined;
  private lastMs = 0;
  private seq = 0;
  private readonly sweeper: NodeJS.Timeout;

  constructor(private readonly options: EngineOptions) {
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
    if (earlier !== undefined) return { id: earlier, duplicate: true };

    const id = this.nextId();
    const message: StoredMessage = { type: 'message', id, ts: Number(id.split('-')[0]), room: draft.room, user: draft.user, text: draft.text };
    if (draft.clientMsgId !== undefined) message.clientMsgId = draft.clientMsgId;
    room.log.push(message);
    room.lastId = id;
    room.lastActivity = message.ts;
    if (retryKey !== undefined) room.sent.set(retryKey, id);
    while (room.log.length > this.options.historyLength) {
      const dropped = room.log.shift()!;
      room.maxDeletedId = dropped.id;
      if (dropped.clientMsgId !== undefined) room.sent.delete(`${dropped.user.id}\u0000${dropped.clientMsgId}`);
    }
    this.emit(draft.room, { kind: 'message', message });
    return { id, duplicate: false };
  }

  async history(roomName: string, query: HistoryQuery): Promise<HistoryResult> {
    const room = this.rooms.get(roomName);
    return readHistory(room?.log ?? [], room?.maxDeletedId, room?.lastId, query);
  }

  async enter(roomName: string, user: User): Promise<MembersJson> {
    const room = this.room(roomName);
    const known = room.present.has(user.id);
    room.present.set(user.id, user);
    room.lastActivity = Date.now();
    if (!known) this.emit(roomName, { kind: 'join', room: roomName, user, ts: Date.now() });
    return JSON.stringify([...room.present.values()]) as MembersJson;
  }

  async exit(roomName: string, user: User): Promise<void> {
    const room = this.rooms.get(roomName);
    if (room === undefined || !room.present.delete(user.id)) return;
    this.emit(roomName, { kind: 'leave', room: roomName, user, ts: Date.now() });
  }

  async typing(room: string, user: User): Promise<void> {
    this.emit(room, { kind: 'typing', room, user });
  }

  async activeRooms(limit: number): Promise<RoomSummary[]> {
    const since = Date.now() - this.options.activeWindowMs;
    return [...this.rooms.entries()]
      .filter(([, r]) => r.present.size > 0 || r.lastActivity >= since)
      .map(([room, r]) => ({ room, members: r.present.size, lastActivity: r.lastActivity }))
      .sort(byActivity)
      .slice(0, limit);
  }

  async sharedSecret(candidate: string): Promise<string> {
    return candidate;
  }

  async health(): Promise<EngineHealth> {
    return { ok: true, detail: 'memory engine (single instance)' };
  }

  async close(): Promise<void> {
    clearInterval(this.sweeper);
    this.subscribed.clear();
  }

  private room(name: string): MemoryRoom {
    let room = this.rooms.get(name);
    if (room === undefined) {
      room = { log: [], maxDeletedId: undefined, lastId: undefined, sent: new Map(), present: new Map(), lastActivity: Date.now() };
      this.rooms.set(name, room);
    }
    return room;
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

  private emit(room: string, event: BusEvent): void {
    // Deliver asynchronously, as Redis does, so callers never depend on synchronous delivery.
    queueMicrotask(() => {
      if (this.subscribed.has(room)) this.listener?.event(room, event);
    });
  }

  private forgetIdleRooms(): void {
    const cutoff = Date.now() - this.options.roomTtlMs;
    for (const [name, room] of this.rooms) {
      if (room.present.size === 0 && room.lastActivity < cutoff) this.rooms.delete(name);
    }
  }
}

/** Most members first, then most recent activity. */
export function byActivity(a: RoomSummary, b: RoomSummary): number {
  return b.members - a.members || b.lastActivity - a.lastActivity || (a.room < b.room ? -1 : 1);
}


import type { RoomSummary } from '@parley/protocol';

/** Most members first, then most recent activity. */
export function byActivity(a: RoomSummary, b: RoomSummary): number {
  return b.members - a.members || b.lastActivity - a.lastActivity || (a.room < b.room ? -1 : 1);
}

/**
 * The rooms with the most recent messages, at most `capacity` of them (the least recent is
 * dropped first): what the lobby lists besides occupied rooms, at a bounded cost however many
 * rooms exist.
 */
export class RecentRooms {
  /** Room → last activity, least recent first (re-inserted on every touch). */
  private readonly rooms = new Map<string, number>();

  constructor(private readonly capacity: number) {}

  touch(room: string, at: number): void {
    this.rooms.delete(room);
    this.rooms.set(room, at);
    if (this.rooms.size > this.capacity) this.rooms.delete(this.rooms.keys().next().value!);
  }

  remove(room: string): void {
    this.rooms.delete(room);
  }

  /** The `count` most recently active rooms, newest first. */
  newest(count: number): Array<[room: string, lastActivity: number]> {
    const all = [...this.rooms];
    return all.slice(Math.max(0, all.length - count)).reverse();
  }

  get size(): number {
    return this.rooms.size;
  }
}

import type { FastifyBaseLogger } from 'fastify';
import type { User } from '@parley/protocol';
import type { BusEvent, ChatEngine } from '../engine/engine.ts';
import { OutgoingEvent } from './outgoing-event.ts';

/** A local socket's side of a room: the hub hands it each event once. */
export interface RoomMember {
  /** The person behind the socket, if it has one (their own presence and typing are not echoed to them). */
  readonly userId: string | undefined;
  deliver(event: OutgoingEvent): void;
}

interface RoomState {
  members: Set<RoomMember>;
  subscribed: boolean;
  /** Subscribe/unsubscribe calls of one room run one after another, in this chain. */
  chain: Promise<void>;
  /** Local connections per person, so several tabs enter and leave presence once. */
  connections: Map<string, number>;
}

/**
 * Keeps the local sockets of each room: one bus subscription per room with local members
 * (subscribed when the first joins, unsubscribed when the last leaves), and one presence entry
 * per person however many tabs they have open on this instance.
 */
export class RoomHub {
  private readonly rooms = new Map<string, RoomState>();

  constructor(
    private readonly engine: ChatEngine,
    private readonly log: FastifyBaseLogger,
  ) {
    engine.setListener((room, event) => this.fanOut(room, event));
  }

  /**
   * Adds a member to a room. Resolves once the room's subscription is active, so whatever the
   * member publishes afterwards comes back to it too.
   */
  async join(room: string, member: RoomMember): Promise<void> {
    const state = this.state(room);
    state.members.add(member);
    await this.reconcile(room, state);
  }

  /** Removes a member; the room's subscription ends when it was the last one. */
  leave(room: string, member: RoomMember): void {
    const state = this.rooms.get(room);
    if (state === undefined || !state.members.delete(member)) return;
    this.reconcile(room, state).catch((err: unknown) => this.log.warn({ room, err }, 'unsubscribe failed'));
  }

  /** Marks a person present (once per instance, however many tabs) and returns everyone present. */
  async enter(room: string, user: User): Promise<User[]> {
    const state = this.state(room);
    state.connections.set(user.id, (state.connections.get(user.id) ?? 0) + 1);
    return this.engine.enter(room, user);
  }

  /** Ends one connection's presence; the person leaves when it was their last tab here. */
  exit(room: string, user: User): void {
    const state = this.rooms.get(room);
    const count = state?.connections.get(user.id);
    if (state === undefined || count === undefined) return;
    if (count > 1) {
      state.connections.set(user.id, count - 1);
      return;
    }
    state.connections.delete(user.id);
    this.engine.exit(room, user).catch((err: unknown) => this.log.warn({ room, err }, 'presence exit failed'));
  }

  /** Number of rooms with local members. */
  get roomCount(): number {
    return this.rooms.size;
  }

  /** Number of local members of a room. */
  memberCount(room: string): number {
    return this.rooms.get(room)?.members.size ?? 0;
  }

  private state(room: string): RoomState {
    let state = this.rooms.get(room);
    if (state === undefined) {
      state = { members: new Set(), subscribed: false, chain: Promise.resolve(), connections: new Map() };
      this.rooms.set(room, state);
    }
    return state;
  }

  // Brings the subscription in line with the member count. Calls are chained per room so a
  // leave-then-join never runs unsubscribe after the new subscribe.
  private reconcile(room: string, state: RoomState): Promise<void> {
    const step = state.chain.then(async () => {
      const wanted = state.members.size > 0;
      if (wanted && !state.subscribed) {
        await this.engine.subscribe(room);
        state.subscribed = true;
      } else if (!wanted && state.subscribed) {
        await this.engine.unsubscribe(room);
        state.subscribed = false;
      }
      if (state.members.size === 0 && !state.subscribed && state.connections.size === 0 && this.rooms.get(room) === state) {
        this.rooms.delete(room);
      }
    });
    // The chain goes on after a failure; the caller of this step still sees the error.
    state.chain = step.catch(() => {});
    return step;
  }

  private fanOut(room: string, event: BusEvent): void {
    const state = this.rooms.get(room);
    if (state === undefined || state.members.size === 0) return;
    const outgoing = new OutgoingEvent(event);
    // People are not told about their own arrival, departure or typing: the welcome already
    // lists them, and their other tabs do not change their presence.
    const skipUser = event.kind === 'message' ? undefined : event.user.id;
    for (const member of state.members) {
      if (skipUser !== undefined && member.userId === skipUser) continue;
      try {
        member.deliver(outgoing);
      } catch (err) {
        // One broken socket must not stop delivery to the others.
        this.log.warn({ room, err }, 'delivery to a member failed');
      }
    }
  }
}

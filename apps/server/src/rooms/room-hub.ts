import type { FastifyBaseLogger } from 'fastify';
import type { BusMessage, ChatEngine } from '../engine/engine.ts';
import { OutgoingMessage } from './outgoing-message.ts';

/** A local socket's side of a room: the hub hands it each message once. */
export interface RoomMember {
  deliver(message: OutgoingMessage): void;
}

interface RoomState {
  members: Set<RoomMember>;
  subscribed: boolean;
  /** Subscribe/unsubscribe calls of one room run one after another, in this chain. */
  chain: Promise<void>;
}

/**
 * Keeps the local sockets of each room and one bus subscription per room with local members:
 * subscribed when the first member joins, unsubscribed when the last one leaves.
 */
export class RoomHub {
  private readonly rooms = new Map<string, RoomState>();

  constructor(
    private readonly engine: ChatEngine,
    private readonly log: FastifyBaseLogger,
  ) {
    engine.setListener((room, message) => this.fanOut(room, message));
  }

  /**
   * Adds a member to a room. Resolves once the room's subscription is active, so a member
   * that publishes after this also receives its own message.
   */
  async join(room: string, member: RoomMember): Promise<void> {
    let state = this.rooms.get(room);
    if (state === undefined) {
      state = { members: new Set(), subscribed: false, chain: Promise.resolve() };
      this.rooms.set(room, state);
    }
    state.members.add(member);
    await this.reconcile(room, state);
  }

  /** Removes a member; the room's subscription ends when it was the last one. */
  leave(room: string, member: RoomMember): void {
    const state = this.rooms.get(room);
    if (state === undefined || !state.members.delete(member)) return;
    this.reconcile(room, state).catch((err: unknown) => this.log.warn({ room, err }, 'unsubscribe failed'));
  }

  /** Number of rooms with local members. */
  get roomCount(): number {
    return this.rooms.size;
  }

  /** Number of local members of a room. */
  memberCount(room: string): number {
    return this.rooms.get(room)?.members.size ?? 0;
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
      if (state.members.size === 0 && !state.subscribed && this.rooms.get(room) === state) {
        this.rooms.delete(room);
      }
    });
    // The chain goes on after a failure; the caller of this step still sees the error.
    state.chain = step.catch(() => {});
    return step;
  }

  private fanOut(room: string, message: BusMessage): void {
    const state = this.rooms.get(room);
    if (state === undefined || state.members.size === 0) return;
    const outgoing = new OutgoingMessage(message);
    for (const member of state.members) {
      try {
        member.deliver(outgoing);
      } catch (err) {
        // One broken socket must not stop delivery to the others.
        this.log.warn({ room, err }, 'delivery to a member failed');
      }
    }
  }
}

import { randomBytes } from 'node:crypto';
import type { WebSocket } from 'ws';

/**
 * How many groups the sockets are pinged in, one group per tick, so that every socket is pinged
 * once per interval but never all at once: pinging 10,000 sockets in one go is 10,000 writes in
 * one turn of the event loop (~80 ms on the benchmark machine), a pause every message in every
 * room waits behind, and 10,000 pongs arriving together after it.
 */
export const HEARTBEAT_GROUPS = 30;

/**
 * Keep-alive pings. A peer that vanished without a close (a laptop lid, a dropped NAT mapping)
 * would hold its socket, room membership and presence forever; pings find it, and keep proxies
 * from timing out idle connections.
 *
 * Each socket belongs to one of HEARTBEAT_GROUPS groups (the smallest when it connects); each
 * tick pings one group, so a socket is pinged once per interval. A socket that did not answer its
 * group's previous ping by the next one is cut. Every ping of a group carries a fresh random
 * payload and only a pong echoing it counts: a client that never reads cannot stay "alive" by
 * sending pongs unasked.
 */
export class Heartbeat {
  private readonly groups: Array<Set<WebSocket>>;
  /** The payload of each group's latest ping (a pong must echo it). */
  private readonly payloads: Buffer[];
  private readonly groupOf = new WeakMap<WebSocket, number>();
  /** Sockets that answered their group's latest ping (or joined since). */
  private readonly alive = new WeakSet<WebSocket>();
  /** The group the next tick pings. */
  private turn = 0;
  private timer: NodeJS.Timeout | undefined;
  /** One listener for every socket (`this` is the socket), not a closure per socket. */
  private readonly onPong: (this: WebSocket, data: Buffer) => void;
  private readonly onClose: (this: WebSocket) => void;

  constructor(groupCount = HEARTBEAT_GROUPS) {
    this.groups = Array.from({ length: groupCount }, () => new Set<WebSocket>());
    this.payloads = Array.from({ length: groupCount }, () => randomBytes(8));
    const { groups, payloads, groupOf, alive } = this;
    this.onPong = function (data) {
      const group = groupOf.get(this);
      if (group !== undefined && data.equals(payloads[group]!)) alive.add(this);
    };
    this.onClose = function () {
      const group = groupOf.get(this);
      if (group !== undefined) groups[group]!.delete(this);
    };
  }

  /** Starts pinging: one group every `intervalMs / groups`, so each socket once per `intervalMs`. */
  start(intervalMs: number): void {
    this.timer = setInterval(() => this.tick(), intervalMs / this.groups.length).unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** Watches a new socket: it counts as alive until its group's first ping. */
  add(socket: WebSocket): void {
    let smallest = 0;
    for (let g = 1; g < this.groups.length; g++) if (this.groups[g]!.size < this.groups[smallest]!.size) smallest = g;
    this.groups[smallest]!.add(socket);
    this.groupOf.set(socket, smallest);
    this.alive.add(socket);
    socket.on('pong', this.onPong);
    socket.on('close', this.onClose);
  }

  /** Pings the next group, cutting those of its sockets that did not answer the last ping. */
  tick(): void {
    const group = this.turn;
    this.turn = (this.turn + 1) % this.groups.length;
    const payload = randomBytes(8);
    this.payloads[group] = payload;
    for (const socket of this.groups[group]!) {
      if (!this.alive.has(socket)) {
        socket.terminate();
        continue;
      }
      this.alive.delete(socket);
      socket.ping(payload);
    }
  }

  /** Sockets in each group (for its tests). */
  groupSizes(): number[] {
    return this.groups.map((group) => group.size);
  }
}

import fp from 'fastify-plugin';
import type { Config } from '../config.ts';
import { RoomHub } from '../rooms/room-hub.ts';

declare module 'fastify' {
  interface FastifyInstance {
    /** Local sockets per room, their bus subscriptions and presence; the sessions' door to the engine. */
    roomHub: RoomHub;
  }
}

/** The room hub on top of the engine. */
export default fp<{ config: Config }>(
  async (fastify, { config }) => {
    fastify.decorate(
      'roomHub',
      new RoomHub(fastify.engine, fastify.log, fastify.stats, {
        typingMaxMembers: config.typingMaxMembers,
        presenceCountOnlyMembers: config.presenceCountOnlyMembers,
      }),
    );
  },
  { name: 'parley-room-hub', dependencies: ['parley-engine', 'parley-stats'] },
);

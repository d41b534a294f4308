import fp from 'fastify-plugin';
import { RoomHub } from '../rooms/room-hub.ts';

declare module 'fastify' {
  interface FastifyInstance {
    /** Local sockets per room, their bus subscriptions and presence; the sessions' door to the engine. */
    roomHub: RoomHub;
  }
}

/** The room hub on top of the engine. */
export default fp(
  async (fastify) => {
    fastify.decorate('roomHub', new RoomHub(fastify.engine, fastify.log, fastify.stats));
  },
  { name: 'parley-room-hub', dependencies: ['parley-engine', 'parley-stats'] },
);

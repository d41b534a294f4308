import fp from 'fastify-plugin';
import type { Config } from '../config.ts';
import { createEngine } from '../engine/create-engine.ts';
import type { ChatEngine } from '../engine/engine.ts';
import { RoomHub } from '../rooms/room-hub.ts';

declare module 'fastify' {
  interface FastifyInstance {
    /** The message bus (memory or Redis). */
    engine: ChatEngine;
    /** Local sockets per room and their bus subscriptions. */
    rooms: RoomHub;
  }
}

/** Creates the engine chosen by the configuration and the room hub on top of it. */
export default fp<{ config: Config }>(
  async (fastify, { config }) => {
    const engine = await createEngine(config, fastify.log);
    fastify.decorate('engine', engine);
    fastify.decorate('rooms', new RoomHub(engine, fastify.log));
    // Registered after @fastify/websocket, so it runs after the sockets are closed.
    fastify.addHook('onClose', async () => {
      await engine.close();
    });
  },
  { name: 'chat-engine' },
);

import fp from 'fastify-plugin';
import type { Config } from '../config.ts';
import { BeforePublishHook } from '../integrations/before-publish.ts';
import { RoomHub } from '../rooms/room-hub.ts';

declare module 'fastify' {
  interface FastifyInstance {
    /** Local sockets per room, their bus subscriptions and presence; the sessions' door to the engine. */
    roomHub: RoomHub;
  }
}

/** The room hub on top of the engine, with the operator's before-publish hook when there is one. */
export default fp<{ config: Config }>(
  async (fastify, { config }) => {
    let publishCheck: BeforePublishHook | undefined;
    if (config.beforePublishUrl !== undefined) {
      publishCheck = new BeforePublishHook(
        {
          url: config.beforePublishUrl,
          secret: config.beforePublishSecret!,
          timeoutMs: config.beforePublishTimeoutMs,
          concurrency: config.beforePublishConcurrency,
          failure: config.beforePublishFailure,
          maxTextBytes: config.maxTextBytes,
        },
        fastify.stats,
        fastify.log.child({ component: 'before-publish' }),
      );
      fastify.addHook('onClose', async () => publishCheck?.close());
    }
    fastify.decorate(
      'roomHub',
      new RoomHub(fastify.engine, fastify.log, fastify.stats, {
        typingMaxMembers: config.typingMaxMembers,
        presenceCountOnlyMembers: config.presenceCountOnlyMembers,
        publishCheck,
      }),
    );
  },
  { name: 'parley-room-hub', dependencies: ['parley-engine', 'parley-stats'] },
);

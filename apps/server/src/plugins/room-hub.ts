import fp from 'fastify-plugin';
import type { Config } from '../config.ts';
import { BeforePublishHook } from '../integrations/before-publish.ts';
import { Webhooks } from '../integrations/webhooks.ts';
import { RoomHub } from '../rooms/room-hub.ts';

declare module 'fastify' {
  interface FastifyInstance {
    /** Local sockets per room, their bus subscriptions and presence; the sessions' door to the engine. */
    roomHub: RoomHub;
  }
}

/** The room hub on top of the engine, with the operator's before-publish hook and webhooks when there are. */
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
    let webhooks: Webhooks | undefined;
    if (config.webhookUrls.length > 0) {
      webhooks = new Webhooks(
        {
          urls: config.webhookUrls,
          secret: config.webhookSecret!,
          events: config.webhookEvents,
          timeoutMs: config.webhookTimeoutMs,
          maxAttempts: config.webhookMaxAttempts,
          retryBaseMs: config.webhookRetryBaseMs,
          queueMax: config.webhookQueueMax,
          concurrency: config.webhookConcurrency,
          maxBodyBytes: config.webhookMaxBodyBytes,
          allowPrivate: config.webhookAllowPrivate,
        },
        fastify.stats,
        fastify.log.child({ component: 'webhooks' }),
      );
      fastify.addHook('onClose', async () => webhooks?.close());
    }
    fastify.decorate(
      'roomHub',
      new RoomHub(fastify.engine, fastify.log, fastify.stats, {
        typingMaxMembers: config.typingMaxMembers,
        presenceCountOnlyMembers: config.presenceCountOnlyMembers,
        publishCheck,
        activity: webhooks,
      }),
    );
  },
  { name: 'parley-room-hub', dependencies: ['parley-engine', 'parley-stats'] },
);

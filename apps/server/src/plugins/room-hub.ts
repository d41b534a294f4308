import fp from 'fastify-plugin';
import type { Config } from '../config.ts';
import { BeforePublishHook } from '../integrations/before-publish.ts';
import { BotMentions } from '../integrations/bot-mentions.ts';
import { Webhooks } from '../integrations/webhooks.ts';
import { RoomHub, type RoomActivity } from '../rooms/room-hub.ts';

declare module 'fastify' {
  interface FastifyInstance {
    /** Local sockets per room, their bus subscriptions and presence; the sessions' door to the engine. */
    roomHub: RoomHub;
    /** The operator's webhooks (WEBHOOK_URLS), if any. */
    webhooks: Webhooks | undefined;
    /** Mentions of bots with a webhook URL, delivered to it (their answers posted by the operator plugin's BotPoster). */
    botMentions: BotMentions;
  }
}

/**
 * The room hub on top of the engine, with the operator's before-publish hook and webhooks when
 * there are, and the bots' mentions.
 */
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
    const delivery = {
      timeoutMs: config.webhookTimeoutMs,
      maxAttempts: config.webhookMaxAttempts,
      retryBaseMs: config.webhookRetryBaseMs,
      queueMax: config.webhookQueueMax,
      concurrency: config.webhookConcurrency,
      maxBodyBytes: config.webhookMaxBodyBytes,
      allowPrivate: config.webhookAllowPrivate,
    };
    let webhooks: Webhooks | undefined;
    if (config.webhookUrls.length > 0) {
      webhooks = new Webhooks(
        { ...delivery, urls: config.webhookUrls, secret: config.webhookSecret!, events: config.webhookEvents },
        fastify.stats,
        fastify.log.child({ component: 'webhooks' }),
      );
      fastify.addHook('onClose', async () => webhooks?.close());
    }
    // Always there: bots get webhook URLs while the server runs (the operator's API).
    const botMentions = new BotMentions(
      { ...delivery, maxTextBytes: config.maxTextBytes },
      fastify.engine.operator,
      fastify.stats,
      fastify.log.child({ component: 'bot-mentions' }),
    );
    fastify.addHook('onClose', async () => botMentions.close());
    const activities: RoomActivity[] = webhooks === undefined ? [botMentions] : [webhooks, botMentions];
    fastify.decorate('webhooks', webhooks);
    fastify.decorate('botMentions', botMentions);
    fastify.decorate(
      'roomHub',
      new RoomHub(fastify.engine, fastify.log, fastify.stats, {
        typingMaxMembers: config.typingMaxMembers,
        presenceCountOnlyMembers: config.presenceCountOnlyMembers,
        publishCheck,
        activities,
      }),
    );
  },
  { name: 'parley-room-hub', dependencies: ['parley-engine', 'parley-stats'] },
);

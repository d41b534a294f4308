import fp from 'fastify-plugin';
import type { Config } from '../config.ts';
import { BeforePublishHook } from '../integrations/before-publish.ts';
import { BotMentions } from '../integrations/bot-mentions.ts';
import { RoomWebhooks } from '../integrations/room-webhooks.ts';
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
    /** Rooms' webhooks, set by their owners (none with MAX_ROOM_WEBHOOKS=0). */
    roomWebhooks: RoomWebhooks | undefined;
  }
}

/**
 * The room hub on top of the engine, with the operator's before-publish hook and webhooks when
 * there are, the bots' mentions, and rooms' webhooks (unless MAX_ROOM_WEBHOOKS=0).
 */

/** Of SHUTDOWN_TIMEOUT_MS, what the webhooks' drain leaves for the rest of the shutdown. */
const WEBHOOK_DRAIN_MARGIN_MS = 2000;
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
    }
    // Always there: bots get webhook URLs while the server runs (the operator's API).
    const botMentions = new BotMentions(
      { ...delivery, maxTextBytes: config.maxTextBytes, queuePerAddress: config.botMentionQueuePerAddress },
      fastify.engine.operator,
      fastify.stats,
      fastify.log.child({ component: 'bot-mentions' }),
    );
    let roomWebhooks: RoomWebhooks | undefined;
    if (config.maxRoomWebhooks > 0) {
      // A queue of their own, so rooms cannot starve the operator's webhooks, with the operator's
      // bounds but not the operator's allowance: rooms' owners are anyone.
      roomWebhooks = new RoomWebhooks(
        {
          ...delivery,
          allowPrivate: config.roomWebhookAllowPrivate,
          maxRoomWebhooks: config.maxRoomWebhooks,
          perAddress: config.roomWebhooksPerAddress,
          queuePerRoom: config.roomWebhookQueuePerRoom,
        },
        fastify.engine,
        fastify.stats,
        fastify.log.child({ component: 'room-webhooks' }),
      );
    }
    // On shutdown, the deliveries queued or in flight get their attempt, in what the shutdown
    // leaves after the sockets' drain (a second or two kept for the rest), all queues at once.
    const webhookDrainMs = Math.min(
      config.webhookTimeoutMs,
      Math.max(0, config.shutdownTimeoutMs - config.drainMs - WEBHOOK_DRAIN_MARGIN_MS),
    );
    fastify.addHook('onClose', async () => {
      await Promise.all([
        webhooks?.close(webhookDrainMs),
        botMentions.close(webhookDrainMs),
        roomWebhooks?.close(webhookDrainMs),
      ]);
    });
    const activities: RoomActivity[] = [
      ...(webhooks === undefined ? [] : [webhooks]),
      botMentions,
      ...(roomWebhooks === undefined ? [] : [roomWebhooks]),
    ];
    fastify.decorate('webhooks', webhooks);
    fastify.decorate('botMentions', botMentions);
    fastify.decorate('roomWebhooks', roomWebhooks);
    fastify.decorate(
      'roomHub',
      new RoomHub(fastify.engine, fastify.log, fastify.stats, {
        typingMaxMembers: config.typingMaxMembers,
        presenceCountOnlyMembers: config.presenceCountOnlyMembers,
        publishCheck,
        activities,
        roomWebhooks,
      }),
    );
  },
  { name: 'parley-room-hub', dependencies: ['parley-engine', 'parley-stats'] },
);

import { randomBytes } from 'node:crypto';
import fp from 'fastify-plugin';
import type { Config } from '../config.ts';
import { createEngine } from '../engine/create-engine.ts';
import type { ChatEngine } from '../engine/engine.ts';
import { IdentityTokens } from '../identity/identity-tokens.ts';
import { ClientLimits } from '../limits/client-limits.ts';
import { Stats } from '../observability/stats.ts';
import { RoomHub } from '../rooms/room-hub.ts';

declare module 'fastify' {
  interface FastifyInstance {
    /** The message bus, log and presence (memory or Redis). */
    engine: ChatEngine;
    /** Local sockets per room, their bus subscriptions and presence. */
    rooms: RoomHub;
    /** Issues and checks the tokens that keep a browser the same person. */
    identity: IdentityTokens;
    /** Connection caps and per-address message rates. */
    limits: ClientLimits;
    /** Counters for /metrics. */
    stats: Stats;
  }
}

/** Creates the engine chosen by the configuration, the room hub on top of it, and identities. */
export default fp<{ config: Config }>(
  async (fastify, { config }) => {
    const engine = await createEngine(config, fastify.log);
    const stats = new Stats();
    const limits = new ClientLimits(config, engine, (err) => fastify.log.warn({ err }, 'daily quota sync failed'));
    fastify.decorate('engine', engine);
    fastify.decorate('stats', stats);
    fastify.decorate('limits', limits);
    fastify.decorate('rooms', new RoomHub(engine, fastify.log, stats));
    // Every instance must sign with the same secret: the configured one, or one shared in Redis.
    const { identitySecret, identitySecretPrevious } = config;
    fastify.decorate(
      'identity',
      new IdentityTokens(
        async () =>
          identitySecret !== undefined
            ? { current: identitySecret, previous: identitySecretPrevious }
            : { current: await engine.sharedSecret(randomBytes(32).toString('base64url')) },
        config.identityTokenTtlSeconds * 1000,
      ),
    );
    // Registered after @fastify/websocket, so it runs after the sockets are closed.
    fastify.addHook('onClose', async () => {
      limits.close();
      await engine.close();
    });
  },
  { name: 'chat-engine' },
);

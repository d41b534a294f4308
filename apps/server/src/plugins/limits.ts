import fp from 'fastify-plugin';
import type { Config } from '../config.ts';
import { ClientLimits } from '../limits/client-limits.ts';

declare module 'fastify' {
  interface FastifyInstance {
    /** Per-address and total limits: connections, rates, the daily quota. */
    limits: ClientLimits;
  }
}

/** The client limits; the daily quota adds its counts up through the engine. */
export default fp<{ config: Config }>(
  async (fastify, { config }) => {
    const limits = new ClientLimits(config, fastify.engine, (err) =>
      fastify.log.warn({ err }, 'daily quota sync failed'),
    );
    fastify.decorate('limits', limits);
    fastify.addHook('onClose', async () => limits.close());
  },
  { name: 'parley-limits', dependencies: ['parley-engine'] },
);

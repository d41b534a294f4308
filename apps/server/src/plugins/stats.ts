import fp from 'fastify-plugin';
import { Stats } from '../observability/stats.ts';

declare module 'fastify' {
  interface FastifyInstance {
    /** Counters for /metrics, bumped on hot paths as plain numbers. */
    stats: Stats;
  }
}

/** The app's counters. */
export default fp(
  async (fastify) => {
    fastify.decorate('stats', new Stats());
  },
  { name: 'parley-stats' },
);

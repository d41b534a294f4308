import { hostname } from 'node:os';
import fp from 'fastify-plugin';
import type { Config } from '../config.ts';
import type { InstanceReport } from '@parley/protocol';
import { BAN_REFRESH_MS, ServerBans } from '../operator/server-bans.ts';

declare module 'fastify' {
  interface FastifyInstance {
    /** This instance's copy of the instance-wide bans (checked at set-up and on every frame). */
    serverBans: ServerBans;
    /** This instance's report for the operator: connections and rooms, now. */
    instanceReport(): InstanceReport;
  }
}

/** How often each instance tells the others (and the admin page) how many connections it holds. */
export const INSTANCE_REPORT_MS = 5000;

/**
 * The operator's shared state on this instance: the instance-wide bans, re-read whenever they
 * change (and the sockets a new ban matches closed), and this instance's report. Runs with or
 * without ADMIN_TOKEN: a ban made through another instance holds here too.
 */
export default fp<{ config: Config }>(
  async (fastify, { config }) => {
    const { engine, roomHub, stats } = fastify;
    const id = `${hostname()}-${process.pid}-${Math.random().toString(36).slice(2, 6)}`;
    const startedAt = Date.now();
    fastify.decorate('instanceReport', (): InstanceReport => {
      return {
        id,
        connections: { v1: stats.open['parley.v1'], reference: stats.open.reference },
        rooms: roomHub.roomCount,
        startedAt,
        reportedAt: Date.now(),
      };
    });

    const bans = new ServerBans(engine.operator, config.maxInstanceBans, () => {
      for (const member of roomHub.allMembers()) member.enforceServerBan?.();
    });
    fastify.decorate('serverBans', bans);

    const refresh = () =>
      bans.refresh().catch((err: unknown) => fastify.log.warn({ err }, 'could not read the instance-wide bans'));
    const report = () =>
      engine.operator
        .reportInstance(fastify.instanceReport())
        .catch((err: unknown) => fastify.log.warn({ err }, 'could not report this instance'));
    const banTimer = setInterval(refresh, BAN_REFRESH_MS).unref();
    const reportTimer = setInterval(report, INSTANCE_REPORT_MS).unref();
    fastify.addHook('onReady', async () => {
      await Promise.all([refresh(), report()]);
    });
    // Before the engine's connections close (they close in onClose).
    fastify.addHook('preClose', async () => {
      clearInterval(banTimer);
      clearInterval(reportTimer);
    });
  },
  { name: 'parley-operator', dependencies: ['parley-engine', 'parley-room-hub', 'parley-stats'] },
);

import { hostname } from 'node:os';
import fp from 'fastify-plugin';
import type { Config } from '../config.ts';
import type { InstanceReport } from '@parley/protocol';
import type { DeliveryReport } from '../operator/operator-store.ts';
import { BotPoster } from '../sessions/bot-poster.ts';
import { BAN_REFRESH_MS, ServerBans } from '../operator/server-bans.ts';

declare module 'fastify' {
  interface FastifyInstance {
    /** This instance's copy of the instance-wide bans (checked at set-up and on every frame). */
    serverBans: ServerBans;
    /** This instance's report for the operator: connections and rooms, now. */
    instanceReport(): InstanceReport;
    /** This instance's deliveries to the webhooks and the bots' webhook URLs, now. */
    deliveryReport(): DeliveryReport;
    /** The one path of every bot's post (the bot API's, and the answers to mentions). */
    botPoster: BotPoster;
  }
}

/** How often each instance tells the others (and the admin page) how many connections it holds. */
export const INSTANCE_REPORT_MS = 5000;

/**
 * An instance's stored delivery report names at most this many bots (those it delivered to
 * most recently; none it never delivered to: every instance lists those itself). With up to
 * MAX_BOTS bots, the report written every INSTANCE_REPORT_MS stays a few hundred KiB at most.
 */
const REPORTED_BOTS_MAX = 100;
/** Likewise, the rooms' webhooks it delivered to most recently (RoomWebhooks.report). */
const REPORTED_ROOMS_MAX = 100;

/**
 * The operator's shared state on this instance: the instance-wide bans, re-read whenever they
 * change (and the sockets a new ban matches closed), this instance's reports (connections and
 * deliveries), and the bots: their posts' path, and which of them have webhook URLs (re-read
 * whenever the bots change). Runs with or without ADMIN_TOKEN: a ban or a bot made through
 * another instance holds here too.
 */
export default fp<{ config: Config }>(
  async (fastify, { config }) => {
    const { engine, roomHub, stats, botMentions, webhooks, roomWebhooks } = fastify;
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
    fastify.decorate('deliveryReport', (): DeliveryReport => ({
      instance: id,
      reportedAt: Date.now(),
      targets: [
        ...(webhooks?.report() ?? []),
        ...botMentions.report(),
        ...(roomWebhooks?.report(REPORTED_ROOMS_MAX) ?? []),
      ],
    }));
    // A room's owner sees every instance's deliveries to the room's webhook (this one's as of now).
    roomWebhooks?.connectReports(async () =>
      (await engine.operator.deliveries(Date.now() - 3 * INSTANCE_REPORT_MS))
        .filter((report) => report.instance !== id)
        .flatMap((report) => report.targets.filter((target) => target.kind === 'room')),
    );

    const bans = new ServerBans(engine.operator, config.maxInstanceBans, () => {
      for (const member of roomHub.allMembers()) member.enforceServerBan?.();
    });
    fastify.decorate('serverBans', bans);
    const poster = new BotPoster(config, fastify.limits, bans, roomHub);
    fastify.decorate('botPoster', poster);
    botMentions.connect(poster);

    const refresh = () =>
      Promise.all([
        bans.refresh().catch((err: unknown) => fastify.log.warn({ err }, 'could not read the instance-wide bans')),
        botMentions.refresh().catch((err: unknown) => fastify.log.warn({ err }, 'could not read the bots')),
        roomWebhooks
          ?.refresh()
          .catch((err: unknown) => fastify.log.warn({ err }, 'could not read the rooms’ webhooks version')),
      ]);
    const report = () => {
      const { operator } = engine;
      const deliveries = fastify.deliveryReport();
      const bots = deliveries.targets
        .filter((target) => target.kind === 'bot' && (target.last !== undefined || target.dropped > 0))
        .sort((a, b) => (b.last?.at ?? 0) - (a.last?.at ?? 0))
        .slice(0, REPORTED_BOTS_MAX);
      const targets = [
        ...deliveries.targets.filter((target) => target.kind === 'webhook' || target.kind === 'room'),
        ...bots,
      ];
      return Promise.all([
        operator.reportInstance(fastify.instanceReport()),
        // (Nothing to tell while nothing was delivered anywhere: no write.)
        targets.length > 0 ? operator.reportDeliveries({ ...deliveries, targets }) : undefined,
      ]).catch((err: unknown) => fastify.log.warn({ err }, 'could not report this instance'));
    };
    const refreshTimer = setInterval(refresh, BAN_REFRESH_MS).unref();
    const reportTimer = setInterval(report, INSTANCE_REPORT_MS).unref();
    fastify.addHook('onReady', async () => {
      await Promise.all([refresh(), report()]);
    });
    // Before the engine's connections close (they close in onClose).
    fastify.addHook('preClose', async () => {
      clearInterval(refreshTimer);
      clearInterval(reportTimer);
    });
  },
  {
    name: 'parley-operator',
    dependencies: ['parley-engine', 'parley-limits', 'parley-room-hub', 'parley-stats'],
  },
);

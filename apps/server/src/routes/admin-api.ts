import { randomUUID } from 'node:crypto';
import { isIP } from 'node:net';
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import {
  ADMIN_BAN_ROUTE,
  ADMIN_BANS_PATH,
  ADMIN_BOT_ROUTE,
  ADMIN_BOT_WEBHOOK_ROUTE,
  ADMIN_BOTS_PATH,
  ADMIN_WEBHOOKS_PATH,
  BotCreateRequestSchema,
  BotWebhookRequestSchema,
  parseDisplayName,
  type Bot,
  type BotCreated,
  type BotList,
  type BotWebhookSet,
  type WebhookStatusList,
  ADMIN_INSTANCES_PATH,
  ADMIN_INVITES_ROUTE,
  ADMIN_MODERATE_ROUTE,
  ADMIN_PURGE_ROUTE,
  ADMIN_ROOM_MESSAGE_ROUTE,
  ADMIN_ROOM_MESSAGES_ROUTE,
  ADMIN_ROOMS_PATH,
  DEFAULT_INVITE_SECONDS,
  EVERYONE_USER,
  InstanceBanRequestSchema,
  OPERATOR_MESSAGES_PAGE_DEFAULT,
  OPERATOR_MESSAGES_PAGE_MAX,
  OPERATOR_USER,
  OperatorInviteRequestSchema,
  OperatorModerationRequestSchema,
  decodeWith,
  isMessageId,
  parseRoomName,
  roomPagePath,
  type HistoryPage,
  type OperatorInvite,
  type OperatorActionResult,
  type InstanceBanList,
  type InstanceList,
  type OperatorRoom,
  type OperatorRoomList,
} from '@parley/protocol';
import type { Config } from '../config.ts';
import type { PurgeResult } from '../engine/engine.ts';
import { bearerMatches, bearerRequired } from '../http/bearer.ts';
import { HttpError } from '../http/http-error.ts';
import { isOriginAllowed } from '../http/origin-policy.ts';
import { webhookStatusList } from '../integrations/delivery-status.ts';
import { redactUrl } from '../integrations/redact-url.ts';
import { newBot, newWebhookSecret } from '../operator/bot-keys.ts';
import type { StoredBot } from '../operator/operator-store.ts';
import { INSTANCE_REPORT_MS } from '../plugins/operator.ts';

/** Rooms the operator's list shows (occupied first, then by last message, unlisted included). */
const OPERATOR_ROOM_LIST_SIZE = 200;

/**
 * The operator's HTTP API, registered only when ADMIN_TOKEN is set (otherwise these paths are
 * 404s). Every request must carry `Authorization: Bearer <ADMIN_TOKEN>`; like every request, it
 * is charged to its address's HTTP rate first (http/admission.ts), so the token cannot be
 * guessed at speed.
 */
const adminApi: FastifyPluginAsync<{ token: string; config: Config }> = async (fastify, { token, config }) => {
  const authorise = async (request: FastifyRequest) => {
    if (!bearerMatches(request.headers.authorization, token))
      throw bearerRequired('This endpoint needs Authorization: Bearer <ADMIN_TOKEN>.');
  };
  fastify.addHook('onRequest', authorise);

  fastify.get(ADMIN_ROOMS_PATH, async (): Promise<OperatorRoomList> => {
    const { engine } = fastify;
    const summaries = await engine.activeRooms(OPERATOR_ROOM_LIST_SIZE, { includeUnlisted: true });
    const facts = await Promise.all(summaries.map(({ room }) => engine.roomFacts(room)));
    const rooms = summaries.map((summary, i): OperatorRoom => {
      const { messages, roles, settings } = facts[i]!;
      const room: OperatorRoom = { ...summary, messages, moderators: roles.moderators.length, settings };
      if (roles.owner !== undefined) room.owner = roles.owner;
      return room;
    });
    return { rooms };
  });

  fastify.get(ADMIN_INSTANCES_PATH, async (): Promise<InstanceList> => {
    const { operator } = fastify.engine;
    // This instance's own line is always current.
    await operator.reportInstance(fastify.instanceReport());
    const instances = await operator.instances(Date.now() - 3 * INSTANCE_REPORT_MS);
    return { instances: instances.sort((a, b) => a.startedAt - b.startedAt) };
  });

  fastify.get(ADMIN_BANS_PATH, async (): Promise<InstanceBanList> => {
    await fastify.serverBans.refresh();
    return { bans: fastify.serverBans.list() };
  });

  fastify.post(ADMIN_BANS_PATH, async (request, reply) => {
    const body = decodeWith(InstanceBanRequestSchema, request.body);
    if (!body.ok) throw new HttpError('bad_request', body.message);
    const { address } = body.value;
    if (address !== undefined && isIP(address) === 0)
      throw new HttpError('bad_request', '"address" must be an IPv4 or IPv6 address.');
    const ban = await fastify.serverBans.add(body.value, (ip) => fastify.limits.keyOf(ip));
    if (ban === 'full')
      throw new HttpError('too_many_bans', 'The server keeps as many instance-wide bans as it takes; lift some first.');
    return reply.code(201).send(ban);
  });

  // Moderation in any room, as the operator (who outranks every role; see room-standing.ts).
  fastify.post<{ Params: { room: string } }>(ADMIN_MODERATE_ROUTE, async (request): Promise<OperatorActionResult> => {
    const room = roomOf(request.params.room);
    const body = decodeWith(OperatorModerationRequestSchema, request.body);
    if (!body.ok) throw new HttpError('bad_request', body.message);
    const { durationSeconds, reason, ...action } = body.value;
    const result = await fastify.roomHub.moderate({
      room,
      by: OPERATOR_USER,
      ...action,
      ...(durationSeconds !== undefined ? { durationSeconds } : {}),
      ...(reason !== undefined ? { reason } : {}),
    });
    return answer(result);
  });

  // A whole room's purge: every retained message deleted (each a `delete` entry of the log, so
  // present and recovering clients see them go), one operator-only `purge` of everyone.
  fastify.post<{ Params: { room: string } }>(ADMIN_PURGE_ROUTE, async (request): Promise<OperatorActionResult> => {
    const room = roomOf(request.params.room);
    const result = await fastify.engine.purge({
      room,
      by: OPERATOR_USER,
      userId: EVERYONE_USER.id,
      windowSeconds: ROOM_PURGE_WINDOW_SECONDS,
      maxMessages: config.historyLength,
      clientMsgId: randomUUID(),
    });
    return answer(result);
  });

  // A room's messages as the operator reads them (to pick one to delete): any room, invite-only
  // and unlisted ones too; a bounded page, the latest or the one before an id.
  fastify.get<{ Params: { room: string }; Querystring: { before?: string; limit?: string } }>(
    ADMIN_ROOM_MESSAGES_ROUTE,
    async (request): Promise<HistoryPage> => {
      const room = roomOf(request.params.room);
      const { before } = request.query;
      if (before !== undefined && !isMessageId(before))
        throw new HttpError('bad_request', '"before" must be a message id such as 1700000000000-0.');
      const limit = request.query.limit === undefined ? OPERATOR_MESSAGES_PAGE_DEFAULT : Number(request.query.limit);
      if (!Number.isInteger(limit) || limit < 1 || limit > OPERATOR_MESSAGES_PAGE_MAX)
        throw new HttpError('bad_request', `"limit" must be an integer from 1 to ${OPERATOR_MESSAGES_PAGE_MAX}.`);
      const page = await fastify.roomHub.history(room, { before, limit, maxBytes: config.historyPageMaxBytes });
      return { room, messages: page.messages, hasMore: page.hasMore };
    },
  );

  // One message deleted, as a moderator's `delete` of it: an entry of the room's log, so every
  // instance and every recovering client applies it, and present sockets get the `delete` event.
  fastify.delete<{ Params: { room: string; id: string } }>(
    ADMIN_ROOM_MESSAGE_ROUTE,
    async (request): Promise<OperatorActionResult> => {
      const room = roomOf(request.params.room);
      const { id } = request.params;
      if (!isMessageId(id)) throw new HttpError('bad_request', 'The message id must look like 1700000000000-0.');
      const result = await fastify.roomHub.change({
        room,
        user: OPERATOR_USER,
        op: 'delete',
        id,
        // One per message: a retried DELETE is answered with the first deletion's entry.
        clientMsgId: `operator-delete-${id}`,
      });
      if (result.outcome === 'refused' && result.code === 'not_found') {
        const { messages } = await fastify.engine.roomFacts(room);
        throw new HttpError(
          'not_found',
          messages === 0
            ? 'This room has no messages (it does not exist, or every message was deleted or has expired).'
            : 'No such message in this room: it was deleted, or is older than the history the room keeps.',
        );
      }
      return answer(result);
    },
  );

  // An invite to any room, as the owner and moderators make with an `invite` frame: signed,
  // expiring, opening that room only (invite-only rooms let its bearer in for good).
  fastify.post<{ Params: { room: string } }>(ADMIN_INVITES_ROUTE, async (request, reply) => {
    const room = roomOf(request.params.room);
    const body = decodeWith(OperatorInviteRequestSchema, request.body ?? {});
    if (!body.ok) throw new HttpError('bad_request', body.message);
    const expiresTs = Date.now() + (body.value.expiresInSeconds ?? DEFAULT_INVITE_SECONDS) * 1000;
    const invite = await fastify.identity.invite(room, expiresTs);
    const url = `${webAppOrigin(request)}${roomPagePath(room)}?invite=${encodeURIComponent(invite)}`;
    const made: OperatorInvite = { invite, url, expiresTs };
    return reply.code(201).send(made);
  });

  /**
   * Where the web app is, for invite links: the asking page's origin (the /admin page) when this
   * server takes pages from it, else the first PUBLIC_ORIGIN, else the origin this request reached.
   */
  const webAppOrigin = (request: FastifyRequest): string => {
    const { origin, host } = request.headers;
    if (origin !== undefined && URL.canParse(origin) && new URL(origin).origin === origin) {
      if (isOriginAllowed(origin, host, config.allowedOrigins, config.publicOrigins)) return origin;
    }
    return config.publicOrigins[0] ?? `${request.protocol}://${request.host}`;
  };

  // Bots: made here, their key shown once; deleting one stops its key at once.
  fastify.get(ADMIN_BOTS_PATH, async (): Promise<BotList> => {
    const bots = await fastify.engine.operator.bots();
    return { bots: bots.map(shownBot).sort((a, b) => a.createdAt - b.createdAt) };
  });

  /** A webhook URL the operator gave, parsed and allowed by the address policy, or a 400. */
  const webhookUrlOf = (raw: string): URL => {
    const url = URL.canParse(raw) ? new URL(raw) : undefined;
    if (url === undefined) throw new HttpError('bad_request', '"webhookUrl" is not a URL.');
    const problem = fastify.botMentions.urlProblem(url);
    if (problem !== undefined) throw new HttpError('bad_request', `The webhook URL is refused: ${problem}.`);
    return url;
  };

  fastify.post(ADMIN_BOTS_PATH, async (request, reply) => {
    const body = decodeWith(BotCreateRequestSchema, request.body);
    if (!body.ok) throw new HttpError('bad_request', body.message);
    const name = parseDisplayName(body.value.name);
    if (!name.ok) throw new HttpError('bad_request', name.message);
    const url = body.value.webhookUrl === undefined ? undefined : webhookUrlOf(body.value.webhookUrl);
    const { bot, key } = newBot(name.value);
    const webhookSecret = url === undefined ? undefined : newWebhookSecret();
    if (url !== undefined) Object.assign(bot, { webhookUrl: url.href, webhookSecret });
    if ((await fastify.engine.operator.putBot(bot, config.maxBots)) === 'full')
      throw new HttpError('too_many_bots', 'The server has as many bots as it takes (MAX_BOTS); delete some first.');
    // This instance listens for its mentions at once; the others within a few seconds.
    if (url !== undefined) await fastify.botMentions.refresh();
    const created: BotCreated = { bot: shownBot(bot), key, ...(webhookSecret !== undefined ? { webhookSecret } : {}) };
    return reply.code(201).send(created);
  });

  fastify.delete<{ Params: { id: string } }>(ADMIN_BOT_ROUTE, async (request, reply) => {
    if (!(await fastify.engine.operator.deleteBot(request.params.id)))
      throw new HttpError('not_found', 'There is no bot with this id.');
    await fastify.botMentions.refresh();
    return reply.code(204).send();
  });

  // A bot's webhook: its mentions are delivered there, signed with a secret shown this once.
  fastify.put<{ Params: { id: string } }>(ADMIN_BOT_WEBHOOK_ROUTE, async (request): Promise<BotWebhookSet> => {
    const body = decodeWith(BotWebhookRequestSchema, request.body);
    if (!body.ok) throw new HttpError('bad_request', body.message);
    const url = webhookUrlOf(body.value.url);
    const webhookSecret = newWebhookSecret();
    const { operator } = fastify.engine;
    if (!(await operator.setBotWebhook(request.params.id, { url: url.href, secret: webhookSecret })))
      throw new HttpError('not_found', 'There is no bot with this id.');
    await fastify.botMentions.refresh();
    const bot = await operator.bot(request.params.id);
    if (bot === undefined) throw new HttpError('not_found', 'There is no bot with this id.');
    return { bot: shownBot(bot), webhookSecret };
  });

  fastify.delete<{ Params: { id: string } }>(ADMIN_BOT_WEBHOOK_ROUTE, async (request, reply) => {
    if (!(await fastify.engine.operator.setBotWebhook(request.params.id, undefined)))
      throw new HttpError('not_found', 'There is no bot with this id.');
    await fastify.botMentions.refresh();
    return reply.code(204).send();
  });

  // Where events go (WEBHOOK_URLS, bots' URLs) and how their deliveries went, per instance.
  fastify.get(ADMIN_WEBHOOKS_PATH, async (): Promise<WebhookStatusList> => {
    const { operator } = fastify.engine;
    await fastify.botMentions.refresh();
    // This instance's own lines are always current; the others' at most INSTANCE_REPORT_MS old.
    const own = fastify.deliveryReport();
    const [reports, bots] = await Promise.all([
      operator.deliveries(Date.now() - 3 * INSTANCE_REPORT_MS),
      operator.bots(),
    ]);
    return { webhooks: webhookStatusList([own, ...reports.filter((r) => r.instance !== own.instance)], bots) };
  });

  fastify.delete<{ Params: { key: string } }>(ADMIN_BAN_ROUTE, async (request, reply) => {
    if (!(await fastify.serverBans.lift(request.params.key)))
      throw new HttpError('not_found', 'There is no instance-wide ban with this key.');
    return reply.code(204).send();
  });
};

/** A bot as the operator's API shows it: no key hash, no webhook secret, its URL redacted. */
function shownBot(bot: StoredBot): Bot {
  const { id, name, createdAt, webhookUrl } = bot;
  return {
    id,
    name,
    createdAt,
    ...(webhookUrl !== undefined && URL.canParse(webhookUrl) ? { webhookUrl: redactUrl(new URL(webhookUrl)) } : {}),
  };
}

/** A room name from the path, or a 400. */
function roomOf(raw: string): string {
  const room = parseRoomName(raw);
  if (!room.ok) throw new HttpError('invalid_room', room.message);
  return room.value;
}

/** An engine's answer to an operator's action, as HTTP. */
function answer(result: PurgeResult): OperatorActionResult {
  switch (result.outcome) {
    case 'stored':
    case 'duplicate':
      return result.count === undefined ? { eventId: result.id } : { eventId: result.id, count: result.count };
    case 'reused':
      throw new HttpError('bad_request', 'This clientMsgId was used for another action; use a new one.');
    case 'refused':
      if (result.code === 'not_present') throw new HttpError('not_present', 'That person is not in the room.');
      throw new HttpError('forbidden', `The action was refused (${result.code}).`);
  }
}

/** How far back a whole room's purge reaches: further than any room's history is kept. */
const ROOM_PURGE_WINDOW_SECONDS = 10 * 365 * 24 * 3600;

export default adminApi;

import { randomBytes } from 'node:crypto';
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import {
  IDEMPOTENCY_KEY_HEADER,
  PostMessageRequestSchema,
  ROOM_MESSAGES_ROUTE,
  decodeWith,
  isIdempotencyKey,
  parseRoomName,
  type Bot,
} from '@parley/protocol';
import type { Config } from '../config.ts';
import { bearerRequired, bearerToken } from '../http/bearer.ts';
import { HttpError } from '../http/http-error.ts';
import { botOfKey } from '../operator/bot-keys.ts';

/**
 * Bots post over HTTP: `POST /api/rooms/<room>/messages` with `Authorization: Bearer <bot key>`
 * and, to make a retry safe, an `Idempotency-Key` (used as the message's clientMsgId). The post
 * takes the path every bot's post takes (sessions/bot-poster.ts), and from there the socket's
 * (hub.post → the engine's append-and-publish): one order with the sockets' messages,
 * recoverable, deduplicated, refused by bans, mutes, read-only and slow mode. Each bot has a
 * socket's message rate (RATE_LIMIT_PER_CONNECTION), and its address the usual per-address
 * allowances (and, like every request, the HTTP rate).
 */
const botApi: FastifyPluginAsync<{ config: Config }> = async (fastify, { config }) => {
  const authorise = async (request: FastifyRequest): Promise<Bot> => {
    const key = bearerToken(request.headers.authorization);
    const bot = key === undefined ? undefined : await botOfKey(fastify.engine.operator, key);
    if (bot === undefined) throw bearerRequired('Posting needs Authorization: Bearer <bot key> of a bot that exists.');
    return bot;
  };

  fastify.post<{ Params: { room: string } }>(
    ROOM_MESSAGES_ROUTE,
    { bodyLimit: config.maxPayloadBytes },
    async (request, reply) => {
      const bot = await authorise(request);
      const room = parseRoomName(request.params.room);
      if (!room.ok) throw new HttpError('invalid_room', room.message);
      const body = decodeWith(PostMessageRequestSchema, request.body);
      if (!body.ok) throw new HttpError('bad_request', body.message);
      const idempotencyKey = request.headers[IDEMPOTENCY_KEY_HEADER];
      if (idempotencyKey !== undefined && (typeof idempotencyKey !== 'string' || !isIdempotencyKey(idempotencyKey)))
        throw new HttpError('bad_request', 'Idempotency-Key must be 1–64 letters, digits, _ or -.');

      const result = await fastify.botPoster.post(bot, {
        room: room.value,
        text: body.value.text,
        // Without a key, every post is its own.
        clientMsgId: idempotencyKey ?? `h${randomBytes(12).toString('base64url')}`,
        address: fastify.limits.keyOf(request.ip),
        replyTo: body.value.replyTo,
      });
      return reply.code(result.duplicate === true ? 200 : 201).send(result);
    },
  );
};

export default botApi;

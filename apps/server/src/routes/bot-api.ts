import { randomBytes } from 'node:crypto';
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import {
  IDEMPOTENCY_KEY_HEADER,
  PostMessageRequestSchema,
  ROOM_MESSAGES_ROUTE,
  checkMessageText,
  decodeWith,
  isIdempotencyKey,
  parseRoomName,
  type Bot,
  type HttpErrorCode,
  type PostMessageResult,
} from '@parley/protocol';
import type { Config } from '../config.ts';
import type { ChangeRefusal } from '../engine/engine.ts';
import { needsInvite } from '../engine/room-standing.ts';
import { bearerRequired, bearerToken } from '../http/bearer.ts';
import { HttpError } from '../http/http-error.ts';
import { KeyedBuckets } from '../limits/keyed-buckets.ts';
import { botOfKey } from '../operator/bot-keys.ts';

/**
 * Bots post over HTTP: `POST /api/rooms/<room>/messages` with `Authorization: Bearer <bot key>`
 * and, to make a retry safe, an `Idempotency-Key` (used as the message's clientMsgId). The post
 * takes the socket's path (hub.post → the engine's append-and-publish): one order with the
 * sockets' messages, recoverable, deduplicated, refused by bans, mutes, read-only and slow mode.
 * Each bot has a socket's message rate (RATE_LIMIT_PER_CONNECTION), and its address the usual
 * per-address allowances (and, like every request, the HTTP rate).
 */
const botApi: FastifyPluginAsync<{ config: Config }> = async (fastify, { config }) => {
  // (One bucket per bot at most: the map is bounded by MAX_BOTS.)
  const botRates = new KeyedBuckets(config.rateLimitPerConnection, config.rateBurstPerConnection);

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
      const text = checkMessageText(body.value.text, config.maxTextBytes);
      if (!text.ok) throw new HttpError(text.code === 'too_large' ? 'too_large' : 'bad_request', text.message);
      const idempotencyKey = request.headers[IDEMPOTENCY_KEY_HEADER];
      if (idempotencyKey !== undefined && (typeof idempotencyKey !== 'string' || !isIdempotencyKey(idempotencyKey)))
        throw new HttpError('bad_request', 'Idempotency-Key must be 1–64 letters, digits, _ or -.');

      const { limits, serverBans, roomHub } = fastify;
      const address = limits.keyOf(request.ip);
      const serverBan = serverBans.find(bot.id, address);
      if (serverBan !== undefined) throw new HttpError('banned', 'The operator of this server banned this bot.');
      if (!botRates.take(bot.id) || !limits.takeMessage(address))
        throw new HttpError('rate_limited', 'Too many messages; wait a moment and send again.', { 'retry-after': '1' });
      if (!limits.takeDailyMessage(address))
        throw new HttpError(
          'quota_exceeded',
          `Your address sent its ${config.messagesPerIpPerDay} messages for today.`,
        );
      // An invite-only room takes the bots it let in (an owner's or moderator's business), as people.
      const standing = await roomHub.standing(room.value, bot.id, address);
      if (needsInvite(standing))
        throw new HttpError('invite_required', 'This room is invite-only and has not let this bot in.');

      const result = await roomHub.post({
        room: room.value,
        user: { id: bot.id, name: bot.name, bot: true },
        text: text.value,
        // Without a key, every post is its own.
        clientMsgId: idempotencyKey ?? `h${randomBytes(12).toString('base64url')}`,
        address,
        ...(body.value.replyTo !== undefined ? { replyTo: body.value.replyTo } : {}),
      });
      switch (result.outcome) {
        case 'stored':
          return reply.code(201).send({ id: result.id } satisfies PostMessageResult);
        case 'duplicate':
          return reply.code(200).send({ id: result.id, duplicate: true } satisfies PostMessageResult);
        case 'reused':
          throw new HttpError('client_msg_id_reused', 'This Idempotency-Key was used for a different message.');
        case 'refused':
          throw refusal(result.code, result.until, result.retryAfterMs, result.reason);
      }
    },
  );
};

/** A refused post as HTTP: the socket's code, its status, and when it may be tried again. */
function refusal(
  code: ChangeRefusal,
  until: number | undefined,
  retryAfterMs: number | undefined,
  reason: string | undefined,
): HttpError {
  // The before-publish hook's refusals: its reason, or why it could not be asked (try again).
  if (code === 'rejected' || code === 'unavailable')
    return new HttpError(code, reason ?? 'The post was refused.', code === 'unavailable' ? { 'retry-after': '1' } : {});
  const codes: Partial<Record<ChangeRefusal, [HttpErrorCode, string]>> = {
    banned: ['banned', 'This bot is banned from the room'],
    muted: ['muted', 'This bot is muted in the room'],
    read_only: ['read_only', 'This room is read-only: only its owner and moderators post.'],
    slow_mode: ['slow_mode', 'This room is in slow mode; wait before posting again.'],
    not_found: ['not_found', 'The message answered is not in the room’s history.'],
  };
  const [http, message] = codes[code] ?? ['forbidden', `The post was refused (${code}).`];
  const end = until === undefined || until === 0 ? '' : ` until ${new Date(until).toISOString()}`;
  const headers: Record<string, string> =
    retryAfterMs === undefined ? {} : { 'retry-after': String(Math.max(1, Math.ceil(retryAfterMs / 1000))) };
  return new HttpError(http, code === 'banned' || code === 'muted' ? `${message}${end}.` : message, headers);
}

export default botApi;

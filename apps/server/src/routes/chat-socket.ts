import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type { WebSocket } from 'ws';
import {
  CLOSE_CODES,
  PROTOCOL_V1,
  encodeError,
  isMessageId,
  parseDisplayName,
  parseRoomName,
  tokenFromProtocols,
  type ErrorCode,
} from '@parley/protocol';
import type { Config } from '../config.ts';
import { isOriginAllowed } from '../plugins/origin-policy.ts';
import { ReferenceSession } from '../sessions/reference-session.ts';
import { sessionOf, type SessionDeps } from '../sessions/socket-session.ts';
import { V1Session, type V1Params } from '../sessions/v1-session.ts';

interface RoomRequest {
  Params: { room: string };
  Querystring: Record<string, string | string[] | undefined>;
}

/**
 * The room endpoint `/ws/chat/<room>/` (trailing slash optional; the name percent-encoded).
 * Clients offering subprotocol `parley.v1` get Parley's protocol; others the reference one.
 */
const chatSocketRoutes: FastifyPluginAsync<{ config: Config }> = async (fastify, { config }) => {
  const deps: SessionDeps = {
    config,
    hub: fastify.rooms,
    identity: fastify.identity,
    limits: fastify.limits,
    stats: fastify.stats,
    writer: {
      sendBufferLimitBytes: config.sendBufferLimitBytes,
      slowConsumerGraceMs: config.slowConsumerGraceMs,
      stats: fastify.stats,
      atEndOfTurn: (writer) => fastify.rooms.writeAtEndOfTurn(writer),
      onSlowConsumer: (writer, buffered) => sessionOf(writer.socket)?.report('warn', { buffered }, 'closing slow consumer'),
    },
    log: fastify.log,
  };
  // Runs before the upgrade: a refused socket gets a plain HTTP answer and costs nothing more.
  fastify.addHook('onRequest', async (request, reply) => {
    if (!isOriginAllowed(request.headers.origin, request.headers.host, config.allowedOrigins, config.publicOrigins)) {
      request.log.warn({ origin: request.headers.origin }, 'refused WebSocket from a foreign origin');
      return reply.code(403).send({
        error: 'origin_not_allowed',
        message: `Origin ${request.headers.origin} may not use this server; add it to ALLOWED_ORIGINS.`,
      });
    }
    const refusal = fastify.limits.refusal(fastify.limits.keyOf(request.ip));
    if (refusal !== undefined) {
      fastify.stats.refusedRequests += 1;
      // Debug, not warn: a flood of refusals would otherwise flood the log too.
      request.log.debug({ ip: request.ip, code: refusal.code }, 'refused WebSocket: connection limit');
      return reply.code(refusal.status).header('retry-after', String(refusal.retryAfterSeconds)).send({ error: refusal.code, message: refusal.message });
    }
  });

  const notUpgraded = async (_request: FastifyRequest, reply: FastifyReply) =>
    reply.code(426).header('upgrade', 'websocket').send({
      error: 'upgrade_required',
      message: 'This is a WebSocket endpoint: connect with a WebSocket client.',
    });

  fastify.route<RoomRequest>({
    method: 'GET',
    url: '/ws/chat/:room/',
    handler: notUpgraded,
    wsHandler: (socket, request) => {
      const addressKey = fastify.limits.keyOf(request.ip);
      fastify.limits.opened(addressKey);
      // A session counts its own close; a socket refused here is counted by this listener.
      const refuseCounted = (code: ErrorCode, message: string) => {
        socket.once('close', () => fastify.limits.closed(addressKey));
        refuse(socket, code, message);
      };
      const room = parseRoomName(request.params.room);
      if (!room.ok) {
        refuseCounted('invalid_room', room.message);
        request.log.info({ event: 'ws_refused', reason: room.code }, 'invalid room name');
        return;
      }
      const origin = { reqId: request.id, addressKey };
      if (socket.protocol !== PROTOCOL_V1) {
        new ReferenceSession(socket, room.value, deps, origin).start();
        return;
      }
      const params = parseV1Params(request.query, request.headers['sec-websocket-protocol']);
      if (!params.ok) {
        refuseCounted(params.code, params.message);
        request.log.info({ event: 'ws_refused', reason: params.code }, 'invalid connection parameters');
        return;
      }
      new V1Session(socket, room.value, deps, origin, params.value).start();
    },
  });

  // Paths the room route cannot match: several segments, or a name too long for the router.
  fastify.route({
    method: 'GET',
    url: '/ws/chat/*',
    handler: notUpgraded,
    wsHandler: (socket, request) => {
      refuse(socket, 'invalid_room', 'Room name is too long or contains "/"; use 1–100 letters, digits or underscores.');
      request.log.info({ event: 'ws_refused', reason: 'bad_path' }, 'invalid room path');
    },
  });
};

type ParamsResult = { ok: true; value: V1Params } | { ok: false; code: ErrorCode; message: string };

/**
 * The `parley.v1` connection parameters: `name` and `since` from the query, the identity token
 * from the offered subprotocols (`parley.token.<token>`). Clients of the first release sent the
 * token as `?token=`; that still works in this release (and is never logged).
 */
function parseV1Params(query: RoomRequest['Querystring'], protocols: string | undefined): ParamsResult {
  const single = (key: string) => {
    const value = query[key];
    return Array.isArray(value) ? value[0] : value;
  };
  const name = parseDisplayName(single('name') ?? '');
  if (!name.ok) return { ok: false, code: 'invalid_name', message: `${name.message} Pass ?name=<display name>.` };
  const since = single('since') || undefined;
  if (since !== undefined && !isMessageId(since)) {
    return { ok: false, code: 'invalid_since', message: '"since" must be a message id such as 1700000000000-0.' };
  }
  const token = tokenFromProtocols(protocols) ?? (single('token') || undefined);
  return { ok: true, value: { name: name.value, token, since } };
}

// A browser cannot read the body of a refused upgrade, so the socket is accepted and closed with
// a reason it can show: an error frame first, then the close code.
function refuse(socket: WebSocket, code: ErrorCode, reason: string): void {
  socket.send(encodeError(code, reason));
  socket.close(CLOSE_CODES.badRequest, code.replace('_', ' '));
}

export default chatSocketRoutes;

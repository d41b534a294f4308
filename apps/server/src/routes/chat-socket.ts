import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type { WebSocket } from 'ws';
import { CLOSE_CODES, encodeError, parseRoomName } from '@parley/protocol';
import type { Config } from '../config.ts';
import { isOriginAllowed } from '../plugins/origin-policy.ts';
import { ReferenceSession } from '../sessions/reference-session.ts';

/** The room endpoint `/ws/chat/<room>/` (trailing slash optional; the name percent-encoded). */
const chatSocketRoutes: FastifyPluginAsync<{ config: Config }> = async (fastify, { config }) => {
  // Runs before the upgrade, so a page from a foreign origin gets a plain 403, not a socket.
  fastify.addHook('onRequest', async (request, reply) => {
    if (!isOriginAllowed(request.headers.origin, request.headers.host, config.allowedOrigins)) {
      request.log.warn({ origin: request.headers.origin }, 'refused WebSocket from a foreign origin');
      return reply.code(403).send({
        error: 'origin_not_allowed',
        message: `Origin ${request.headers.origin} may not use this server; add it to ALLOWED_ORIGINS.`,
      });
    }
  });

  const notUpgraded = async (_request: FastifyRequest, reply: FastifyReply) =>
    reply.code(426).header('upgrade', 'websocket').send({
      error: 'upgrade_required',
      message: 'This is a WebSocket endpoint: connect with a WebSocket client.',
    });

  fastify.route<{ Params: { room: string } }>({
    method: 'GET',
    url: '/ws/chat/:room/',
    handler: notUpgraded,
    wsHandler: (socket, request) => {
      const room = parseRoomName(request.params.room);
      if (!room.ok) {
        refuse(socket, room.reason);
        request.log.info({ event: 'ws_refused', reason: room.problem }, 'invalid room name');
        return;
      }
      new ReferenceSession(socket, room.value, {
        config,
        engine: fastify.engine,
        hub: fastify.rooms,
        log: request.log,
      }).start();
    },
  });

  // Paths the room route cannot match: several segments, or a name too long for the router.
  fastify.route({
    method: 'GET',
    url: '/ws/chat/*',
    handler: notUpgraded,
    wsHandler: (socket, request) => {
      refuse(socket, 'Room name is too long or contains "/"; use 1–100 letters, digits or underscores.');
      request.log.info({ event: 'ws_refused', reason: 'bad_path' }, 'invalid room path');
    },
  });
};

// A browser cannot read the body of a refused upgrade, so the socket is accepted and closed with
// a reason it can show: an error frame first, then the close code.
function refuse(socket: WebSocket, reason: string): void {
  socket.send(encodeError('invalid_room', reason));
  socket.close(CLOSE_CODES.invalidRoom, 'invalid room name');
}

export default chatSocketRoutes;

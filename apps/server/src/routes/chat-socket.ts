import type { FastifyPluginAsync } from 'fastify';
import type { WebSocket } from 'ws';
import {
  CHAT_SOCKET_ROUTE,
  CLOSE_CODES,
  ConnectQuerySchema,
  PROTOCOL_V1,
  decodeWith,
  encodeError,
  parseDisplayName,
  parseRoomName,
  tokenFromProtocols,
  type ErrorCode,
} from '@parley/protocol';
import type { Config } from '../config.ts';
import { HttpError } from '../http/http-error.ts';
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
    hub: fastify.roomHub,
    identity: fastify.identity,
    limits: fastify.limits,
    serverBans: fastify.serverBans,
    stats: fastify.stats,
    writer: {
      sendBufferLimitBytes: config.sendBufferLimitBytes,
      slowConsumerGraceMs: config.slowConsumerGraceMs,
      stats: fastify.stats,
      atEndOfTurn: (writer) => fastify.roomHub.writeAtEndOfTurn(writer),
      onSlowConsumer: (writer, buffered) =>
        sessionOf(writer.socket)?.report('warn', { buffered }, 'closing slow consumer'),
    },
    log: fastify.log,
  };
  // The origin policy and the connection limits are checked before the upgrade, by the app's
  // first hook (http/admission.ts): a refused socket gets a plain HTTP answer and costs nothing more.

  const notUpgraded = async () => {
    throw new HttpError('upgrade_required', 'This is a WebSocket endpoint: connect with a WebSocket client.', {
      upgrade: 'websocket',
    });
  };

  fastify.route<RoomRequest>({
    method: 'GET',
    url: CHAT_SOCKET_ROUTE,
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
      // Invite links open the web app where the page that asked is; a client without a page
      // (an SDK in Node, a bot) gets the first PUBLIC_ORIGIN's, or none when that is unset.
      const pageOrigin = request.headers.origin ?? config.publicOrigins[0];
      const params = parseV1Params(request.query, request.headers['sec-websocket-protocol'], pageOrigin);
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
      refuse(
        socket,
        'invalid_room',
        'Room name is too long or contains "/"; use 1–100 letters, digits or underscores.',
      );
      request.log.info({ event: 'ws_refused', reason: 'bad_path' }, 'invalid room path');
    },
  });
};

type ParamsResult = { ok: true; value: V1Params } | { ok: false; code: ErrorCode; message: string };

/**
 * The `parley.v1` connection parameters: `name` and `since` from the query (the protocol's
 * ConnectQuerySchema, then the display-name rules), the identity token from the offered
 * subprotocols (`parley.token.<token>`). Clients of the first release sent the token as
 * `?token=`; that still works in this release (and is never logged).
 */
function parseV1Params(
  query: RoomRequest['Querystring'],
  protocols: string | undefined,
  pageOrigin: string | undefined,
): ParamsResult {
  const single = (key: string) => {
    const value = query[key];
    return (Array.isArray(value) ? value[0] : value) || undefined;
  };
  const parsed = decodeWith(ConnectQuerySchema, {
    name: single('name') ?? '',
    since: single('since'),
    invite: single('invite'),
  });
  if (!parsed.ok) {
    return parsed.message.startsWith('since')
      ? { ok: false, code: 'invalid_since', message: '"since" must be a message id such as 1700000000000-0.' }
      : { ok: false, code: 'invalid_name', message: 'Display name is empty. Pass ?name=<display name>.' };
  }
  const name = parseDisplayName(parsed.value.name);
  if (!name.ok) return { ok: false, code: 'invalid_name', message: `${name.message} Pass ?name=<display name>.` };
  const token = tokenFromProtocols(protocols) ?? single('token');
  return {
    ok: true,
    value: { name: name.value, token, since: parsed.value.since, invite: parsed.value.invite, pageOrigin },
  };
}

// A browser cannot read the body of a refused upgrade, so the socket is accepted and closed with
// a reason it can show: an error frame first, then the close code.
function refuse(socket: WebSocket, code: ErrorCode, reason: string): void {
  socket.send(encodeError(code, reason));
  socket.close(CLOSE_CODES.badRequest, code.replace('_', ' '));
}

export default chatSocketRoutes;

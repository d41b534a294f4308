import type { FastifyPluginAsync } from 'fastify';
import { MESSAGE_ID_PATTERN, parseRoomName, type HistoryPage, type RoomList } from '@parley/protocol';
import type { Config } from '../config.ts';
import { EngineUnavailableError } from '../engine/engine.ts';

/** Largest page a client may ask for. */
const MAX_PAGE = 200;
/** Rooms listed by GET /api/rooms. */
const ROOM_LIST_SIZE = 50;

/** The HTTP API: active rooms, and older history for scroll-back. */
const roomsApi: FastifyPluginAsync<{ config: Config }> = async (fastify, { config }) => {
  fastify.setErrorHandler((err: Error & { statusCode?: number }, request, reply) => {
    if (err instanceof EngineUnavailableError) {
      return reply.code(503).send({ error: 'unavailable', message: 'The chat service cannot reach its message bus; try again shortly.' });
    }
    if ((err.statusCode ?? 500) >= 500) request.log.error({ err }, 'request failed');
    const status = err.statusCode ?? 500;
    return reply.code(status).send({ error: status >= 500 ? 'internal' : 'bad_request', message: status >= 500 ? 'Internal Server Error' : err.message });
  });

  fastify.get('/api/rooms', async (): Promise<RoomList> => ({ rooms: await fastify.engine.activeRooms(ROOM_LIST_SIZE) }));

  fastify.get<{ Params: { room: string }; Querystring: { before?: string; limit?: string } }>(
    '/api/rooms/:room/messages',
    async (request, reply): Promise<HistoryPage | undefined> => {
      const room = parseRoomName(request.params.room);
      if (!room.ok) return reply.code(400).send({ error: 'invalid_room', message: room.reason });
      const { before } = request.query;
      if (before !== undefined && !MESSAGE_ID_PATTERN.test(before)) {
        return reply.code(400).send({ error: 'bad_request', message: '"before" must be a message id such as 1700000000000-0.' });
      }
      const limit = request.query.limit === undefined ? config.historyPageSize : Number(request.query.limit);
      if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE) {
        return reply.code(400).send({ error: 'bad_request', message: `"limit" must be an integer from 1 to ${MAX_PAGE}.` });
      }
      const page = await fastify.engine.history(room.value, { before, limit });
      return { room: room.value, messages: page.messages, hasMore: page.hasMore };
    },
  );
};

export default roomsApi;

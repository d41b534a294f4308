import type { FastifyPluginAsync } from 'fastify';
import { isMessageId, parseRoomName, type HistoryPage, type RoomList, type RoomSummary } from '@parley/protocol';
import type { Config } from '../config.ts';
import { EngineUnavailableError } from '../engine/engine.ts';
import { httpRateHook } from '../limits/http-rate-hook.ts';

/** Largest page a client may ask for. */
const MAX_PAGE = 200;
/** Rooms listed by GET /api/rooms. */
const ROOM_LIST_SIZE = 50;
/**
 * GET /api/rooms is answered from a copy at most this old: however many clients ask, the
 * engine builds the list about once a second per instance.
 */
const ROOM_LIST_CACHE_MS = 1000;

interface MessagesRequest {
  Params: { room: string };
  Querystring: { before?: string; after?: string; limit?: string };
}

/**
 * The HTTP API: active rooms, older history for scroll-back, and newer history to finish a
 * recovery the welcome cut short. Every request is charged to its address's HTTP rate.
 */
const roomsApi: FastifyPluginAsync<{ config: Config }> = async (fastify, { config }) => {
  fastify.setErrorHandler((err: Error & { statusCode?: number }, request, reply) => {
    if (err instanceof EngineUnavailableError) {
      return reply.code(503).send({ error: 'unavailable', message: 'The chat service cannot reach its message bus; try again shortly.' });
    }
    if ((err.statusCode ?? 500) >= 500) request.log.error({ err }, 'request failed');
    const status = err.statusCode ?? 500;
    return reply.code(status).send({ error: status >= 500 ? 'internal' : 'bad_request', message: status >= 500 ? 'Internal Server Error' : err.message });
  });

  fastify.addHook('onRequest', httpRateHook(fastify));

  let roomList: { at: number; rooms: Promise<RoomSummary[]> } | undefined;
  fastify.get('/api/rooms', async (): Promise<RoomList> => {
    const now = Date.now();
    if (roomList === undefined || now - roomList.at > ROOM_LIST_CACHE_MS) {
      const rooms = fastify.engine.activeRooms(ROOM_LIST_SIZE);
      roomList = { at: now, rooms };
      // A failure is not kept: the next request asks again.
      rooms.catch(() => {
        if (roomList?.rooms === rooms) roomList = undefined;
      });
    }
    return { rooms: await roomList.rooms };
  });

  fastify.get<MessagesRequest>('/api/rooms/:room/messages', async (request, reply): Promise<HistoryPage | undefined> => {
    const room = parseRoomName(request.params.room);
    if (!room.ok) return reply.code(400).send({ error: 'invalid_room', message: room.message });
    const { before, after } = request.query;
    if (before !== undefined && after !== undefined) {
      return reply.code(400).send({ error: 'bad_request', message: 'Pass "before" (older messages) or "after" (newer ones), not both.' });
    }
    for (const [name, id] of [['before', before], ['after', after]] as const) {
      if (id !== undefined && !isMessageId(id)) {
        return reply.code(400).send({ error: 'bad_request', message: `"${name}" must be a message id such as 1700000000000-0.` });
      }
    }
    const limit = request.query.limit === undefined ? config.historyPageSize : Number(request.query.limit);
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE) {
      return reply.code(400).send({ error: 'bad_request', message: `"limit" must be an integer from 1 to ${MAX_PAGE}.` });
    }
    const page = await fastify.engine.history(room.value, { before, after, limit, maxBytes: config.historyPageMaxBytes });
    const body: HistoryPage = { room: room.value, messages: page.messages, hasMore: page.hasMore };
    if (after !== undefined) {
      body.hasNewer = page.hasNewer;
      body.recovered = page.recovered;
    }
    return body;
  });
};

export default roomsApi;

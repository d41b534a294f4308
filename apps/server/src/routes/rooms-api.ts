import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import {
  MEMBER_CURSOR_PATTERN,
  ROOM_LIST_PATH,
  ROOM_MEMBERS_ROUTE,
  ROOM_MESSAGES_ROUTE,
  isMessageId,
  isRoomName,
  parseRoomName,
  type HistoryPage,
  type MemberPage,
  type RoomList,
  type RoomSummary,
} from '@parley/protocol';
import type { Config } from '../config.ts';
import { HttpError } from '../http/http-error.ts';
import { RoomReadAccess } from '../http/room-read-access.ts';

/** Largest page a client may ask for. */
const MAX_PAGE = 200;
/** A page is refused (429) when the address may not be sent at least this much history now. */
const MIN_PAGE_BYTES = 16 * 1024;
/** Members in a page of GET /api/rooms/<room>/members by default, and at most. */
const MEMBER_PAGE_DEFAULT = 100;
const MEMBER_PAGE_MAX = 200;
/**
 * The largest cursor a member page takes: the Redis engine's cursor is HSCAN's, an unsigned
 * 64-bit number, and Redis answers a larger one with an error (which read as `unavailable`, 503).
 */
const MEMBER_CURSOR_MAX = 2n ** 64n - 1n;
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

interface MembersRequest {
  Params: { room: string };
  Querystring: { cursor?: string; limit?: string };
}

/**
 * The HTTP API: active rooms, older history for scroll-back, newer history to finish a
 * recovery the welcome cut short, and the people present page by page. (Each request is charged to its address's HTTP rate before it
 * gets here: see http/admission.ts.) A room's history and people are read only by whom its
 * WebSocket would let in (http/room-read-access.ts).
 */
const roomsApi: FastifyPluginAsync<{ config: Config }> = async (fastify, { config }) => {
  const access = new RoomReadAccess({
    adminToken: config.adminToken,
    identity: fastify.identity,
    operator: fastify.engine.operator,
    serverBans: fastify.serverBans,
    standing: (room, userId, address) => fastify.roomHub.standing(room, userId, address),
  });
  /** Refuses the read when the reader is banned from the room, or it is invite-only and not theirs to read. */
  const mayRead = async (request: FastifyRequest, room: string) =>
    access.check(room, await access.readerOf(request.headers.authorization), fastify.limits.keyOf(request.ip));

  let roomList: { at: number; rooms: Promise<RoomSummary[]> } | undefined;
  fastify.get(ROOM_LIST_PATH, async (): Promise<RoomList> => {
    const now = Date.now();
    if (roomList === undefined || now - roomList.at > ROOM_LIST_CACHE_MS) {
      // Rooms an earlier release kept under a name that is no longer canonical (capitals: names
      // are folded to lower case now) cannot be opened any more: they are not listed.
      const rooms = fastify.engine
        .activeRooms(ROOM_LIST_SIZE)
        .then((list) => list.filter(({ room }) => isRoomName(room)));
      roomList = { at: now, rooms };
      // A failure is not kept: the next request asks again.
      rooms.catch(() => {
        if (roomList?.rooms === rooms) roomList = undefined;
      });
    }
    return { rooms: await roomList.rooms };
  });

  fastify.get<MessagesRequest>(ROOM_MESSAGES_ROUTE, async (request, reply) => {
    const room = parseRoomName(request.params.room);
    if (!room.ok) throw new HttpError('invalid_room', room.message);
    const { before, after } = request.query;
    if (before !== undefined && after !== undefined) {
      throw new HttpError('bad_request', 'Pass "before" (older messages) or "after" (newer ones), not both.');
    }
    for (const [name, id] of [
      ['before', before],
      ['after', after],
    ] as const) {
      if (id !== undefined && !isMessageId(id))
        throw new HttpError('bad_request', `"${name}" must be a message id such as 1700000000000-0.`);
    }
    const limit = request.query.limit === undefined ? config.historyPageSize : Number(request.query.limit);
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE) {
      throw new HttpError('bad_request', `"limit" must be an integer from 1 to ${MAX_PAGE}.`);
    }
    await mayRead(request, room.value);
    // Pages are cut to what the address may still be sent (HISTORY_BYTES_PER_IP); below a
    // useful page, it must wait.
    const key = fastify.limits.keyOf(request.ip);
    const allowance = fastify.limits.historyAllowance(key);
    if (allowance < MIN_PAGE_BYTES) {
      const wait = Math.max(1, Math.ceil(fastify.limits.historyWaitMs(key, MIN_PAGE_BYTES) / 1000));
      throw new HttpError('rate_limited', 'Too much history asked for from your address; wait a moment.', {
        'retry-after': String(wait),
      });
    }
    // Through the hub: identical page requests in flight share one read.
    const page = await fastify.roomHub.history(room.value, {
      before,
      after,
      limit,
      maxBytes: Math.min(config.historyPageMaxBytes, allowance),
    });
    const body: HistoryPage = { room: room.value, messages: page.messages, hasMore: page.hasMore };
    if (after !== undefined) {
      body.hasNewer = page.hasNewer;
      body.recovered = page.recovered;
      if (page.changes.length > 0) body.changes = page.changes;
      if (page.moderation.length > 0) body.moderation = page.moderation;
      if (page.settings.length > 0) body.settingsChanges = page.settings;
      if (page.webhooks.length > 0) body.webhookChanges = page.webhooks;
      if (page.lastEventId !== undefined) body.lastEventId = page.lastEventId;
    }
    const json = JSON.stringify(body);
    fastify.limits.chargeHistory(key, Buffer.byteLength(json));
    return reply.type('application/json; charset=utf-8').send(json);
  });

  // The people present, a bounded page at a time: a welcome lists only the first
  // WELCOME_MEMBERS_MAX of a big room (MemberPage in the protocol).
  fastify.get<MembersRequest>(ROOM_MEMBERS_ROUTE, async (request, reply) => {
    const room = parseRoomName(request.params.room);
    if (!room.ok) throw new HttpError('invalid_room', room.message);
    const { cursor } = request.query;
    if (cursor !== undefined && (!MEMBER_CURSOR_PATTERN.test(cursor) || BigInt(cursor) > MEMBER_CURSOR_MAX))
      throw new HttpError('bad_request', '"cursor" must be the cursor of the previous page.');
    const limit = request.query.limit === undefined ? MEMBER_PAGE_DEFAULT : Number(request.query.limit);
    if (!Number.isInteger(limit) || limit < 1 || limit > MEMBER_PAGE_MAX) {
      throw new HttpError('bad_request', `"limit" must be an integer from 1 to ${MEMBER_PAGE_MAX}.`);
    }
    await mayRead(request, room.value);
    const page = await fastify.roomHub.members(room.value, cursor, limit);
    // The members as the engine listed them, spliced in as text like a welcome's.
    const head = JSON.stringify({
      room: room.value,
      memberCount: page.count,
      ...(page.cursor !== undefined ? { cursor: page.cursor } : {}),
    } satisfies Omit<MemberPage, 'members'>);
    return reply.type('application/json; charset=utf-8').send(`${head.slice(0, -1)},"members":${page.json}}`);
  });
};

export default roomsApi;

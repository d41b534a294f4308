import { readFileSync } from 'node:fs';
import { toJsonSchema, toJsonSchemaDefs, type ConversionConfig, type JsonSchema } from '@valibot/to-json-schema';
import {
  ADMIN_BAN_ROUTE,
  ADMIN_BANS_PATH,
  ADMIN_BOT_ROUTE,
  ADMIN_BOT_WEBHOOK_ROUTE,
  ADMIN_BOTS_PATH,
  ADMIN_INSTANCES_PATH,
  ADMIN_INVITES_ROUTE,
  ADMIN_ROOM_MESSAGE_ROUTE,
  ADMIN_ROOM_MESSAGES_ROUTE,
  ADMIN_WEBHOOKS_PATH,
  ADMIN_MODERATE_ROUTE,
  ADMIN_PURGE_ROUTE,
  ADMIN_ROOMS_PATH,
  BanPathParamsSchema,
  BotCreateRequestSchema,
  BotCreatedSchema,
  BotListSchema,
  BotPathParamsSchema,
  BotWebhookRequestSchema,
  BotWebhookSetSchema,
  CHAT_SOCKET_ROUTE,
  ChangeFrameSchema,
  ConnectQuerySchema,
  HTTP_ERROR_CODES,
  HealthSchema,
  HistoryPageSchema,
  HttpErrorBodySchema,
  InstanceBanListSchema,
  InstanceBanRequestSchema,
  InstanceBanSchema,
  InstanceListSchema,
  MESSAGE_ID_PATTERN,
  MemberPageSchema,
  MemberSchema,
  MessageFrameSchema,
  MessageIdSchema,
  ModerationFrameSchema,
  OPENAPI_PATH,
  OperatorActionResultSchema,
  OperatorInviteRequestSchema,
  OperatorInviteSchema,
  OperatorMessagesQuerySchema,
  OperatorModerationRequestSchema,
  OperatorRoomListSchema,
  PROTOCOL_V1,
  PostMessageHeadersSchema,
  PostMessageRequestSchema,
  PostMessageResultSchema,
  ROOM_LIST_PATH,
  ROOM_MEMBERS_ROUTE,
  ROOM_MESSAGES_ROUTE,
  ReadinessSchema,
  RoomListSchema,
  RoomMembersQuerySchema,
  RoomMessagePathParamsSchema,
  RoomMessagesQuerySchema,
  RoomPathParamsSchema,
  RoomSettingsSchema,
  ServerInfoSchema,
  SettingsFrameSchema,
  UserSchema,
  TOKEN_PROTOCOL_PREFIX,
  WebhookStatusListSchema,
  isMessageId,
  type HttpErrorCode,
} from '@parley/protocol';

// The HTTP API as an OpenAPI 3.1 document, served at GET /api/openapi.json (routes/openapi.ts).
// Every body and parameter schema is the protocol package's valibot schema, converted to JSON
// Schema (2020-12, OpenAPI 3.1's dialect); what is written here is only what a route does with
// them: its method, path, authentication, statuses and words for people. The tests hold the
// document to the routes Fastify registers and to real answers (test/openapi.test.ts).

/** A valibot schema, as the converter takes it (the server does not depend on valibot itself). */
type Schema = Parameters<typeof toJsonSchema>[0];
/** A valibot object schema: its entries become parameters. */
type ObjectSchema = Schema & { readonly entries: Record<string, Schema & { readonly type: string }> };

/** Bodies shared by several routes: `components.schemas`, referenced by name. */
const COMPONENTS = {
  HttpError: HttpErrorBodySchema,
  Health: HealthSchema,
  Readiness: ReadinessSchema,
  ServerInfo: ServerInfoSchema,
  RoomList: RoomListSchema,
  HistoryPage: HistoryPageSchema,
  Message: MessageFrameSchema,
  MessageId: MessageIdSchema,
  User: UserSchema,
  Member: MemberSchema,
  Change: ChangeFrameSchema,
  Moderation: ModerationFrameSchema,
  SettingsChange: SettingsFrameSchema,
  MemberPage: MemberPageSchema,
  PostMessageRequest: PostMessageRequestSchema,
  PostMessageResult: PostMessageResultSchema,
  RoomSettings: RoomSettingsSchema,
  OperatorRoomList: OperatorRoomListSchema,
  InstanceList: InstanceListSchema,
  InstanceBan: InstanceBanSchema,
  InstanceBanList: InstanceBanListSchema,
  InstanceBanRequest: InstanceBanRequestSchema,
  OperatorModerationRequest: OperatorModerationRequestSchema,
  OperatorActionResult: OperatorActionResultSchema,
  OperatorInviteRequest: OperatorInviteRequestSchema,
  OperatorInvite: OperatorInviteSchema,
  BotList: BotListSchema,
  BotCreateRequest: BotCreateRequestSchema,
  BotCreated: BotCreatedSchema,
  BotWebhookRequest: BotWebhookRequestSchema,
  BotWebhookSet: BotWebhookSetSchema,
  WebhookStatusList: WebhookStatusListSchema,
} satisfies Record<string, Schema>;
type Component = keyof typeof COMPONENTS;

const CONVERSION: ConversionConfig = {
  target: 'draft-2020-12',
  definitions: COMPONENTS,
  overrideRef: ({ referenceId }) => `#/components/schemas/${referenceId}`,
  // `check` actions are rules written as code (a display name's, a room name's, a ban request's
  // "exactly one of"): JSON Schema cannot say them, so the document gives the shape and, where
  // a check has a pattern that says it, the pattern. Any other action or schema the converter
  // cannot express still throws, so a new one is noticed rather than dropped.
  overrideAction: ({ valibotAction, jsonSchema }) => {
    if (valibotAction.type !== 'check') return undefined;
    if ('requirement' in valibotAction && valibotAction.requirement === isMessageId)
      return { ...jsonSchema, pattern: MESSAGE_ID_PATTERN.source };
    return jsonSchema;
  },
};

/** A schema converted on its own (a parameter, an inline body): references point into components. */
function schemaOf(schema: Schema): JsonSchema {
  const { $schema: _schema, $defs: _defs, ...rest } = toJsonSchema(schema, CONVERSION);
  return rest;
}

type Method = 'get' | 'post' | 'put' | 'delete';
type ParameterPlace = 'path' | 'query' | 'header';
/** How a route authenticates (see SECURITY_SCHEMES). */
type Auth = 'operator' | 'bot' | 'metrics' | 'reader';
/** An error a route answers: a code (its usual status) or a code with the status it comes with. */
type ErrorAnswer = HttpErrorCode | readonly [HttpErrorCode, number];
type Body = Component | { type: string; schema?: JsonSchema };

interface Route {
  method: Method;
  /** As Fastify registers it (`:room`). */
  path: string;
  tag: string;
  summary: string;
  description?: string;
  auth?: Auth;
  params?: ObjectSchema;
  query?: ObjectSchema;
  headers?: ObjectSchema;
  body?: Component;
  /** The body may be left out (then every field takes its default). */
  bodyOptional?: boolean;
  /** Successful answers by status. */
  ok: Record<number, { description: string; body?: Body | Body[]; headers?: Record<string, unknown> }>;
  errors: ErrorAnswer[];
  /** Charged to the address's HTTP rate before anything else (http/admission.ts METERED_PREFIXES). */
  metered?: boolean;
  /** Asks the engine (Redis): answers 503 `unavailable` when it cannot. */
  engine?: boolean;
}

/**
 * What a JSON body can be refused with before the route sees it (http/http-error.ts): malformed
 * JSON, an unsupported content type (415, with the code `bad_request`), a body over the route's
 * limit (413 `too_large`).
 */
const BODY_ERRORS: ErrorAnswer[] = ['bad_request', ['bad_request', 415], 'too_large'];
/** The operator's routes exist only with ADMIN_TOKEN set; every one of them needs it. */
const OPERATOR_ERRORS: ErrorAnswer[] = ['unauthorized', 'not_found'];
const OPERATOR_NOTE = 'Only with ADMIN_TOKEN set (otherwise 404 `not_found`).';
/** A room's history and people are read by whom its WebSocket lets in (http/room-read-access.ts). */
const READER_ERRORS: ErrorAnswer[] = ['unauthorized', 'banned', 'invite_required'];
const READER_NOTE =
  'Read as the WebSocket would let you in: send `Authorization: Bearer <identity token>` (a welcome’s `token`; ' +
  'a bot its key, the operator ADMIN_TOKEN). A public room is read without one; an invite-only room only by ' +
  'those it let in, its owner and moderators (otherwise 403 `invite_required`); a banned id or address gets ' +
  '403 `banned` with `until`. A token that is none of these is 401 `unauthorized`.';

const ROUTES: Route[] = [
  {
    method: 'get',
    path: CHAT_SOCKET_ROUTE,
    tag: 'websocket',
    summary: 'A room’s WebSocket endpoint (chat; its frames are in the protocol README)',
    description:
      `Upgraded to a WebSocket (trailing slash optional). The subprotocol chooses the protocol: \`${PROTOCOL_V1}\` ` +
      'for Parley’s own, none for the reference protocol (see the protocol README). Refusals before the upgrade ' +
      'are HTTP answers; a bad room name, display name or `since` is an `error` frame and close 4400 after the ' +
      'upgrade, since a browser cannot read a refused upgrade’s body.',
    params: RoomPathParamsSchema,
    query: ConnectQuerySchema,
    ok: { 101: { description: 'Switching protocols: frames as the protocol README says' } },
    errors: ['upgrade_required', 'origin_not_allowed', 'too_many_connections', 'rate_limited', 'server_full'],
  },
  {
    method: 'get',
    path: ROOM_LIST_PATH,
    tag: 'rooms',
    summary: 'The most active rooms',
    description: 'At most 50, most active first; unlisted rooms are not shown. At most a second old.',
    metered: true,
    engine: true,
    ok: { 200: { description: 'The rooms', body: 'RoomList' } },
    errors: [],
  },
  {
    method: 'get',
    path: ROOM_MESSAGES_ROUTE,
    tag: 'rooms',
    summary: 'A page of a room’s history',
    description:
      'Older messages with `before` (scroll-back), newer ones with `after` (finishing a recovery the welcome ' +
      'cut short; then with the changes, moderation and settings of that stretch). Pages are cut to what the ' +
      `address may still be sent (HISTORY_BYTES_PER_IP). ${READER_NOTE}`,
    auth: 'reader',
    params: RoomPathParamsSchema,
    query: RoomMessagesQuerySchema,
    metered: true,
    engine: true,
    ok: { 200: { description: 'The page, oldest first', body: 'HistoryPage' } },
    errors: ['invalid_room', 'bad_request', 'rate_limited', ...READER_ERRORS],
  },
  {
    method: 'post',
    path: ROOM_MESSAGES_ROUTE,
    tag: 'bots',
    summary: 'A bot posts a message',
    description:
      'With the key of a bot the operator made. The post takes a socket message’s path: one order with them, ' +
      'recoverable, refused by bans, mutes, read-only, slow mode and invite-only with the socket’s codes.',
    auth: 'bot',
    params: RoomPathParamsSchema,
    headers: PostMessageHeadersSchema,
    body: 'PostMessageRequest',
    metered: true,
    engine: true,
    ok: {
      201: { description: 'Posted', body: 'PostMessageResult' },
      200: {
        description: 'Already posted with this Idempotency-Key: the first id, `duplicate`',
        body: 'PostMessageResult',
      },
    },
    errors: [
      'unauthorized',
      'invalid_room',
      ...BODY_ERRORS,
      'too_large',
      'banned',
      'muted',
      'read_only',
      'invite_required',
      'forbidden',
      'not_found',
      'client_msg_id_reused',
      'slow_mode',
      'rate_limited',
      'quota_exceeded',
      // The operator's before-publish hook refused the text (BEFORE_PUBLISH_URL).
      'rejected',
    ],
  },
  {
    method: 'get',
    path: ROOM_MEMBERS_ROUTE,
    tag: 'rooms',
    summary: 'A page of the people present in a room',
    description:
      'Walk from no cursor, passing each page’s `cursor`, until a page comes without one; merge pages by `id`. ' +
      READER_NOTE,
    auth: 'reader',
    params: RoomPathParamsSchema,
    query: RoomMembersQuerySchema,
    metered: true,
    engine: true,
    ok: { 200: { description: 'The page', body: 'MemberPage' } },
    errors: ['invalid_room', 'bad_request', ...READER_ERRORS],
  },
  {
    method: 'get',
    path: ADMIN_ROOMS_PATH,
    tag: 'operator',
    summary: 'Every active room, unlisted ones included',
    description: `The 200 most active, occupied rooms first. ${OPERATOR_NOTE}`,
    auth: 'operator',
    metered: true,
    engine: true,
    ok: { 200: { description: 'The rooms', body: 'OperatorRoomList' } },
    errors: OPERATOR_ERRORS,
  },
  {
    method: 'get',
    path: ADMIN_INSTANCES_PATH,
    tag: 'operator',
    summary: 'The server’s instances and their connections',
    description: `Every instance that reported in the last 15 s. ${OPERATOR_NOTE}`,
    auth: 'operator',
    metered: true,
    engine: true,
    ok: { 200: { description: 'The instances', body: 'InstanceList' } },
    errors: OPERATOR_ERRORS,
  },
  {
    method: 'get',
    path: ADMIN_BANS_PATH,
    tag: 'operator',
    summary: 'Instance-wide bans in force',
    description: OPERATOR_NOTE,
    auth: 'operator',
    metered: true,
    engine: true,
    ok: { 200: { description: 'The bans', body: 'InstanceBanList' } },
    errors: OPERATOR_ERRORS,
  },
  {
    method: 'post',
    path: ADMIN_BANS_PATH,
    tag: 'operator',
    summary: 'Bans a user id or an address from the whole server',
    description: `Exactly one of \`userId\` and \`address\`. Their sockets close on every instance. ${OPERATOR_NOTE}`,
    auth: 'operator',
    body: 'InstanceBanRequest',
    metered: true,
    engine: true,
    ok: { 201: { description: 'The ban', body: 'InstanceBan' } },
    errors: [...OPERATOR_ERRORS, ...BODY_ERRORS, 'too_many_bans'],
  },
  {
    method: 'delete',
    path: ADMIN_BAN_ROUTE,
    tag: 'operator',
    summary: 'Lifts an instance-wide ban',
    description: OPERATOR_NOTE,
    auth: 'operator',
    params: BanPathParamsSchema,
    metered: true,
    engine: true,
    ok: { 204: { description: 'Lifted' } },
    errors: OPERATOR_ERRORS,
  },
  {
    method: 'post',
    path: ADMIN_MODERATE_ROUTE,
    tag: 'operator',
    summary: 'A moderation action in a room, as the operator',
    description: `As a \`moderate\` frame; the operator outranks every role. ${OPERATOR_NOTE}`,
    auth: 'operator',
    params: RoomPathParamsSchema,
    body: 'OperatorModerationRequest',
    metered: true,
    engine: true,
    ok: { 200: { description: 'Done: the action’s entry in the room’s log', body: 'OperatorActionResult' } },
    errors: [...OPERATOR_ERRORS, 'invalid_room', ...BODY_ERRORS, 'not_present', 'forbidden'],
  },
  {
    method: 'post',
    path: ADMIN_PURGE_ROUTE,
    tag: 'operator',
    summary: 'Deletes every retained message of a room',
    description: `Present and recovering clients see each message go. No body. ${OPERATOR_NOTE}`,
    auth: 'operator',
    params: RoomPathParamsSchema,
    metered: true,
    engine: true,
    ok: { 200: { description: 'Done, with how many messages went', body: 'OperatorActionResult' } },
    errors: [...OPERATOR_ERRORS, 'invalid_room', 'forbidden'],
  },
  {
    method: 'get',
    path: ADMIN_ROOM_MESSAGES_ROUTE,
    tag: 'operator',
    summary: 'A page of any room’s history, as the operator reads it',
    description:
      'The latest messages, or those `before` an id; unlisted and invite-only rooms too. Not charged to ' +
      `HISTORY_BYTES_PER_IP. ${OPERATOR_NOTE}`,
    auth: 'operator',
    params: RoomPathParamsSchema,
    query: OperatorMessagesQuerySchema,
    metered: true,
    engine: true,
    ok: { 200: { description: 'The page, oldest first', body: 'HistoryPage' } },
    errors: [...OPERATOR_ERRORS, 'invalid_room', 'bad_request'],
  },
  {
    method: 'delete',
    path: ADMIN_ROOM_MESSAGE_ROUTE,
    tag: 'operator',
    summary: 'Deletes one message of a room',
    description:
      'As a moderator’s `delete`: an entry of the room’s log, so present sockets get the `delete` event and ' +
      'recovering clients never see the message. A retry is answered with the same entry. 404 when the room has ' +
      `no such message (deleted already, or older than its history). ${OPERATOR_NOTE}`,
    auth: 'operator',
    params: RoomMessagePathParamsSchema,
    metered: true,
    engine: true,
    ok: { 200: { description: 'Deleted: the deletion’s entry in the room’s log', body: 'OperatorActionResult' } },
    errors: [...OPERATOR_ERRORS, 'invalid_room', 'bad_request'],
  },
  {
    method: 'post',
    path: ADMIN_INVITES_ROUTE,
    tag: 'operator',
    summary: 'An invite to a room',
    description:
      'As the owner’s and moderators’ `invite` frame: signed, expiring, for this room only; whoever connects ' +
      'with it is let into the invite-only room for good. The link opens the web app: the asking page’s origin ' +
      `when this server takes it, else the first PUBLIC_ORIGIN, else this server’s. The body may be left out. ${OPERATOR_NOTE}`,
    auth: 'operator',
    params: RoomPathParamsSchema,
    body: 'OperatorInviteRequest',
    bodyOptional: true,
    metered: true,
    // (The secret that signs invites is read from the engine once.)
    engine: true,
    ok: { 201: { description: 'The invite and its link', body: 'OperatorInvite' } },
    errors: [...OPERATOR_ERRORS, 'invalid_room', ...BODY_ERRORS],
  },
  {
    method: 'get',
    path: ADMIN_BOTS_PATH,
    tag: 'operator',
    summary: 'The bots',
    description: OPERATOR_NOTE,
    auth: 'operator',
    metered: true,
    engine: true,
    ok: { 200: { description: 'The bots, oldest first', body: 'BotList' } },
    errors: OPERATOR_ERRORS,
  },
  {
    method: 'post',
    path: ADMIN_BOTS_PATH,
    tag: 'operator',
    summary: 'Makes a bot and shows its key, once',
    description:
      'The server keeps only a hash of the key; at most MAX_BOTS bots. With `webhookUrl`, the bot’s mentions are ' +
      `delivered there, signed with the webhook secret shown once beside the key. ${OPERATOR_NOTE}`,
    auth: 'operator',
    body: 'BotCreateRequest',
    metered: true,
    engine: true,
    ok: { 201: { description: 'The bot and its key', body: 'BotCreated' } },
    errors: [...OPERATOR_ERRORS, ...BODY_ERRORS, 'too_many_bots'],
  },
  {
    method: 'delete',
    path: ADMIN_BOT_ROUTE,
    tag: 'operator',
    summary: 'Deletes a bot; its key stops working at once',
    description: OPERATOR_NOTE,
    auth: 'operator',
    params: BotPathParamsSchema,
    metered: true,
    engine: true,
    ok: { 204: { description: 'Deleted' } },
    errors: OPERATOR_ERRORS,
  },
  {
    method: 'put',
    path: ADMIN_BOT_WEBHOOK_ROUTE,
    tag: 'operator',
    summary: 'Sets the URL a bot’s mentions are delivered to',
    description:
      'A message that mentions the bot (`@<name>`) is POSTed there, signed with the webhook secret this answer ' +
      'shows once (a new one each time; the one before stops signing); a JSON answer `{"text": …}` is posted ' +
      'as the bot. Unless WEBHOOK_ALLOW_PRIVATE, a URL whose host is a non-public address is refused. ' +
      OPERATOR_NOTE,
    auth: 'operator',
    params: BotPathParamsSchema,
    body: 'BotWebhookRequest',
    metered: true,
    engine: true,
    ok: { 200: { description: 'The bot and its new webhook secret', body: 'BotWebhookSet' } },
    errors: [...OPERATOR_ERRORS, ...BODY_ERRORS],
  },
  {
    method: 'delete',
    path: ADMIN_BOT_WEBHOOK_ROUTE,
    tag: 'operator',
    summary: 'Stops delivering a bot’s mentions',
    description: OPERATOR_NOTE,
    auth: 'operator',
    params: BotPathParamsSchema,
    metered: true,
    engine: true,
    ok: { 204: { description: 'The bot has no webhook URL now' } },
    errors: OPERATOR_ERRORS,
  },
  {
    method: 'get',
    path: ADMIN_WEBHOOKS_PATH,
    tag: 'operator',
    summary: 'The webhooks and bots’ webhook URLs, and how deliveries to them went',
    description:
      'Each instance-wide webhook (WEBHOOK_URLS) and each bot’s webhook URL, redacted, with every instance’s ' +
      'counts since it started, its last attempt and its last 20 failures, as reported in the last 15 s (this ' +
      `instance’s: now). ${OPERATOR_NOTE}`,
    auth: 'operator',
    metered: true,
    engine: true,
    ok: { 200: { description: 'The webhooks', body: 'WebhookStatusList' } },
    errors: OPERATOR_ERRORS,
  },
  {
    method: 'get',
    path: '/',
    tag: 'server',
    summary: 'The web app, or what this server is when it is deployed without it',
    description:
      'With WEB_DIST_DIR set, the web app’s index.html (as for every path that is not the API’s); without it, a JSON note.',
    ok: {
      200: { description: 'The web app or the note', body: ['ServerInfo', { type: 'text/html' }] },
    },
    errors: [],
  },
  {
    method: 'get',
    path: '/healthz',
    tag: 'server',
    summary: 'Liveness: the process answers',
    ok: { 200: { description: 'Alive', body: 'Health' } },
    errors: [],
  },
  {
    method: 'get',
    path: '/readyz',
    tag: 'server',
    summary: 'Readiness: the engine (Redis) can carry messages',
    metered: true,
    ok: {
      200: { description: 'Ready', body: 'Readiness' },
      503: { description: 'Not ready: the engine cannot be reached', body: 'Readiness' },
    },
    errors: [],
  },
  {
    method: 'get',
    path: '/metrics',
    tag: 'server',
    summary: 'Prometheus metrics',
    description: 'Needs `Authorization: Bearer <METRICS_TOKEN>` when METRICS_TOKEN is set; open otherwise.',
    auth: 'metrics',
    metered: true,
    ok: {
      200: {
        description: 'The Prometheus text exposition format',
        body: { type: 'text/plain', schema: { type: 'string' } },
      },
    },
    errors: ['unauthorized'],
  },
  {
    method: 'get',
    path: OPENAPI_PATH,
    tag: 'server',
    summary: 'This API as an OpenAPI 3.1 document',
    description: 'Public and cacheable (it holds no secrets); answers 304 to a matching If-None-Match.',
    metered: true,
    ok: {
      200: {
        description: 'The OpenAPI 3.1 document of the HTTP API',
        body: { type: 'application/json', schema: { type: 'object' } },
        headers: { ETag: { schema: { type: 'string' } }, 'Cache-Control': { schema: { type: 'string' } } },
      },
      304: { description: 'Not modified (If-None-Match matched the ETag)' },
    },
    errors: [],
  },
];

const SECURITY: Record<Auth, Record<string, string[]>[]> = {
  operator: [{ operatorToken: [] }],
  bot: [{ botKey: [] }],
  // Open unless METRICS_TOKEN is set: either no credentials or the token.
  metrics: [{ metricsToken: [] }, {}],
  // A room's reads: anonymous, or as whom the token names.
  reader: [{}, { identityToken: [] }, { botKey: [] }, { operatorToken: [] }],
};

const SECURITY_SCHEMES = {
  operatorToken: {
    type: 'http',
    scheme: 'bearer',
    description: 'The server’s ADMIN_TOKEN (the operator). Without ADMIN_TOKEN set, the operator’s routes are 404s.',
  },
  botKey: {
    type: 'http',
    scheme: 'bearer',
    description: 'A bot’s key, shown once by `POST /api/admin/bots`.',
  },
  metricsToken: {
    type: 'http',
    scheme: 'bearer',
    description: 'The server’s METRICS_TOKEN, when it is set.',
  },
  identityToken: {
    type: 'http',
    scheme: 'bearer',
    description: 'A person’s identity token: the `token` of their last `welcome` (the one the WebSocket presents).',
  },
};

/** `/api/rooms/:room/messages` → `/api/rooms/{room}/messages`. */
export function openApiPath(fastifyPath: string): string {
  return fastifyPath.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
}

function parameters(place: ParameterPlace, schema: ObjectSchema | undefined, allOptional = false) {
  return Object.entries(schema?.entries ?? {}).map(([name, entry]) => {
    const { description, ...rest } = schemaOf(entry);
    return {
      name,
      in: place,
      required: place === 'path' || (!allOptional && entry.type !== 'optional'),
      ...(description !== undefined ? { description } : {}),
      schema: rest,
    };
  });
}

function content(body: Body | Body[]) {
  const bodies = Array.isArray(body) ? body : [body];
  return Object.fromEntries(
    bodies.map((b) =>
      typeof b === 'string'
        ? ['application/json', { schema: { $ref: `#/components/schemas/${b}` } }]
        : [b.type, b.schema === undefined ? {} : { schema: b.schema }],
    ),
  );
}

/**
 * The codes a route answers, by status: one response per status, its `error` narrowed to them.
 * Responses are shared through `components.responses` (most routes answer the same few).
 */
function errorResponses(route: Route, shared: Record<string, unknown>) {
  const answers: ErrorAnswer[] = [...route.errors, 'internal'];
  if (route.metered === true) answers.push('rate_limited');
  if (route.engine === true) answers.push('unavailable');
  const byStatus = new Map<number, Set<HttpErrorCode>>();
  for (const answer of answers) {
    const [code, status] = typeof answer === 'string' ? [answer, HTTP_ERROR_CODES[answer]] : answer;
    byStatus.set(status, (byStatus.get(status) ?? new Set()).add(code));
  }
  return Object.fromEntries(
    [...byStatus].map(([status, codes]) => {
      const name = `error-${status}-${[...codes].join('-')}`;
      shared[name] ??= errorResponse(status, [...codes]);
      return [String(status), { $ref: `#/components/responses/${name}` }];
    }),
  );
}

function errorResponse(status: number, codes: HttpErrorCode[]) {
  const headers: Record<string, unknown> = {};
  if (status === 429 || status === 503) headers['Retry-After'] = { $ref: '#/components/headers/RetryAfter' };
  if (codes.includes('unauthorized')) headers['WWW-Authenticate'] = { schema: { const: 'Bearer' } };
  return {
    description: codes.map((code) => `\`${code}\``).join(', '),
    ...(Object.keys(headers).length > 0 ? { headers } : {}),
    content: {
      'application/json': {
        schema: { allOf: [{ $ref: '#/components/schemas/HttpError' }], properties: { error: { enum: codes } } },
      },
    },
  };
}

function operation(route: Route, shared: Record<string, unknown>) {
  const parametersOf = [
    ...parameters('path', route.params),
    ...parameters('query', route.query, route.path === CHAT_SOCKET_ROUTE),
    ...parameters('header', route.headers),
  ];
  if (route.path === CHAT_SOCKET_ROUTE) {
    parametersOf.push({
      name: 'Sec-WebSocket-Protocol',
      in: 'header',
      required: false,
      description: `\`${PROTOCOL_V1}\` for Parley’s protocol (then \`name\` is required), and the identity token as \`${TOKEN_PROTOCOL_PREFIX}<token>\`.`,
      schema: { type: 'string' },
    });
  }
  const ok = Object.fromEntries(
    Object.entries(route.ok).map(([status, answer]) => [
      status,
      {
        description: answer.description,
        ...(answer.headers !== undefined ? { headers: answer.headers } : {}),
        ...(answer.body !== undefined ? { content: content(answer.body) } : {}),
      },
    ]),
  );
  return {
    operationId: `${route.method}${openApiPath(route.path)
      .split(/[^A-Za-z0-9]+/)
      .map((word) => (word === '' ? '' : word[0]!.toUpperCase() + word.slice(1)))
      .join('')}`,
    tags: [route.tag],
    summary: route.summary,
    ...(route.description !== undefined ? { description: route.description } : {}),
    ...(route.auth !== undefined ? { security: SECURITY[route.auth] } : {}),
    ...(parametersOf.length > 0 ? { parameters: parametersOf } : {}),
    ...(route.body !== undefined
      ? { requestBody: { required: route.bodyOptional !== true, content: content(route.body) } }
      : {}),
    responses: { ...ok, ...errorResponses(route, shared) },
  };
}

/** The server's version, from its package.json (beside src/ and dist/ alike). */
function serverVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
      version?: unknown;
    };
    return typeof pkg.version === 'string' ? pkg.version : '0.0.0';
  } catch {
    return '0.0.0';
  }
}

/**
 * Builds the OpenAPI 3.1 document of the HTTP API: every route the server can register, with
 * the protocol's schemas for its parameters and bodies.
 *
 * @returns A JSON-serialisable object.
 */
export function openApiDocument(): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  const responses: Record<string, unknown> = {};
  for (const route of ROUTES) (paths[openApiPath(route.path)] ??= {})[route.method] = operation(route, responses);
  return {
    openapi: '3.1.0',
    info: {
      title: 'Parley HTTP API',
      version: serverVersion(),
      description:
        'Parley’s HTTP API: the room list, history and member pages, bots’ posts, the operator’s API, health and ' +
        'metrics. Chat itself happens over the WebSocket endpoint `/ws/chat/{room}/` (described below as the ' +
        'HTTP request it starts as; its frames are in the protocol README). Errors are JSON ' +
        '`{"error": <code>, "message": <sentence>}` with the codes of the protocol’s HTTP_ERROR_CODES, the ' +
        'socket’s codes where they mean the same. Every `/api/` route, `/readyz` and `/metrics` are charged to ' +
        'the address’s HTTP rate (429 `rate_limited` with Retry-After).',
    },
    tags: [
      { name: 'rooms', description: 'Public reads: the room list, history and member pages' },
      { name: 'bots', description: 'Programs that post over HTTP with a bot key' },
      { name: 'operator', description: 'The operator’s API (ADMIN_TOKEN)' },
      { name: 'websocket', description: 'The room endpoint, as the HTTP request that is upgraded' },
      { name: 'server', description: 'Health, metrics, this document and the web app' },
    ],
    paths,
    components: {
      schemas: toJsonSchemaDefs(COMPONENTS, CONVERSION),
      responses,
      headers: {
        RetryAfter: {
          description: 'Seconds to wait before trying again',
          schema: { type: 'string', pattern: '^[0-9]+$' },
        },
      },
      securitySchemes: SECURITY_SCHEMES,
    },
  };
}

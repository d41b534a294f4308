import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Validator } from '@seriousme/openapi-schema-validator';
import { Ajv2020 } from 'ajv/dist/2020.js';
import type { RouteOptions } from 'fastify';
import { HTTP_ERROR_CODES, OPENAPI_PATH } from '@parley/protocol';
import { README, routeTable, withRouteTable } from '../scripts/route-table.ts';
import { buildApp } from '../src/app.ts';
import { loadConfig } from '../src/config.ts';
import { openApiDocument, openApiPath } from '../src/http/openapi-document.ts';
import { UNLIMITED, startApp, type RunningApp } from './helpers/app.ts';
import { connectV1, postV1 } from './helpers/ws-client.ts';

/**
 * The OpenAPI document (issue 17): valid OpenAPI 3.1, listing every route the server registers,
 * and saying what real answers look like.
 */

const ADMIN_TOKEN = 'operator-token-for-the-openapi-tests-0123';
const operatorAuth = { authorization: `Bearer ${ADMIN_TOKEN}` };
const operator = { ...operatorAuth, 'content-type': 'application/json' };

type Doc = Record<string, any>;
const doc: Doc = openApiDocument();
const METHODS = ['get', 'post', 'put', 'patch', 'delete', 'head', 'options'];

describe('the OpenAPI document', () => {
  test('is a valid OpenAPI 3.1 document', async () => {
    const validator = new Validator();
    const result = await validator.validate(doc);
    assert.deepEqual(result, { valid: true });
    assert.equal(validator.version, '3.1');
    // The validator is not one that passes everything: a document without its info is refused.
    const { info: _info, ...broken } = doc;
    assert.equal((await new Validator().validate(broken)).valid, false);
  });

  test('every component schema is valid JSON Schema 2020-12, and every reference resolves', () => {
    const ajv = new Ajv2020({ strict: true });
    for (const [name, schema] of Object.entries(doc.components.schemas)) {
      assert.equal(ajv.validateSchema(schema as object), true, `${name}: ${ajv.errorsText()}`);
    }
    const refs = JSON.stringify(doc).match(/"\$ref":"[^"]*"/g) ?? [];
    assert.ok(refs.length > 50);
    for (const ref of refs) {
      const pointer = ref.slice('"$ref":"#/'.length, -1).split('/');
      let at: any = doc;
      for (const key of pointer) at = at?.[key.replaceAll('~1', '/').replaceAll('~0', '~')];
      assert.notEqual(at, undefined, `${ref} points at nothing`);
    }
  });

  test('every operation has an id of its own, a summary, a success answer and an internal error', () => {
    const ids = new Set<string>();
    for (const [path, item] of Object.entries<Doc>(doc.paths)) {
      for (const [method, op] of Object.entries<Doc>(item)) {
        assert.ok(!ids.has(op.operationId), `${op.operationId} twice`);
        ids.add(op.operationId);
        assert.ok(op.summary, `${method} ${path}: no summary`);
        assert.ok(
          Object.keys(op.responses).some((status) => /^[123]/.test(status)),
          `${method} ${path}: no success`,
        );
        assert.ok(op.responses['500'], `${method} ${path}: no 500`);
        // Path parameters and {placeholders} agree.
        const placeholders = [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]).sort();
        const params = (op.parameters ?? [])
          .filter((p: Doc) => p.in === 'path')
          .map((p: Doc) => p.name)
          .sort();
        assert.deepEqual(params, placeholders, `${method} ${path}`);
      }
    }
  });

  test('every HTTP error code of the protocol is answered by some route', () => {
    const answered = new Set(
      Object.values<Doc>(doc.components.responses).flatMap(
        (response) => response.content['application/json'].schema.properties.error.enum,
      ),
    );
    assert.deepEqual(
      Object.keys(HTTP_ERROR_CODES).filter((code) => !answered.has(code)),
      [],
      'codes no documented route answers: add them to the routes that do (src/http/openapi-document.ts)',
    );
  });

  test('the README’s table of routes is the document’s', () => {
    const readme = readFileSync(README, 'utf8');
    assert.ok(routeTable(doc).includes('| POST | `/api/rooms/{room}/messages` | Bearer bot key |'));
    assert.equal(
      withRouteTable(readme, routeTable(doc)),
      readme,
      'README.md differs from the document: run `pnpm --filter @parley/server run routes-table`',
    );
  });

  test('bearer authentication on the operator’s and the bots’ routes, optional on a room’s reads, none on the room list', () => {
    const security = (method: string, path: string) => doc.paths[path][method].security;
    for (const [path, item] of Object.entries<Doc>(doc.paths)) {
      if (!path.startsWith('/api/admin/')) continue;
      for (const method of Object.keys(item)) assert.deepEqual(security(method, path), [{ operatorToken: [] }], path);
    }
    assert.deepEqual(security('post', '/api/rooms/{room}/messages'), [{ botKey: [] }]);
    // A room's reads: anonymous, or as whom the Bearer token names.
    const reader = [{}, { identityToken: [] }, { botKey: [] }, { operatorToken: [] }];
    assert.deepEqual(security('get', '/api/rooms/{room}/messages'), reader);
    assert.deepEqual(security('get', '/api/rooms/{room}/members'), reader);
    assert.equal(security('get', '/api/rooms'), undefined);
    assert.equal(security('get', OPENAPI_PATH), undefined);
    for (const scheme of Object.values<Doc>(doc.components.securitySchemes)) {
      assert.deepEqual([scheme.type, scheme.scheme], ['http', 'bearer']);
    }
  });
});

describe('every route the server registers is in the document', () => {
  const webDir = mkdtempSync(join(tmpdir(), 'parley-openapi-web-'));
  after(() => rmSync(webDir, { recursive: true, force: true }));

  /** The routes an app built with these settings registers, as `METHOD /openapi/{path}`. */
  async function registeredRoutes(env: Record<string, string>): Promise<Set<string>> {
    const routes = new Set<string>();
    const onRoute = (route: RouteOptions) => {
      for (const method of [route.method].flat()) routes.add(`${method} ${openApiPath(route.url)}`);
    };
    const app = await buildApp(loadConfig({ LOG_LEVEL: 'silent', ...UNLIMITED, ...env }), { onRoute });
    await app.close();
    return routes;
  }

  const documented = new Set(
    Object.entries<Doc>(doc.paths).flatMap(([path, item]) =>
      Object.keys(item)
        .filter((method) => METHODS.includes(method))
        .map((method) => `${method.toUpperCase()} ${path}`),
    ),
  );

  /**
   * Registered but deliberately not in the document, each for its reason. (HEAD is answered for
   * every GET route by Fastify itself, exposeHeadRoutes, and not listed either.)
   */
  const NOT_DOCUMENTED = new Map([
    // CORS preflight, answered by @fastify/cors for every path (ALLOWED_ORIGINS decides).
    ['OPTIONS *', 'CORS preflight'],
    // The room endpoint's catch-all: paths it cannot match (several segments, a name too long
    // for the router) get the same answers as GET /ws/chat/{room}/, then an invalid_room close.
    ['GET /ws/chat/*', 'room endpoint catch-all'],
    // The web app's built files (WEB_DIST_DIR), one route each; their names change every build.
    ['GET /index.html', 'web app file'],
    ['GET /assets/app-1234.js', 'web app file'],
  ]);

  let withoutWebApp: Set<string>;
  let withWebApp: Set<string>;
  before(async () => {
    writeFileSync(join(webDir, 'index.html'), '<!doctype html><title>Parley</title>');
    mkdirSync(join(webDir, 'assets'));
    writeFileSync(join(webDir, 'assets', 'app-1234.js'), 'console.log(1)');
    // Every optional route on: the operator's API (ADMIN_TOKEN); `/` is the JSON note without
    // the web app and the web app's page with it.
    withoutWebApp = await registeredRoutes({ ADMIN_TOKEN });
    withWebApp = await registeredRoutes({ ADMIN_TOKEN, WEB_DIST_DIR: webDir });
  });

  test('registered routes are documented', () => {
    const registered = new Set([...withoutWebApp, ...withWebApp]);
    assert.ok(registered.size > 20, `only ${registered.size} routes seen`);
    const missing = [...registered].filter(
      (route) => !documented.has(route) && !NOT_DOCUMENTED.has(route) && !route.startsWith('HEAD '),
    );
    assert.deepEqual(missing, [], 'routes the server registers that the document does not list');
    for (const route of [...registered].filter((r) => r.startsWith('HEAD '))) {
      assert.ok(registered.has(route.replace(/^HEAD /, 'GET ')), `${route} without its GET`);
    }
  });

  test('documented routes are registered, and the list of exceptions is not stale', () => {
    const notRegistered = [...documented].filter((route) => !withoutWebApp.has(route));
    assert.deepEqual(notRegistered, [], 'routes the document lists that the server does not register');
    for (const route of NOT_DOCUMENTED.keys()) {
      assert.ok(withoutWebApp.has(route) || withWebApp.has(route), `${route} is no longer registered`);
    }
  });

  test('the operator’s routes exist only with ADMIN_TOKEN, as the document says', async () => {
    const plain = await registeredRoutes({});
    const admin = [...documented].filter((route) => route.includes(' /api/admin/'));
    assert.ok(admin.length >= 9);
    for (const route of admin) assert.ok(!plain.has(route), `${route} without ADMIN_TOKEN`);
    for (const [path, item] of Object.entries<Doc>(doc.paths)) {
      if (!path.startsWith('/api/admin/')) continue;
      for (const op of Object.values<Doc>(item)) assert.match(op.description, /ADMIN_TOKEN/);
    }
  });
});

describe('real answers match the document', () => {
  let running: RunningApp;
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  ajv.addSchema(doc, 'openapi.json');

  before(async () => {
    running = await startApp(undefined, { ADMIN_TOKEN, HISTORY_PAGE_SIZE: '50' });
  });
  after(() => running.app.close());

  /** The response the document gives for this operation and status (references followed). */
  function documentedResponse(method: string, path: string, status: number): Doc {
    const op = doc.paths[path]?.[method];
    assert.ok(op, `${method} ${path} is not documented`);
    let response = op.responses[String(status)];
    assert.ok(response, `${method} ${path} answered ${status}, which the document does not list`);
    if (response.$ref !== undefined) response = doc.components.responses[response.$ref.split('/').pop()];
    return response;
  }

  /** The validator of a documented JSON answer (its references resolved in the document). */
  function validatorOf(method: string, path: string, status: number) {
    const schema = documentedResponse(method, path, status).content?.['application/json']?.schema;
    assert.ok(schema, `${method} ${path} ${status} has no JSON body`);
    return ajv.compile(JSON.parse(JSON.stringify(schema).replaceAll('"#/components/', '"openapi.json#/components/')));
  }

  /** Asks the running app and checks the answer against the document. */
  async function check(
    method: string,
    path: string,
    url: string,
    init: RequestInit = {},
  ): Promise<{ status: number; body: any; res: Response }> {
    const res = await fetch(`${running.httpUrl}${url}`, { ...init, method: method.toUpperCase() });
    const response = documentedResponse(method, path, res.status);
    const text = await res.text();
    if (response.content === undefined) {
      assert.equal(text, '', `${method} ${url} ${res.status}: a body the document does not give`);
      return { status: res.status, body: undefined, res };
    }
    const type = res.headers.get('content-type') ?? '';
    const documentedType = Object.keys(response.content).find((t) => type.startsWith(t));
    assert.ok(documentedType, `${method} ${url} ${res.status}: content-type ${type} not documented`);
    if (documentedType !== 'application/json') return { status: res.status, body: text, res };
    const body = JSON.parse(text);
    const validate = validatorOf(method, path, res.status);
    assert.ok(validate(body), `${method} ${url} ${res.status}: ${ajv.errorsText(validate.errors)}\n${text}`);
    return { status: res.status, body, res };
  }

  test('the validator refuses what the document does not allow', () => {
    const rooms = validatorOf('get', '/api/rooms', 200);
    assert.equal(rooms({ rooms: [{ room: 'lobby', members: 1, lastActivity: 1 }] }), true);
    assert.equal(rooms({ rooms: [{ room: 'lobby', members: '1', lastActivity: 1 }] }), false);
    assert.equal(rooms({}), false);
    const notFound = validatorOf('delete', '/api/admin/bots/{id}', 404);
    assert.equal(notFound({ error: 'not_found', message: 'x' }), true);
    assert.equal(notFound({ error: 'bad_request', message: 'x' }), false, 'the code is narrowed per status');
    assert.equal(notFound({ error: 'teapot', message: 'x' }), false);
  });

  test('the document is served as built, cacheable, with an ETag', async () => {
    const { body, res } = await check('get', OPENAPI_PATH, OPENAPI_PATH);
    assert.deepEqual(body, doc);
    assert.match(res.headers.get('cache-control') ?? '', /public/);
    assert.equal(res.headers.get('access-control-allow-origin'), '*');
    const etag = res.headers.get('etag');
    assert.ok(etag);
    const again = await check('get', OPENAPI_PATH, OPENAPI_PATH, { headers: { 'if-none-match': etag } });
    assert.equal(again.status, 304);
  });

  test('health, readiness, metrics and the server note', async () => {
    assert.equal((await check('get', '/healthz', '/healthz')).body.status, 'ok');
    assert.equal((await check('get', '/readyz', '/readyz')).body.status, 'ready');
    assert.match((await check('get', '/metrics', '/metrics')).body, /parley_connections/);
    assert.equal((await check('get', '/', '/')).body.name, 'parley');
  });

  test('a bot posts; the room list, a history page and a member page', async () => {
    const created = await check('post', '/api/admin/bots', '/api/admin/bots', {
      headers: operator,
      body: JSON.stringify({ name: 'Doc Bot' }),
    });
    assert.equal(created.status, 201);
    const post = (idempotencyKey: string) =>
      check('post', '/api/rooms/{room}/messages', '/api/rooms/openapi/messages', {
        headers: {
          authorization: `Bearer ${created.body.key}`,
          'idempotency-key': idempotencyKey,
          'content-type': 'application/json',
        },
        body: JSON.stringify({ text: 'hello from the document' }),
      });
    const first = await post('doc-1');
    assert.equal(first.status, 201);
    const retry = await post('doc-1');
    assert.deepEqual([retry.status, retry.body], [200, { id: first.body.id, duplicate: true }]);

    // Its webhook: set (a public URL; nothing mentions it here), refused on a private address, removed.
    const webhookPath = '/api/admin/bots/{id}/webhook';
    const webhookUrl = `/api/admin/bots/${created.body.bot.id}/webhook`;
    const set = await check('put', webhookPath, webhookUrl, {
      headers: operator,
      body: JSON.stringify({ url: 'https://bots.example.com/parley?key=abc123' }),
    });
    assert.deepEqual([set.status, set.body.bot.webhookUrl], [200, 'https://bots.example.com/parley?key=…']);
    const listed = await check('get', '/api/admin/webhooks', '/api/admin/webhooks', { headers: operatorAuth });
    assert.deepEqual(
      listed.body.webhooks.map((w: Doc) => [w.kind, w.bot?.name, w.url]),
      [['bot', 'Doc Bot', 'https://bots.example.com/parley?key=…']],
    );
    const private_ = await check('put', webhookPath, webhookUrl, {
      headers: operator,
      body: JSON.stringify({ url: 'http://10.0.0.1/hook' }),
    });
    assert.deepEqual([private_.status, private_.body.error], [400, 'bad_request']);
    const removed = await check('delete', webhookPath, webhookUrl, { headers: operatorAuth });
    assert.equal(removed.status, 204);
    const noBot = await check('put', webhookPath, '/api/admin/bots/bot_none/webhook', {
      headers: operator,
      body: JSON.stringify({ url: 'https://bots.example.com/parley' }),
    });
    assert.equal(noBot.status, 404);

    const { client } = await connectV1(running.wsUrl, 'openapi', { name: 'Reader' });
    try {
      const list = await check('get', '/api/rooms', '/api/rooms');
      assert.ok(list.body.rooms.some((r: Doc) => r.room === 'openapi'));
      const page = await check('get', '/api/rooms/{room}/messages', '/api/rooms/openapi/messages?limit=10');
      assert.equal(page.body.messages[0].user.bot, true);
      const newer = await check('get', '/api/rooms/{room}/messages', '/api/rooms/openapi/messages?after=0-0');
      assert.equal(newer.body.messages.length, 1);
      assert.equal(typeof newer.body.hasNewer, 'boolean');
      const members = await check('get', '/api/rooms/{room}/members', '/api/rooms/openapi/members?limit=5');
      assert.deepEqual(
        members.body.members.map((m: Doc) => m.name),
        ['Reader'],
      );
    } finally {
      client.close();
    }
  });

  test('the documented bounds of a page size are the server’s', async () => {
    const limit = doc.paths['/api/rooms/{room}/messages'].get.parameters.find((p: Doc) => p.name === 'limit');
    const { minimum, maximum } = limit.schema;
    const url = (n: number) => `/api/rooms/lobby/messages?limit=${n}`;
    assert.equal((await check('get', '/api/rooms/{room}/messages', url(maximum))).status, 200);
    assert.equal((await check('get', '/api/rooms/{room}/messages', url(minimum))).status, 200);
    const over = await check('get', '/api/rooms/{room}/messages', url(maximum + 1));
    assert.deepEqual([over.status, over.body.error], [400, 'bad_request']);
    const under = await check('get', '/api/rooms/{room}/messages', url(minimum - 1));
    assert.equal(under.status, 400);
    const members = doc.paths['/api/rooms/{room}/members'].get.parameters.find((p: Doc) => p.name === 'limit');
    const memberUrl = (n: number) => `/api/rooms/lobby/members?limit=${n}`;
    assert.equal((await check('get', '/api/rooms/{room}/members', memberUrl(members.schema.maximum))).status, 200);
    assert.equal((await check('get', '/api/rooms/{room}/members', memberUrl(members.schema.maximum + 1))).status, 400);
  });

  test('errors: a bad room name, a bad id, no key, no such bot, no upgrade', async () => {
    const badRoom = await check(
      'get',
      '/api/rooms/{room}/messages',
      `/api/rooms/${encodeURIComponent('a b')}/messages`,
    );
    assert.deepEqual([badRoom.status, badRoom.body.error], [400, 'invalid_room']);
    const badId = await check('get', '/api/rooms/{room}/messages', '/api/rooms/lobby/messages?before=nope');
    assert.deepEqual([badId.status, badId.body.error], [400, 'bad_request']);
    const noKey = await check('post', '/api/rooms/{room}/messages', '/api/rooms/lobby/messages', {
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ text: 'hi' }),
    });
    assert.deepEqual([noKey.status, noKey.body.error], [401, 'unauthorized']);
    assert.equal(noKey.res.headers.get('www-authenticate'), 'Bearer');
    const wrongToken = await check('get', '/api/admin/rooms', '/api/admin/rooms', {
      headers: { authorization: 'Bearer nope' },
    });
    assert.equal(wrongToken.status, 401);
    const noBot = await check('delete', '/api/admin/bots/{id}', '/api/admin/bots/bot_none', { headers: operatorAuth });
    assert.deepEqual([noBot.status, noBot.body.error], [404, 'not_found']);
    const plain = await check('get', '/ws/chat/{room}/', '/ws/chat/lobby/');
    assert.deepEqual([plain.status, plain.body.error], [426, 'upgrade_required']);
  });

  test('the operator’s reads and a ban made and lifted', async () => {
    for (const path of [
      '/api/admin/rooms',
      '/api/admin/instances',
      '/api/admin/bans',
      '/api/admin/bots',
      '/api/admin/webhooks',
    ]) {
      assert.equal((await check('get', path, path, { headers: operatorAuth })).status, 200);
    }
    const ban = await check('post', '/api/admin/bans', '/api/admin/bans', {
      headers: operator,
      body: JSON.stringify({ userId: 'u_openapi', durationSeconds: 60 }),
    });
    assert.equal(ban.status, 201);
    const both = await check('post', '/api/admin/bans', '/api/admin/bans', {
      headers: operator,
      body: JSON.stringify({ userId: 'u_x', address: '192.0.2.1' }),
    });
    assert.deepEqual([both.status, both.body.error], [400, 'bad_request']);
    const lifted = await check(
      'delete',
      '/api/admin/bans/{key}',
      `/api/admin/bans/${encodeURIComponent(ban.body.key)}`,
      {
        headers: operatorAuth,
      },
    );
    assert.equal(lifted.status, 204);
    const purge = await check('post', '/api/admin/rooms/{room}/purge', '/api/admin/rooms/openapi/purge', {
      headers: operatorAuth,
    });
    // (The room the bot posted to above.)
    assert.deepEqual([purge.status, purge.body.count], [200, 1]);
  });

  test('the operator reads a room’s messages, deletes one and makes an invite', async () => {
    const { client } = await connectV1(running.wsUrl, 'openapi_tidy', { name: 'Olga' });
    const id = await postV1(client, 'to go');
    const page = await check(
      'get',
      '/api/admin/rooms/{room}/messages',
      '/api/admin/rooms/openapi_tidy/messages?limit=5',
      {
        headers: operatorAuth,
      },
    );
    assert.deepEqual([page.status, page.body.messages.length], [200, 1]);
    const messagePath = '/api/admin/rooms/{room}/messages/{id}';
    const deleted = await check('delete', messagePath, `/api/admin/rooms/openapi_tidy/messages/${id}`, {
      headers: operatorAuth,
    });
    assert.equal(deleted.status, 200);
    const badId = await check('delete', messagePath, '/api/admin/rooms/openapi_tidy/messages/x', {
      headers: operatorAuth,
    });
    assert.deepEqual([badId.status, badId.body.error], [400, 'bad_request']);
    const none = await check('delete', messagePath, '/api/admin/rooms/openapi_tidy/messages/1-0', {
      headers: operatorAuth,
    });
    assert.deepEqual([none.status, none.body.error], [404, 'not_found']);
    const invitesPath = '/api/admin/rooms/{room}/invites';
    const invite = await check('post', invitesPath, '/api/admin/rooms/openapi_tidy/invites', { headers: operatorAuth });
    assert.equal(invite.status, 201);
    const tooShort = await check('post', invitesPath, '/api/admin/rooms/openapi_tidy/invites', {
      headers: operator,
      body: JSON.stringify({ expiresInSeconds: 10 }),
    });
    assert.deepEqual([tooShort.status, tooShort.body.error], [400, 'bad_request']);
    client.close();
  });
});

import { after, before, describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startApp, UNLIMITED, type RunningApp } from './helpers/app.ts';
import { startAppWithLog } from './helpers/captured-log.ts';
import { TestRedis, freePort } from './helpers/redis-server.ts';
import { TestClient, connectV1 } from './helpers/ws-client.ts';
import { IdentityTokens } from '../src/identity/identity-tokens.ts';

/**
 * Identity tokens over the wire: as a subprotocol or (first release) in the query, a fresh one in
 * every welcome, expiry, secret rotation, the first token format, forgeries, and logs that never
 * hold a token.
 */

const SECRET = 'identity-tests-current-secret-0001';
const OLD_SECRET = 'identity-tests-previous-secret-002';
const DAY_MS = 24 * 3600 * 1000;

/** Signs tokens the way a server with these secrets does. */
const signer = (current: string, ttlMs = 30 * DAY_MS) => new IdentityTokens(async () => ({ current }), ttlMs);

/** A token of the first release's format: `<id>.<base64url HMAC-SHA256(secret, id)>`. */
const firstFormatToken = (id: string, secret: string) =>
  `${id}.${createHmac('sha256', secret).update(id).digest('base64url')}`;

/** The user id a server gives a connection presenting `token` (subprotocol unless `inQuery`), and the welcome's token. */
async function identify(
  wsUrl: string,
  token: string | undefined,
  inQuery = false,
): Promise<{ id: string; token: string; protocol: string }> {
  const { client, welcome } = await connectV1(wsUrl, 'identity', {
    name: 'Ida',
    ...(token === undefined ? {} : { token, tokenInQuery: inQuery }),
  });
  const protocol = client.socket.protocol;
  client.close();
  await client.waitClose();
  return { id: welcome.you.id, token: welcome.token, protocol };
}

/** The parts of a current-format token: id, key id, issue time (base 36 ms), MAC. */
function parts(token: string): { id: string; keyId: string; issued: string; mac: string } {
  const [id = '', keyId = '', issued = '', mac = ''] = token.split('.');
  assert.equal(token.split('.').length, 4, `a token of the current format: ${token}`);
  return { id, keyId, issued, mac };
}

for (const engine of ['memory', 'redis'] as const) {
  describe(`identity tokens over the ${engine} engine`, () => {
    let redis: TestRedis | undefined;
    let server: RunningApp;

    before(async () => {
      if (engine === 'redis') redis = await TestRedis.start();
      server = await startApp(undefined, { REDIS_URL: redis?.url, IDENTITY_SECRET: SECRET });
    });
    after(async () => {
      await server.app.close();
      await redis?.stop();
    });

    test('the token travels as a subprotocol beside parley.v1 and keeps the id; every welcome carries a fresh token that works next time', async () => {
      const first = await identify(server.wsUrl, undefined);
      assert.equal(first.protocol, 'parley.v1');
      let token = first.token;
      const tokens = [token];
      for (let i = 0; i < 3; i++) {
        await new Promise((r) => setTimeout(r, 5)); // the issue time is in ms: a later welcome, a later token
        const next = await identify(server.wsUrl, token);
        assert.equal(next.protocol, 'parley.v1', 'the server picks parley.v1, never the token subprotocol');
        assert.equal(next.id, first.id, `reconnect ${i + 1}: the same person`);
        assert.notEqual(next.token, token, `reconnect ${i + 1}: a fresh token`);
        assert.equal(parts(next.token).id, first.id, 'for the same id');
        assert.ok(
          Number.parseInt(parts(next.token).issued, 36) > Number.parseInt(parts(token).issued, 36),
          'issued later',
        );
        token = next.token;
        tokens.push(token);
      }
      assert.equal(new Set(tokens).size, tokens.length, 'every welcome had a different token');
      // An earlier token is still good until it expires.
      assert.equal((await identify(server.wsUrl, tokens[0])).id, first.id);
    });

    test('the first release sent ?token=: that still works, and gets a fresh token too', async () => {
      const first = await identify(server.wsUrl, undefined);
      const again = await identify(server.wsUrl, first.token, true);
      assert.equal(again.id, first.id);
      assert.notEqual(again.token, first.token);
      // The fresh token works as a subprotocol.
      assert.equal((await identify(server.wsUrl, again.token)).id, first.id);
    });

    test('a token unused for longer than IDENTITY_TOKEN_TTL_SECONDS is refused: a new id is issued', async (t) => {
      const ttl = await startApp(t, {
        REDIS_URL: redis?.url,
        IDENTITY_SECRET: SECRET,
        IDENTITY_TOKEN_TTL_SECONDS: '60',
      });
      const { id } = await identify(ttl.wsUrl, undefined);
      const tokens = signer(SECRET, 60_000);
      const now = Date.now();
      const fresh = await tokens.issue(id, now - 50_000);
      assert.equal((await identify(ttl.wsUrl, fresh.token)).id, id, 'issued 50 s ago: within the TTL');
      const stale = await tokens.issue(id, now - 61_000);
      const refused = await identify(ttl.wsUrl, stale.token);
      assert.notEqual(refused.id, id, 'issued 61 s ago: expired');
      assert.equal(parts(refused.token).id, refused.id, 'the new person gets a token of their own');
      // A token "issued" far in the future (beyond clock skew) is not a way around expiry.
      const future = await tokens.issue(id, now + 3_600_000);
      assert.notEqual((await identify(ttl.wsUrl, future.token)).id, id, 'issued an hour from now: refused');
      // Under the default TTL (30 days) the 61-second-old token is fine.
      assert.equal((await identify(server.wsUrl, stale.token)).id, id);
    });

    test('secret rotation: a token of the old secret works while IDENTITY_SECRET_PREVIOUS names it, and is replaced by one of the new secret', async (t) => {
      const oldServer = await startApp(t, { REDIS_URL: redis?.url, IDENTITY_SECRET: OLD_SECRET });
      const before = await identify(oldServer.wsUrl, undefined);

      const rotated = await startApp(t, {
        REDIS_URL: redis?.url,
        IDENTITY_SECRET: SECRET,
        IDENTITY_SECRET_PREVIOUS: OLD_SECRET,
      });
      const during = await identify(rotated.wsUrl, before.token);
      assert.equal(during.id, before.id, 'the old secret is still accepted');
      assert.notEqual(parts(during.token).keyId, parts(before.token).keyId, 'the fresh token names another key');
      assert.equal(
        await signer(SECRET).verify(during.token),
        before.id,
        'the fresh token is signed with the new secret',
      );
      assert.equal(await signer(OLD_SECRET).verify(during.token), undefined, 'and not with the old one');

      const done = await startApp(t, { REDIS_URL: redis?.url, IDENTITY_SECRET: SECRET });
      assert.notEqual(
        (await identify(done.wsUrl, before.token)).id,
        before.id,
        'PREVIOUS removed: the old token no longer works',
      );
      assert.equal((await identify(done.wsUrl, during.token)).id, before.id, 'the replacement does');
    });

    test('a token of the first format (<id>.<HMAC(id)>) is still accepted, and replaced by the current format', async (t) => {
      const { id } = await identify(server.wsUrl, undefined);
      const legacy = firstFormatToken(id, SECRET);
      assert.equal(legacy.split('.').length, 2);
      const upgraded = await identify(server.wsUrl, legacy);
      assert.equal(upgraded.id, id);
      assert.equal(parts(upgraded.token).id, id, 'the welcome replaces it with a token of the current format');
      assert.equal((await identify(server.wsUrl, upgraded.token)).id, id);
      assert.equal((await identify(server.wsUrl, legacy, true)).id, id, 'in the query too');

      // Signed with the previous secret: accepted during a rotation, refused after it.
      const legacyOld = firstFormatToken(id, OLD_SECRET);
      const rotated = await startApp(t, {
        REDIS_URL: redis?.url,
        IDENTITY_SECRET: SECRET,
        IDENTITY_SECRET_PREVIOUS: OLD_SECRET,
      });
      assert.equal((await identify(rotated.wsUrl, legacyOld)).id, id);
      assert.notEqual((await identify(server.wsUrl, legacyOld)).id, id);
    });

    test('forged or altered tokens get a new id', async () => {
      const real = await identify(server.wsUrl, undefined);
      const other = await identify(server.wsUrl, undefined);
      const { id, keyId, issued, mac } = parts(real.token);
      const flip = (text: string, at: number) =>
        text.slice(0, at) + (text[at] === 'A' ? 'B' : 'A') + text.slice(at + 1);
      const foreign = await signer('a-secret-this-server-never-had-0').issue(id);
      const forgeries: Array<[string, string, boolean?]> = [
        ['the MAC altered', `${id}.${keyId}.${issued}.${flip(mac, 5)}`],
        ['the MAC cut short', `${id}.${keyId}.${issued}.${mac.slice(0, -1)}`],
        ['the MAC of another id', `${other.id}.${keyId}.${issued}.${mac}`],
        ['the issue time moved', `${id}.${keyId}.${(Number.parseInt(issued, 36) + 1000).toString(36)}.${mac}`],
        ['another key id', `${id}.${flip(keyId, 0)}.${issued}.${mac}`],
        ['signed with a foreign secret', foreign.token],
        ['first format, MAC of the wrong secret', firstFormatToken(id, 'a-secret-this-server-never-had-0')],
        ['first format, made up', `${id}.${'A'.repeat(43)}`],
        ['an extra part', `${real.token}.x`],
        ['no MAC', `${id}.${keyId}.${issued}`],
        ['just the id', id],
        ['too long', `${id}.${keyId}.${issued}.${mac}${'A'.repeat(200)}`],
        ['not a token at all', 'hello'],
        ['spaces and a query (in the query string)', `${real.token} &name=x`, true],
      ];
      const issued_: string[] = [];
      for (const [what, token, inQuery] of forgeries) {
        const result = await identify(server.wsUrl, token, inQuery === true);
        assert.notEqual(result.id, id, `${what}: not accepted as ${id}`);
        assert.notEqual(result.id, other.id, `${what}: not accepted as anyone else`);
        issued_.push(result.id);
      }
      assert.equal(new Set(issued_).size, forgeries.length, 'each forgery became a new person');
      assert.equal((await identify(server.wsUrl, real.token)).id, id, 'the real token still works');
    });

    test('no log line holds the token or the query string (a logger passed to buildApp)', async (t) => {
      const app = await startAppWithLog(t, { REDIS_URL: redis?.url, IDENTITY_SECRET: SECRET });
      const { id, token } = await identify(app.wsUrl, undefined);
      // First-release clients put the token in the URL: accepted, refused (bad name) and over HTTP.
      assert.equal((await identify(app.wsUrl, token, true)).id, id);
      const refused = await TestClient.connect(`${app.wsUrl}/ws/chat/identity/?name=&token=${token}`, {
        protocols: ['parley.v1'],
      });
      assert.equal((await refused.next()).code, 'invalid_name');
      await refused.waitClose();
      assert.equal((await fetch(`${app.httpUrl}/api/rooms?token=${token}`)).status, 200);
      await waitForLines(app.log.lines, 6);
      assert.ok(
        app.log.lines.some((line) => line.includes('/ws/chat/identity/')),
        'the requests were logged (with their path)',
      );
      assertNoSecretsIn(app.log.lines, token);
    });

    test('no log line holds the token or the query string (the production logger, src/server.ts)', async (t) => {
      const lines = await runServerProcess(
        t,
        { REDIS_URL: redis?.url, IDENTITY_SECRET: SECRET },
        async (wsUrl, httpUrl) => {
          const { id, token } = await identify(wsUrl, undefined);
          assert.equal((await identify(wsUrl, token, true)).id, id);
          const refused = await TestClient.connect(`${wsUrl}/ws/chat/identity/?name=&token=${token}`, {
            protocols: ['parley.v1'],
          });
          assert.equal((await refused.next()).code, 'invalid_name');
          await refused.waitClose();
          assert.equal((await fetch(`${httpUrl}/api/rooms?token=${token}`)).status, 200);
          return token;
        },
      );
      assert.ok(
        lines.lines.some((line) => line.includes('/ws/chat/identity/')),
        'the requests were logged (with their path)',
      );
      assertNoSecretsIn(lines.lines, lines.token);
    });
  });
}

function assertNoSecretsIn(lines: readonly string[], token: string): void {
  const [id, , , mac] = token.split('.');
  const leaks = lines.filter(
    (line) => line.includes(token) || line.includes(mac!) || line.includes('token=') || line.includes('?name='),
  );
  assert.deepEqual(
    leaks,
    [],
    `${leaks.length} of ${lines.length} log lines hold the token or a query string (user ${id})`,
  );
}

async function waitForLines(lines: readonly string[], count: number): Promise<void> {
  const deadline = Date.now() + 3000;
  while (lines.length < count && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  await new Promise((r) => setTimeout(r, 100)); // the close lines of the last sockets
}

const serverDir = join(dirname(fileURLToPath(import.meta.url)), '..');

/**
 * Runs src/server.ts as production does (its own logger, JSON lines on stdout, LOG_LEVEL=info),
 * lets `use` talk to it, stops it, and returns every stdout line.
 */
async function runServerProcess(
  t: TestContext,
  env: Record<string, string | undefined>,
  use: (wsUrl: string, httpUrl: string) => Promise<string>,
): Promise<{ lines: string[]; token: string }> {
  const port = await freePort();
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
    cwd: serverDir,
    env: {
      ...process.env,
      ...UNLIMITED,
      DRAIN_MS: '0',
      LOG_LEVEL: 'info',
      ...env,
      PORT: String(port),
      HOST: '127.0.0.1',
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  t.after(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  let out = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    out += chunk.toString();
  });
  const httpUrl = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 15_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode}`);
    if (Date.now() > deadline) throw new Error('server process did not become healthy within 15 s');
    try {
      if ((await fetch(`${httpUrl}/healthz`)).ok) break;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  const token = await use(`ws://127.0.0.1:${port}`, httpUrl);
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
  return { lines: out.split('\n').filter((line) => line !== ''), token };
}

test('invites: open the room they were made for until they expire; another secret, room or a changed expiry does not', async () => {
  const tokens = signer('identity-tests-invite-secret-003');
  const now = Date.now();
  const invite = await tokens.invite('lobby', now + 60_000);
  assert.equal(await tokens.verifyInvite(invite, 'lobby', now), true);
  assert.equal(await tokens.verifyInvite(invite, 'lobby', now + 61_000), false, 'expired');
  assert.equal(await tokens.verifyInvite(invite, 'other', now), false, 'another room');
  assert.equal(await signer('another-secret-entirely-0000004').verifyInvite(invite, 'lobby', now), false);
  const [, keyId, mac] = invite.split('.');
  const later = `${(now + 3_600_000).toString(36)}.${keyId}.${mac}`;
  assert.equal(await tokens.verifyInvite(later, 'lobby', now), false, 'a longer life cannot be written in');
  assert.equal(await tokens.verifyInvite('garbage', 'lobby', now), false);
});

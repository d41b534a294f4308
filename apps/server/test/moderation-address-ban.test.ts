import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { CLOSE_CODES } from '@parley/protocol';
import { startApp, type RunningApp } from './helpers/app.ts';
import { enter, moderate, moderationEvent, send, type Entry } from './helpers/moderation.ts';
import { TestRedis } from './helpers/redis-server.ts';
import { connectV1, nextOfType, postV1, type TestClient } from './helpers/ws-client.ts';

/**
 * A ban keys on the user id and on the address the banned person was connected from, IPv6
 * addresses grouped by their /64 (issue "Rooms people can protect"; limits/address-key.ts). The
 * clients here are behind a "proxy" (the test) that names their address in X-Forwarded-For, and
 * the apps trust one proxy hop (TRUST_PROXY=1), so IPv6 addresses can be presented over
 * loopback.
 */

const TRUST_ONE_PROXY = { TRUST_PROXY: '1' };

/** Expects an entry refused as banned, with the close of a removed person (4403). */
function assertBanned(entry: Entry, what: string): void {
  assert.ok('refused' in entry, `${what}: expected to be banned, got a welcome`);
  assert.deepEqual([entry.refused.code, entry.code], ['banned', CLOSE_CODES.removed], what);
}

/** Expects a welcome and returns the socket. */
function assertWelcomed(entry: Entry, what: string): TestClient {
  assert.ok(
    'welcome' in entry,
    `${what}: expected a welcome, got ${JSON.stringify('refused' in entry && entry.refused)}`,
  );
  return entry.client;
}

/** A room owned by Olga (first to post), from an address of her own. */
async function ownedRoom(app: RunningApp, room: string) {
  const owner = await connectV1(app.wsUrl, room, { name: 'Olga', forwardedFor: '2001:db8:ffff::1' });
  await postV1(owner.client, 'I was here first');
  return owner;
}

/** Bans someone and waits for their socket to be told and closed. */
async function banAndWaitClose(by: TestClient, victim: { client: TestClient; welcome: any }, observer: TestClient) {
  const ack = await moderate(by, 'ban', victim.welcome.you.id, { durationSeconds: 3600 });
  assert.equal(ack.type, 'ack');
  assert.equal((await moderationEvent(observer, 'ban')).eventId, ack.id);
  assert.equal((await nextOfType(victim.client, 'error', 5000)).code, 'banned');
  assert.equal((await victim.client.waitClose(5000)).code, CLOSE_CODES.removed);
  return ack;
}

for (const engine of ['memory', 'redis'] as const) {
  describe(`an IPv6 address ban keys on the /64 (${engine} engine)`, () => {
    let redis: TestRedis | undefined;
    let app: RunningApp;
    before(async () => {
      if (engine === 'redis') redis = await TestRedis.start();
      app = await startApp(undefined, { REDIS_URL: redis?.url, ...TRUST_ONE_PROXY });
    });
    after(async () => {
      await app.app.close();
      await redis?.stop();
    });

    test('a fresh identity from the same /64 is refused, one from another /64 gets in, and the unban lifts it', async () => {
      const room = `ipv6_${engine}`;
      const owner = await ownedRoom(app, room);
      const bob = await connectV1(app.wsUrl, room, { name: 'Bob', forwardedFor: '2001:db8:9::1' });
      const carl = await connectV1(app.wsUrl, room, { name: 'Carl', forwardedFor: '2001:db8:1:2:aaaa:bbbb:cccc:5' });
      await banAndWaitClose(owner.client, carl, bob.client);

      // Another address of the same /64, as another device of the same household gets: banned,
      // however the address is written.
      for (const address of ['2001:db8:1:2::99', '2001:0DB8:0001:0002:ffff:ffff:ffff:ffff', '2001:db8:1:2::'])
        assertBanned(
          await enter(app.wsUrl, room, { name: 'Karl', forwardedFor: address }),
          `a new name from ${address}`,
        );
      // The neighbouring /64s (and an address that shares only the first 48 bits): welcome.
      for (const address of ['2001:db8:1:3::5', '2001:db8:1:1:aaaa:bbbb:cccc:5', '2001:db8:1::5']) {
        const client = assertWelcomed(
          await enter(app.wsUrl, room, { name: 'Dora', forwardedFor: address }),
          `a new name from ${address}`,
        );
        assert.equal((await send(client, `from ${address}`)).type, 'ack');
        client.close();
      }
      // Unbanned: the /64 is open again.
      assert.equal((await moderate(owner.client, 'unban', carl.welcome.you.id)).type, 'ack');
      await moderationEvent(bob.client, 'unban');
      const back = assertWelcomed(
        await enter(app.wsUrl, room, { name: 'Karl', forwardedFor: '2001:db8:1:2::99' }),
        'a new name from the /64 after the unban',
      );
      for (const client of [owner.client, bob.client, back]) client.close();
    });

    test('the banned person’s IPv4 address is banned as itself, not with its neighbours', async () => {
      const room = `ipv4_${engine}`;
      const owner = await ownedRoom(app, room);
      const bob = await connectV1(app.wsUrl, room, { name: 'Bob', forwardedFor: '198.51.100.1' });
      const carl = await connectV1(app.wsUrl, room, { name: 'Carl', forwardedFor: '203.0.113.7' });
      await banAndWaitClose(owner.client, carl, bob.client);
      assertBanned(await enter(app.wsUrl, room, { name: 'Karl', forwardedFor: '203.0.113.7' }), 'the same address');
      // An IPv4-mapped IPv6 address is the IPv4 address it carries.
      assertBanned(
        await enter(app.wsUrl, room, { name: 'Karl', forwardedFor: '::ffff:203.0.113.7' }),
        'the address as a dual-stack socket names it',
      );
      const neighbour = assertWelcomed(
        await enter(app.wsUrl, room, { name: 'Dora', forwardedFor: '203.0.113.8' }),
        'the next IPv4 address',
      );
      for (const client of [owner.client, bob.client, neighbour]) client.close();
    });
  });
}

describe('the address ban across two instances (redis engine)', () => {
  let redis: TestRedis;
  let a: RunningApp;
  let b: RunningApp;
  before(async () => {
    redis = await TestRedis.start();
    a = await startApp(undefined, { REDIS_URL: redis.url, ...TRUST_ONE_PROXY });
    b = await startApp(undefined, { REDIS_URL: redis.url, ...TRUST_ONE_PROXY });
  });
  after(async () => {
    await a.app.close();
    await b.app.close();
    await redis.stop();
  });

  test('someone connected only to B and banned on A: every /64 they were on is banned on A and on B', async () => {
    const room = 'ipv6_across';
    const owner = await ownedRoom(a, room);
    const bob = await connectV1(b.wsUrl, room, { name: 'Bob', forwardedFor: '2001:db8:9::1' });
    // Carl has two tabs on B, from his laptop and his phone (two networks).
    const carl = await connectV1(b.wsUrl, room, { name: 'Carl', forwardedFor: '2001:db8:1:2::5' });
    const carlPhone = await connectV1(b.wsUrl, room, {
      name: 'Carl',
      token: carl.welcome.token,
      forwardedFor: '2001:db8:77:1::abc',
    });
    const ack = await banAndWaitClose(owner.client, carl, bob.client);
    assert.equal((await nextOfType(carlPhone.client, 'error', 5000)).code, 'banned');
    assert.equal((await carlPhone.client.waitClose(5000)).code, CLOSE_CODES.removed);
    assert.equal((await moderationEvent(owner.client, 'ban')).eventId, ack.id, 'A is told too');

    for (const [instance, app] of [
      ['A', a],
      ['B', b],
    ] as const) {
      for (const address of ['2001:db8:1:2::99', '2001:db8:77:1::1'])
        assertBanned(
          await enter(app.wsUrl, room, { name: 'Karl', forwardedFor: address }),
          `a new name from ${address} on ${instance}`,
        );
      const other = assertWelcomed(
        await enter(app.wsUrl, room, { name: 'Dora', forwardedFor: '2001:db8:1:3::5' }),
        `a new name from another /64 on ${instance}`,
      );
      other.close();
    }
    // Lifted on A: B lets the /64 in again.
    assert.equal((await moderate(owner.client, 'unban', carl.welcome.you.id)).type, 'ack');
    await moderationEvent(bob.client, 'unban');
    const back = assertWelcomed(
      await enter(b.wsUrl, room, { name: 'Karl', forwardedFor: '2001:db8:1:2::99' }),
      'after the unban, on B',
    );
    for (const client of [owner.client, bob.client, back]) client.close();
  });

  test('someone who has left is not banned by a moderator (not_present): there is no address to key on', async () => {
    const room = 'ipv6_left';
    const owner = await ownedRoom(a, room);
    const carl = await connectV1(b.wsUrl, room, { name: 'Carl', forwardedFor: '2001:db8:1:2::5' });
    await nextOfType(owner.client, 'join', 5000);
    carl.client.close();
    const left = await nextOfType(owner.client, 'leave', 5000);
    assert.equal(left.user.id, carl.welcome.you.id);
    assert.equal((await moderate(owner.client, 'ban', carl.welcome.you.id)).code, 'not_present');
    const fresh = assertWelcomed(
      await enter(a.wsUrl, room, { name: 'Karl', forwardedFor: '2001:db8:1:2::99' }),
      'a new name from his /64',
    );
    for (const client of [owner.client, fresh]) client.close();
  });

  test(
    'someone whose instance went away while their presence is kept is banned by id; their address too',
    {
      todo:
        'the address is known only to an instance with a socket of the banned person (it writes the address ban ' +
        'when it closes that socket); with none (the instance shut down or crashed, presence kept for ' +
        'PRESENCE_TTL_SECONDS) the ban is acked and keys on the id alone',
    },
    async (t) => {
      const room = 'ipv6_gone';
      // An instance of its own, closed as a deploy closes it (its people's presence is kept).
      const leaving = await startApp(undefined, { REDIS_URL: redis.url, ...TRUST_ONE_PROXY });
      const owner = await ownedRoom(a, room);
      const carl = await connectV1(leaving.wsUrl, room, { name: 'Carl', forwardedFor: '2001:db8:1:2::5' });
      await leaving.app.close();
      await carl.client.waitClose(5000);
      assert.equal((await moderate(owner.client, 'ban', carl.welcome.you.id)).type, 'ack', 'still present');
      t.after(() => owner.client.close());
      assertBanned(
        await enter(a.wsUrl, room, { name: 'Carl', token: carl.welcome.token, forwardedFor: '2001:db8:1:2::5' }),
        'by id',
      );
      assertBanned(await enter(a.wsUrl, room, { name: 'Karl', forwardedFor: '2001:db8:1:2::99' }), 'by address');
    },
  );
});

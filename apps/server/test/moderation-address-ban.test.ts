import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { CLOSE_CODES } from '@parley/protocol';
import { roomKeys } from '../src/engine/redis-keys.ts';
import { startApp, type RunningApp } from './helpers/app.ts';
import { enter, moderate, moderationEvent, send, type Entry } from './helpers/moderation.ts';
import { TestRedis } from './helpers/redis-server.ts';
import { startTwoInstances } from './helpers/two-instances.ts';
import { TestClient, connectV1, nextOfType, postV1 } from './helpers/ws-client.ts';

/**
 * A ban keys on the user id and on the address the banned person was connected from, IPv6
 * addresses grouped by their /64 (issue "Rooms people can protect"; limits/address-key.ts). The
 * clients here are behind a "proxy" (the test) that names their address in X-Forwarded-For, and
 * the apps trust one proxy hop (TRUST_PROXY=1), so IPv6 addresses can be presented over
 * loopback.
 */

const TRUST_ONE_PROXY = { TRUST_PROXY: '1' };
const ADMIN_TOKEN = 'operator-token-for-the-address-ban-tests-0123';

/** The operator's moderation of a room over HTTP (ADMIN_TOKEN). */
async function operatorModerates(app: RunningApp, room: string, body: Record<string, unknown>): Promise<number> {
  const res = await fetch(`${app.httpUrl}/api/admin/rooms/${room}/moderate`, {
    method: 'POST',
    headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify({ clientMsgId: `op${Math.random().toString(36).slice(2)}`, ...body }),
  });
  await res.arrayBuffer();
  return res.status;
}

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
      app = await startApp(undefined, { REDIS_URL: redis?.url, ADMIN_TOKEN, ...TRUST_ONE_PROXY });
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

    test('the operator bans someone who has left: the addresses they were on are banned too', async () => {
      const room = `ipv6_absent_${engine}`;
      const owner = await ownedRoom(app, room);
      const carl = await connectV1(app.wsUrl, room, { name: 'Carl', forwardedFor: '2001:db8:1:2::5' });
      await nextOfType(owner.client, 'join', 5000);
      carl.client.close();
      assert.equal((await nextOfType(owner.client, 'leave', 5000)).user.id, carl.welcome.you.id);
      // No socket of Carl's is left to tell: the engine kept where he was.
      assert.equal(await operatorModerates(app, room, { action: 'ban', userId: carl.welcome.you.id }), 200);
      assertBanned(
        await enter(app.wsUrl, room, { name: 'Karl', forwardedFor: '2001:db8:1:2::99' }),
        'a new name from his /64',
      );
      const other = assertWelcomed(
        await enter(app.wsUrl, room, { name: 'Dora', forwardedFor: '2001:db8:1:3::5' }),
        'a new name from another /64',
      );
      for (const client of [owner.client, other]) client.close();
    });

    test('the engine keeps the last four addresses a person entered from, and a ban bans them in the same step', async () => {
      const room = `ipv6_four_${engine}`;
      const engineOf = app.app.engine;
      const olga = { id: `olga-${engine}`, name: 'Olga' };
      const carl = { id: `carl-${engine}`, name: 'Carl' };
      await engineOf.enter(room, olga, 0, '2001:db8:ffff::/64');
      assert.equal((await engineOf.post({ room, user: olga, text: 'mine' })).outcome, 'stored');
      // Five tabs from five networks (and the second again, which is no new one).
      const addresses = ['198.51.100.1', '2001:db8:2::/64', '2001:db8:3::/64', '2001:db8:4::/64', '2001:db8:5::/64'];
      for (const address of [...addresses, addresses[1]!]) await engineOf.enter(room, carl, 0, address);
      const banned = await engineOf.moderate({
        room,
        by: olga,
        action: 'ban',
        userId: carl.id,
        durationSeconds: 600,
        clientMsgId: 'ban-carl',
      });
      assert.equal(banned.outcome, 'stored');
      const bannedFrom = async (address: string) =>
        (await engineOf.standing(room, `someone-new-${engine}`, address)).bannedUntil !== undefined;
      assert.deepEqual(
        await Promise.all(addresses.map(bannedFrom)),
        [false, true, true, true, true],
        'the oldest address is no longer kept',
      );
      assert.equal(await bannedFrom('2001:db8:6::/64'), false);
      // The owner is never kept out by an address ban, even one she shares.
      assert.equal((await engineOf.standing(room, olga.id, '2001:db8:2::/64')).bannedUntil, undefined);
      await engineOf.exit(room, carl);
      await engineOf.exit(room, olga);
    });
  });
}

describe('the address ban across two instances (redis engine)', () => {
  let redis: TestRedis;
  let a: RunningApp;
  let b: RunningApp;
  let stop: () => Promise<void>;
  before(async () => {
    ({ redis, a, b, stop } = await startTwoInstances(undefined, TRUST_ONE_PROXY));
  });
  after(() => stop());

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

  test('sockets already open from a banned /64 close with the ban, on every instance; others, and the owner, stay', async () => {
    const room = 'ipv6_open_sockets';
    const owner = await ownedRoom(a, room);
    // The owner has a second tab on Carl's network: owners are never kept out by an address.
    const ownerThere = await connectV1(b.wsUrl, room, {
      name: 'Olga',
      token: owner.welcome.token,
      forwardedFor: '2001:db8:5:6::1',
    });
    const carl = await connectV1(a.wsUrl, room, { name: 'Carl', forwardedFor: '2001:db8:5:6::5' });
    // From Carl's /64, on both instances: another identity, and a reference client (no identity).
    const dora = await connectV1(b.wsUrl, room, { name: 'Dora', forwardedFor: '2001:db8:5:6::77' });
    const reference = await TestClient.connect(`${b.wsUrl}/ws/chat/${room}/`, { forwardedFor: '2001:db8:5:6::78' });
    const referenceOnA = await TestClient.connect(`${a.wsUrl}/ws/chat/${room}/`, { forwardedFor: '2001:db8:5:6::79' });
    // And someone from the next /64.
    const eve = await connectV1(b.wsUrl, room, { name: 'Eve', forwardedFor: '2001:db8:5:7::5' });

    await banAndWaitClose(owner.client, carl, eve.client);
    assert.equal((await nextOfType(dora.client, 'error', 5000)).code, 'banned');
    assert.equal((await dora.client.waitClose(5000)).code, CLOSE_CODES.removed, 'another identity on the /64');
    for (const [client, where] of [
      [reference, 'B'],
      [referenceOnA, 'A'],
    ] as const) {
      const error = await client.next(5000);
      assert.equal(
        error.error?.code ?? error.code,
        'banned',
        `a reference client on ${where}: ${JSON.stringify(error)}`,
      );
      assert.equal((await client.waitClose(5000)).code, CLOSE_CODES.removed);
    }
    // Those not kept out stay, and hear the room.
    await postV1(ownerThere.client, 'still here');
    assert.equal((await nextOfType(eve.client, 'message')).text, 'still here');
    for (const client of [owner.client, ownerThere.client, eve.client]) client.close();
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

  test('someone whose instance went away while their presence is kept is banned by id; their address too', async (t) => {
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
  });

  test('right after the ban is acked, no fresh identity from the banned /64 gets in on another instance', async () => {
    const room = 'ipv6_at_once';
    const owner = await ownedRoom(a, room);
    const bob = await connectV1(a.wsUrl, room, { name: 'Bob', forwardedFor: '2001:db8:9::1' });
    const carl = await connectV1(a.wsUrl, room, { name: 'Carl', forwardedFor: '2001:db8:1:2::5' });
    const ack = await moderate(owner.client, 'ban', carl.welcome.you.id, { durationSeconds: 3600 });
    assert.equal(ack.type, 'ack');
    // Not waiting for Carl's socket to be told: the ban already keys on his /64.
    const tries = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        enter(b.wsUrl, room, { name: `Karl ${i}`, forwardedFor: `2001:db8:1:2::${(i + 16).toString(16)}` }),
      ),
    );
    const welcomed = tries.filter((entry) => 'welcome' in entry);
    for (const entry of welcomed) if ('client' in entry) entry.client.close();
    assert.equal(welcomed.length, 0, `${welcomed.length} of ${tries.length} fresh identities got in`);
    for (const [i, entry] of tries.entries()) assertBanned(entry, `try ${i}`);
    assert.equal((await carl.client.waitClose(5000)).code, CLOSE_CODES.removed);
    for (const client of [owner.client, bob.client]) client.close();
  });

  test('a room whose presence an earlier release entered (no addresses kept): the ban still keys on the socket’s address', async () => {
    const room = 'ipv6_earlier';
    const owner = await ownedRoom(a, room);
    const bob = await connectV1(a.wsUrl, room, { name: 'Bob', forwardedFor: '2001:db8:9::1' });
    const carl = await connectV1(b.wsUrl, room, { name: 'Carl', forwardedFor: '2001:db8:1:2::5' });
    // As an earlier release left the room: people present, no addresses.
    const direct = new Redis(redis.url);
    try {
      assert.equal(await direct.del(roomKeys(room).addresses), 1, 'the addresses were kept');
    } finally {
      direct.disconnect();
    }
    await banAndWaitClose(owner.client, carl, bob.client);
    // The instance that closed Carl's socket bans its address (after the ack, so within a bound).
    const deadline = Date.now() + 5000;
    let entry = await enter(a.wsUrl, room, { name: 'Karl', forwardedFor: '2001:db8:1:2::99' });
    while ('welcome' in entry && Date.now() < deadline) {
      entry.client.close();
      await new Promise((r) => setTimeout(r, 100));
      entry = await enter(a.wsUrl, room, { name: 'Karl', forwardedFor: '2001:db8:1:2::99' });
    }
    assertBanned(entry, 'a new name from his /64');
    for (const client of [owner.client, bob.client]) client.close();
  });
});

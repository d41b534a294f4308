import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { LOOK_KEY_LENGTH, ROLES, userTag } from '@parley/protocol';
import { roomKeys } from '../src/engine/redis-keys.ts';
import { startApp, type RunningApp } from './helpers/app.ts';
import { TestRedis } from './helpers/redis-server.ts';
import { connectV1, nextOfType, postV1, requestV1, type TestClient } from './helpers/ws-client.ts';

/**
 * Names you can trust, as the server sends them: every member in a welcome and in a join frame
 * carries its `tag`, its `role` and the `look` keys of its name, so every client marks the same
 * lookalikes. On both engines; on Redis, with the people spread over two instances.
 */

/** Alice with a Cyrillic А (U+0410): looks like Alice, is not Alice. */
const CYRILLIC_ALICE = '\u0410lice';

/** The member of a welcome with this name. */
function memberNamed(welcome: any, name: string): any {
  const member = welcome.members.find((m: any) => m.name === name);
  assert.ok(member, `${name} is listed`);
  return member;
}

/** Checks the fields every member must carry, and returns the member. */
function assertMemberFields(member: any): any {
  assert.equal(member.tag, userTag(member.id), `${member.name}'s tag`);
  assert.ok(ROLES.includes(member.role), `${member.name}'s role ${member.role}`);
  assert.ok(Array.isArray(member.look) && member.look.length >= 1, `${member.name}'s look`);
  for (const key of member.look) assert.match(key, new RegExp(`^[0-9a-f]{${LOOK_KEY_LENGTH}}$`));
  return member;
}

const shareAKey = (a: any, b: any) => a.look.some((key: string) => b.look.includes(key));

/** The next join frame a client gets, about `name`. */
async function joinOf(client: TestClient, name: string): Promise<any> {
  for (;;) {
    const join = await nextOfType(client, 'join');
    if (join.user.name === name) return join;
  }
}

for (const engine of ['memory', 'redis'] as const) {
  describe(`member tags, roles and lookalike keys over the ${engine} engine`, () => {
    let redis: TestRedis | undefined;
    let a: RunningApp;
    let b: RunningApp;

    before(async () => {
      if (engine === 'redis') redis = await TestRedis.start();
      a = await startApp(undefined, { REDIS_URL: redis?.url });
      // Two instances need a shared bus; the memory engine is one instance.
      b = engine === 'redis' ? await startApp(undefined, { REDIS_URL: redis?.url }) : a;
    });
    after(async () => {
      await a.app.close();
      if (b !== a) await b.app.close();
      await redis?.stop();
    });

    test('Alice and Аlice get the same look, Bob another; everyone has a tag and a role; the owner is listed as owner', async () => {
      const room = `lookalike_${engine}`;
      const olga = await connectV1(a.wsUrl, room, { name: 'Olga' });
      await postV1(olga.client, 'mine'); // the first poster owns the room
      const alice = await connectV1(a.wsUrl, room, { name: 'Alice' });
      const aliceJoin = await joinOf(olga.client, 'Alice');
      const cyrillic = await connectV1(b.wsUrl, room, { name: CYRILLIC_ALICE });
      const cyrillicJoin = await joinOf(olga.client, CYRILLIC_ALICE);
      const bob = await connectV1(b.wsUrl, room, { name: 'Bob' });
      const bobJoin = await joinOf(olga.client, 'Bob');

      // The welcome: every member with all three fields.
      assert.equal(bob.welcome.members.length, 4);
      for (const member of bob.welcome.members) assertMemberFields(member);
      const listed = (name: string) => memberNamed(bob.welcome, name);
      assert.deepEqual(
        ['Olga', 'Alice', CYRILLIC_ALICE, 'Bob'].map((name) => listed(name).role),
        ['owner', 'member', 'member', 'member'],
      );
      assert.deepEqual(listed('Alice').look, listed(CYRILLIC_ALICE).look);
      assert.notEqual(listed('Alice').id, listed(CYRILLIC_ALICE).id);
      assert.notEqual(listed('Alice').tag, listed(CYRILLIC_ALICE).tag);
      assert.ok(!shareAKey(listed('Bob'), listed('Alice')), 'Bob does not look like Alice');
      assert.ok(!shareAKey(listed('Olga'), listed('Alice')));
      // Alice's own welcome (made on the other instance) lists the owner as owner too.
      assert.equal(memberNamed(alice.welcome, 'Olga').role, 'owner');
      assert.deepEqual(memberNamed(alice.welcome, 'Alice'), listed('Alice'));

      // The join frames carry the same member as the welcomes list.
      for (const join of [aliceJoin, cyrillicJoin, bobJoin]) {
        assertMemberFields(join.user);
        assert.deepEqual(join.user, listed(join.user.name));
      }
      assert.deepEqual(aliceJoin.user.look, cyrillicJoin.user.look);
      assert.ok(!shareAKey(bobJoin.user, aliceJoin.user));
      // …across instances too: Аlice (on B) hears of Bob (on B) and Alice (on A) hears of Аlice.
      assert.deepEqual((await joinOf(alice.client, CYRILLIC_ALICE)).user, listed(CYRILLIC_ALICE));
      assert.deepEqual((await joinOf(cyrillic.client, 'Bob')).user, listed('Bob'));

      for (const c of [olga, alice, cyrillic, bob]) c.client.close();
    });

    test('roles as of when the frame is made: a moderator rejoining is listed and announced as one', async () => {
      const room = `member_roles_${engine}`;
      const olga = await connectV1(a.wsUrl, room, { name: 'Olga' });
      await postV1(olga.client, 'mine');
      const bob = await connectV1(b.wsUrl, room, { name: 'Bob' });
      assert.equal(memberNamed(bob.welcome, 'Bob').role, 'member');
      const promoted = await requestV1(olga.client, {
        type: 'moderate',
        action: 'promote',
        userId: bob.welcome.you.id,
      });
      assert.equal(promoted.type, 'ack');

      bob.client.close();
      assert.equal((await nextOfType(olga.client, 'leave')).user.id, bob.welcome.you.id);
      // Bob comes back as the same person, on the other instance.
      const again = await connectV1(a.wsUrl, room, { name: 'Bob', token: bob.welcome.token });
      assert.equal(again.welcome.you.id, bob.welcome.you.id);
      assert.equal(assertMemberFields(memberNamed(again.welcome, 'Bob')).role, 'moderator');
      assert.equal(memberNamed(again.welcome, 'Olga').role, 'owner');
      const join = await joinOf(olga.client, 'Bob');
      assert.equal(assertMemberFields(join.user).role, 'moderator');

      olga.client.close();
      again.client.close();
    });

    if (engine === 'redis') {
      test('a presence entry an earlier release stored ({id, name}) is still listed, and gains the fields when its person enters again', async () => {
        const room = 'member_migration';
        const carl = await connectV1(a.wsUrl, room, { name: 'Carl' });
        const carlId = carl.welcome.you.id;
        const redisClient = new Redis(redis!.url);
        try {
          // What an earlier release stored for Carl.
          await redisClient.hset(roomKeys(room).people, carlId, JSON.stringify({ id: carlId, name: 'Carl' }));
          const dora = await connectV1(b.wsUrl, room, { name: 'Dora' });
          assert.deepEqual(memberNamed(dora.welcome, 'Carl'), { id: carlId, name: 'Carl', role: 'member' });
          assertMemberFields(memberNamed(dora.welcome, 'Dora'));

          // Carl opens another tab (another instance): his entry is written anew, with the fields.
          const carlTab = await connectV1(b.wsUrl, room, { name: 'Carl', token: carl.welcome.token });
          assertMemberFields(memberNamed(carlTab.welcome, 'Carl'));
          const stored = JSON.parse((await redisClient.hget(roomKeys(room).people, carlId))!);
          assert.deepEqual(Object.keys(stored).sort(), ['id', 'look', 'name', 'tag']);
          for (const c of [carl, carlTab, dora]) c.client.close();
        } finally {
          redisClient.disconnect();
        }
      });
    }
  });
}

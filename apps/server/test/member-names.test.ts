import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { LOOK_KEY_LENGTH, MemberPageSchema, ROLES, decodeWith, userTag } from '@parley/protocol';
import { roomKeys } from '../src/engine/redis-keys.ts';
import { startApp, type RunningApp } from './helpers/app.ts';
import { closeCrowd, CrowdMember } from './helpers/crowd.ts';
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

/** A member as listed, without the server's lookalike mark (which is as of when it was listed). */
const unmarked = ({ lookalike: _mark, ...member }: any) => member;

/** Every member page of a room (GET /api/rooms/<room>/members), walked with `limit`; bounded in pages. */
async function memberPages(httpUrl: string, room: string, limit: number): Promise<any[][]> {
  const pages: any[][] = [];
  let cursor: string | undefined;
  for (let i = 0; i < 100; i++) {
    const query = new URLSearchParams({ limit: String(limit), ...(cursor !== undefined ? { cursor } : {}) });
    const res = await fetch(`${httpUrl}/api/rooms/${room}/members?${query}`);
    assert.equal(res.status, 200);
    const page = decodeWith(MemberPageSchema, await res.json());
    assert.ok(page.ok, 'a page has the protocol shape (the mark included)');
    pages.push(page.value.members);
    cursor = page.value.cursor;
    if (cursor === undefined) return pages;
  }
  throw new Error('the walk did not end within 100 pages');
}

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
      // (Made before Аlice came: not marked then.)
      assert.deepEqual(memberNamed(alice.welcome, 'Alice'), unmarked(listed('Alice')));

      // The server marks the two who look alike, and nobody else.
      assert.deepEqual(
        ['Olga', 'Alice', CYRILLIC_ALICE, 'Bob'].map((name) => listed(name).lookalike),
        [undefined, true, true, undefined],
      );
      // The join frames carry the same member as the welcomes list, marked as of the join:
      // Alice was alone with her name when she came, Аlice was not.
      for (const join of [aliceJoin, cyrillicJoin, bobJoin]) {
        assertMemberFields(join.user);
        assert.deepEqual(unmarked(join.user), unmarked(listed(join.user.name)));
      }
      assert.deepEqual(
        [aliceJoin, cyrillicJoin, bobJoin].map((join) => join.user.lookalike),
        [undefined, true, undefined],
      );
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

    test('in a room of more than 50, lookalikes are marked on every listing though the other is not listed, until the other leaves', async (t) => {
      const room = `lookalike_crowd_${engine}`;
      const PAIRS = 8;
      const FILLERS = 50;
      const names = {
        first: Array.from({ length: PAIRS }, (_, i) => `Alice${i}`),
        // The same names with a Cyrillic А: each looks like one of the first, and only that one.
        second: Array.from({ length: PAIRS }, (_, i) => `${CYRILLIC_ALICE}${i}`),
        fillers: Array.from({ length: FILLERS }, (_, i) => `filler-${i}`),
      };
      const join = (name: string, i: number) => CrowdMember.join([a.wsUrl, b.wsUrl][i % 2]!, room, name);
      // The first of each pair early, the second late: on the memory engine (pages in arrival
      // order) they are far apart; on Redis, pages follow its hash.
      const firsts = await Promise.all(names.first.map(join));
      const fillers = await Promise.all(names.fillers.map(join));
      const seconds = await Promise.all(names.second.map(join));
      const crowd = [...firsts, ...fillers, ...seconds];
      t.after(() => closeCrowd(crowd));
      const pairOf = (name: string) => name.replace(CYRILLIC_ALICE, 'Alice');
      const inPair = (name: string) => name.startsWith('Alice') || name.startsWith(CYRILLIC_ALICE);

      // A newcomer's welcome lists 50 of the 67 present; member pages of 10 walk them all.
      const newcomer = await CrowdMember.join(a.wsUrl, room, 'Newcomer');
      crowd.push(newcomer);
      assert.equal(newcomer.welcome.members.length, 50);
      assert.equal(newcomer.welcome.hasMoreMembers, true);
      const listings: any[][] = [newcomer.welcome.members, ...(await memberPages(b.httpUrl, room, 10))];
      let split = 0;
      for (const listing of listings) {
        const listedNames = new Set(listing.map((m) => m.name));
        for (const member of listing) {
          assert.equal(member.lookalike, inPair(member.name) ? true : undefined, `${member.name} marked or not`);
          const other = member.name.startsWith('Alice')
            ? `${CYRILLIC_ALICE}${member.name.slice(5)}`
            : pairOf(member.name);
          if (inPair(member.name) && !listedNames.has(other)) split += 1;
        }
      }
      // (What this is about: members marked though the one they look like is on another page.)
      assert.ok(split >= PAIRS, `${split} pair members listed without their lookalike`);

      // The seconds leave: on the next listing, nobody is marked any more.
      await closeCrowd(seconds);
      const deadline = Date.now() + 10_000;
      let pages = await memberPages(a.httpUrl, room, 10);
      while (pages.flat().length > FILLERS + PAIRS + 1 && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 50));
        pages = await memberPages(a.httpUrl, room, 10);
      }
      const left = pages.flat();
      assert.equal(new Set(left.map((m) => m.id)).size, FILLERS + PAIRS + 1, 'the seconds left');
      assert.deepEqual(
        left.filter((m) => m.lookalike !== undefined).map((m) => m.name),
        [],
        'nobody is marked once the lookalikes left',
      );
      // Nor in a welcome (made on the other instance).
      const late = await CrowdMember.join(b.wsUrl, room, 'Late');
      crowd.push(late);
      assert.deepEqual(
        late.welcome.members.filter((m: any) => m.lookalike !== undefined).map((m: any) => m.name),
        [],
      );
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

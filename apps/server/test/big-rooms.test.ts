import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { MemberPageSchema, decodeWith, userTag } from '@parley/protocol';
import { metric, startApp, type RunningApp } from './helpers/app.ts';
import { closeCrowd, eventually, openCrowd, type CrowdMember } from './helpers/crowd.ts';
import { TestRedis } from './helpers/redis-server.ts';

/**
 * Big rooms, scaled down (issue 18): hundreds of sockets in one room on loopback, with the
 * thresholds lowered through the app's environment. Asserts shapes, never speed: a welcome
 * stays bounded however large the room, and the member pages walk everyone present once. On
 * both engines; on Redis the crowd is spread over two instances.
 */

const CROWD = 400;
/** Members a welcome lists in these tests (WELCOME_MEMBERS_MAX). */
const WELCOME_MEMBERS = 20;
/**
 * A welcome of an empty room's history listing WELCOME_MEMBERS members is about 2.5 KB; the
 * whole list of CROWD members would be over 35 KB.
 */
const WELCOME_BYTES_MAX = 4096;
/** Typing notices are passed on in rooms of at most this many people (TYPING_MAX_MEMBERS). */
const TYPING_MAX = 5;
/** Joins and leaves go out one by one in rooms of at most this many people (PRESENCE_COUNT_ONLY_MEMBERS). */
const PRESENCE_ONE_BY_ONE_MAX = 50;

/** Every page of a room's members, walked from the start with `limit`; bounded in pages. */
async function walkMembers(httpUrl: string, room: string, limit: number): Promise<any[]> {
  const pages = [];
  let cursor: string | undefined;
  for (let i = 0; i < 100; i++) {
    const query = new URLSearchParams({ limit: String(limit), ...(cursor !== undefined ? { cursor } : {}) });
    const res = await fetch(`${httpUrl}/api/rooms/${room}/members?${query}`);
    assert.equal(res.status, 200);
    const page = decodeWith(MemberPageSchema, await res.json());
    assert.ok(page.ok, 'a page has the protocol shape');
    pages.push(page.value);
    cursor = page.value.cursor;
    if (cursor === undefined) return pages;
  }
  throw new Error('the walk did not end within 100 pages');
}

for (const engine of ['memory', 'redis'] as const) {
  describe(`a big room over the ${engine} engine`, () => {
    let redis: TestRedis | undefined;
    let a: RunningApp;
    let b: RunningApp;
    const env = () => ({
      REDIS_URL: redis?.url,
      WELCOME_MEMBERS_MAX: String(WELCOME_MEMBERS),
      TYPING_MAX_MEMBERS: String(TYPING_MAX),
      PRESENCE_COUNT_ONLY_MEMBERS: String(PRESENCE_ONE_BY_ONE_MAX),
    });

    before(async () => {
      if (engine === 'redis') redis = await TestRedis.start();
      a = await startApp(undefined, env());
      b = engine === 'redis' ? await startApp(undefined, env()) : a;
    });
    after(async () => {
      await a.app.close();
      if (b !== a) await b.app.close();
      await redis?.stop();
    });

    test(`the welcome lists at most WELCOME_MEMBERS_MAX members and counts everyone; the member pages walk all ${CROWD} once`, async (t) => {
      const room = `crowd_${engine}`;
      // The first alone, then the rest in batches.
      const crowd = await openCrowd([a.wsUrl], room, 1, { prefix: 'first' });
      t.after(() => closeCrowd(crowd));
      crowd.push(...(await openCrowd([a.wsUrl, b.wsUrl], room, CROWD - 2)));

      // Small enough to list whole: the first arrivals' welcomes say the list is complete.
      const first = crowd[0]!.welcome;
      assert.equal(first.memberCount, 1);
      assert.equal(first.hasMoreMembers, false);
      assert.deepEqual(
        first.members.map((m: any) => m.id),
        [crowd[0]!.id],
      );
      for (const member of crowd) {
        assert.ok(member.welcome.members.length <= WELCOME_MEMBERS, `${member.welcome.members.length} members listed`);
        assert.ok(member.welcomeBytes < WELCOME_BYTES_MAX, `a welcome of ${member.welcomeBytes} bytes`);
      }

      // The last one in: everyone counted, a bounded list of them, marked as cut.
      const last = await openCrowd([b.wsUrl], room, 1, { prefix: 'last' });
      crowd.push(...last);
      const welcome = last[0]!.welcome;
      assert.equal(welcome.memberCount, CROWD);
      assert.equal(welcome.hasMoreMembers, true);
      assert.equal(welcome.members.length, WELCOME_MEMBERS);
      assert.ok(last[0]!.welcomeBytes < WELCOME_BYTES_MAX, `the last welcome is ${last[0]!.welcomeBytes} bytes`);
      const everyone = new Set(crowd.map((m: CrowdMember) => m.id));
      for (const member of welcome.members) {
        assert.ok(everyone.has(member.id), 'a welcome lists people present');
        assert.equal(member.tag, userTag(member.id));
        assert.equal(member.role, 'member');
        assert.ok(Array.isArray(member.look));
      }

      // The pages: everyone present, each once, in the welcome's member shape.
      const pages = await walkMembers(a.httpUrl, room, 50);
      const listed = pages.flatMap((page) => page.members.map((m: any) => m.id));
      assert.equal(listed.length, CROWD, 'nobody listed twice');
      assert.deepEqual(new Set(listed), everyone);
      for (const page of pages) {
        assert.equal(page.room, room);
        assert.equal(page.memberCount, CROWD);
        // Memory: exactly the limit; Redis: HSCAN's COUNT is a hint (a few more at most).
        assert.ok(page.members.length <= (engine === 'memory' ? 50 : 100), `a page of ${page.members.length}`);
      }
      if (engine === 'memory') {
        // The welcome lists the first ones of the order the pages walk.
        assert.deepEqual(
          welcome.members.map((m: any) => m.id),
          listed.slice(0, WELCOME_MEMBERS),
        );
      }
      // The other instance lists the same people.
      const fromB = (await walkMembers(b.httpUrl, room, 200)).flatMap((page) => page.members.map((m: any) => m.id));
      assert.deepEqual(new Set(fromB), everyone);
      assert.equal(fromB.length, CROWD);
    });

    test('typing reaches a small room, not one over TYPING_MAX_MEMBERS, and again once it is small', async (t) => {
      const room = `typing_${engine}`;
      const crowd = await openCrowd([a.wsUrl, b.wsUrl], room, 3, { prefix: 'small' });
      t.after(() => closeCrowd(crowd));
      const typingSeen = () => crowd.map((m) => m.ofType('typing').length);
      const [first, second, third] = crowd as [CrowdMember, CrowdMember, CrowdMember];

      // Three people: everyone else sees the typist.
      first.send({ type: 'typing' });
      await eventually(() => second.ofType('typing').length === 1 && third.ofType('typing').length === 1, 'typing');

      // Seven: nobody sees it, and the typist is not told.
      const more = await openCrowd([a.wsUrl, b.wsUrl], room, TYPING_MAX - 1, { prefix: 'more' });
      crowd.push(...more);
      const joinsOfMore = () => third.ofType('join').filter((join) => join.user.name.startsWith('more-')).length;
      await eventually(() => joinsOfMore() === TYPING_MAX - 1, 'the joins reach the others');
      const before = typingSeen();
      second.send({ type: 'typing' });
      more[0]!.send({ type: 'typing' });
      await new Promise((r) => setTimeout(r, 500));
      assert.deepEqual(typingSeen(), before, 'no typing in a room over the bound');
      assert.equal(second.ofType('error').length + more[0]!.ofType('error').length, 0, 'no error for the typist');

      // Back to five: typing again.
      await closeCrowd(more.slice(1));
      await eventually(() => second.ofType('leave').length === TYPING_MAX - 2, 'the leaves reach the others');
      third.send({ type: 'typing' });
      await eventually(() => first.ofType('typing').length === 1, 'typing in a room back under the bound');
    });

    test('over PRESENCE_COUNT_ONLY_MEMBERS, joins and leaves reach the room as a count, at most once a second', async (t) => {
      const room = `presence_${engine}`;
      const early = await openCrowd([a.wsUrl, b.wsUrl], room, 10, { prefix: 'early' });
      t.after(() => closeCrowd(early));
      const startedAt = Date.now();
      const crowd = await openCrowd([a.wsUrl, b.wsUrl], room, 290, { prefix: 'crowd' });
      t.after(() => closeCrowd(crowd));
      const lastCount = (member: CrowdMember) => member.ofType('presence').at(-1)?.count;
      await eventually(() => early.every((m) => lastCount(m) === 300), 'the count of 300 reaches the early ones');
      const seconds = (Date.now() - startedAt) / 1000;
      for (const member of early) {
        // One by one while the room was small, then counts only: not 290 joins.
        const joins = member.ofType('join').length;
        assert.ok(joins < PRESENCE_ONE_BY_ONE_MAX, `${joins} joins`);
        const counts = member.ofType('presence').length;
        assert.ok(counts <= Math.ceil(seconds) + 1, `${counts} presence frames in ${seconds.toFixed(1)} s`);
      }
      // The last ones in had their count in the welcome, and no joins.
      assert.equal(crowd.at(-1)!.welcome.memberCount > PRESENCE_ONE_BY_ONE_MAX, true);

      // A hundred leave: no leave frames, a new count.
      const leaving = crowd.splice(0, 100);
      await closeCrowd(leaving);
      await eventually(() => early.every((m) => lastCount(m) === 200), 'the count of 200 reaches the early ones');
      for (const member of early) assert.equal(member.ofType('leave').length, 0, 'no leave one by one');
      const lateJoins = crowd.at(-1)!.ofType('join').length;
      assert.equal(lateJoins, 0, 'no join one by one in a big room');
    });

    test('people entering a room together share enter calls: each is told whether they joined, with the count and a bounded list', async () => {
      const room = `together_${engine}`;
      const engineOf = a.app.engine;
      const before = { ...engineOf.presenceCalls };
      const people = Array.from({ length: 150 }, (_, i) => ({ id: `together-${engine}-${i}`, name: `Together ${i}` }));
      // Asked in one turn: on Redis the first goes alone and the other 149 wait for it, then go in one call.
      const entered = await Promise.all(people.map((person) => engineOf.enter(room, person, WELCOME_MEMBERS)));
      const calls = engineOf.presenceCalls.calls - before.calls;
      assert.equal(engineOf.presenceCalls.entered - before.entered, people.length);
      assert.equal(calls, engine === 'redis' ? 2 : people.length, `${calls} enter calls for ${people.length} people`);
      assert.ok(
        entered.every((e) => e.joined),
        'each of them joined',
      );
      assert.equal(entered.at(-1)!.count, people.length);
      for (const e of entered) {
        assert.ok(e.listed <= WELCOME_MEMBERS && e.listed === (JSON.parse(e.json) as unknown[]).length);
        assert.ok(e.count >= e.listed && e.count <= people.length);
      }
      // Entering again (another tab, a reconnect) is no second join.
      const again = await engineOf.enter(room, people[0]!, 0);
      assert.equal(again.joined, false);
      assert.equal(again.count, people.length);
      assert.equal(again.listed, 0);
      const pages = await walkMembers(a.httpUrl, room, 200);
      assert.deepEqual(
        new Set(pages.flatMap((page) => page.members.map((m: any) => m.id))),
        new Set(people.map((person) => person.id)),
      );
      await Promise.all(people.map((person) => engineOf.exit(room, person)));
    });

    test('in a join storm, a join one by one goes to at most PRESENCE_COUNT_ONLY_MEMBERS sockets of an instance', async (t) => {
      const room = `storm_${engine}`;
      const crowd = await openCrowd([a.wsUrl, b.wsUrl], room, 300, { batchSize: 150, prefix: 'storm' });
      t.after(() => closeCrowd(crowd));
      await new Promise((r) => setTimeout(r, 300));
      // Joins go one by one only while the room is small (by the last count and by the sockets
      // here): at most that many join events, each to at most that many sockets of each instance.
      const instances = engine === 'redis' ? 2 : 1;
      const joins = crowd.reduce((n, m) => n + m.ofType('join').length, 0);
      const bound = PRESENCE_ONE_BY_ONE_MAX * PRESENCE_ONE_BY_ONE_MAX * instances;
      assert.ok(joins <= bound, `${joins} join frames in all, at most ${bound}`);
    });

    test('a member page names an empty room with nobody, and refuses a bad cursor or limit', async () => {
      const empty = await (await fetch(`${a.httpUrl}/api/rooms/nobody_${engine}/members`)).json();
      assert.deepEqual(empty, { room: `nobody_${engine}`, memberCount: 0, members: [] });
      // The largest cursor there can be is read (an empty page); one past it is refused as bad,
      // not passed to Redis's HSCAN, which refused it ('invalid cursor': 503 unavailable).
      const largest = await fetch(`${a.httpUrl}/api/rooms/lobby/members?cursor=18446744073709551615`);
      assert.equal(largest.status, 200);
      const tooLarge = ['cursor=18446744073709551616', 'cursor=99999999999999999999'];
      for (const query of ['cursor=abc', 'cursor=-1', 'limit=0', 'limit=201', 'limit=x', ...tooLarge]) {
        const res = await fetch(`${a.httpUrl}/api/rooms/lobby/members?${query}`);
        assert.equal(res.status, 400, query);
        assert.equal(((await res.json()) as { error: string }).error, 'bad_request');
      }
      const badRoom = await fetch(`${a.httpUrl}/api/rooms/${encodeURIComponent('no room')}/members`);
      assert.equal(badRoom.status, 400);
    });
  });
}

test('member pages are charged to the HTTP rate like the rest of the API', async (t) => {
  const { httpUrl } = await startApp(t, { HTTP_RATE_PER_IP: '1', HTTP_BURST_PER_IP: '2' });
  const statuses = [];
  for (let i = 0; i < 3; i++) {
    const res = await fetch(`${httpUrl}/api/rooms/lobby/members`);
    await res.arrayBuffer();
    statuses.push(res.status);
  }
  assert.deepEqual(statuses, [200, 200, 429]);
});

test('parley_room_broadcast_seconds observes each fan-out once, whatever the number of sockets it wrote', async (t) => {
  const app = await startApp(t);
  const crowd = await openCrowd([app.wsUrl], 'broadcast_metric', 60);
  t.after(() => closeCrowd(crowd));
  const [sender, ...others] = crowd as [CrowdMember, ...CrowdMember[]];
  // Every join has been written out (the first member hears the 59 after it).
  await eventually(() => sender.ofType('join').length === crowd.length - 1, 'the joins delivered');
  const count = () => metric(app, 'parley_room_broadcast_seconds_count');
  const before = await count();
  // Joins arriving together go out in one batch each turn: fewer fan-outs than joins.
  assert.ok(before >= 1 && before < crowd.length, `the joins' fan-outs were observed (${before})`);

  sender.send({ type: 'message', text: 'to everyone', clientMsgId: 'm1' });
  await eventually(() => others.every((m) => m.ofType('message').length === 1), 'the message reached everyone');
  assert.equal(await count(), before + 1, 'one fan-out to 60 sockets is one observation');
  assert.equal(await metric(app, 'parley_room_broadcast_seconds_bucket{le="+Inf"}'), before + 1);
  assert.ok((await metric(app, 'parley_room_broadcast_seconds_sum')) > 0);
});

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { compareMessageIds } from '@parley/protocol';
import { startApp, type RunningApp } from './helpers/app.ts';
import { TestRedis } from './helpers/redis-server.ts';
import { ServerProcess } from './helpers/server-process.ts';
import { startTwoInstances } from './helpers/two-instances.ts';
import { connectV1, json, nextOfType, type TestClient } from './helpers/ws-client.ts';
import { Redis } from 'ioredis';
import { roomKeys } from '../src/engine/redis-keys.ts';

/** Collects `count` message frames from a client, in arrival order. */
async function messages(client: TestClient, count: number): Promise<any[]> {
  const out = [];
  while (out.length < count) {
    const frame = await client.next(5000);
    if (frame.type === 'message') out.push(frame);
  }
  return out;
}

describe('parley.v1 across two instances on one Redis', () => {
  let redis: TestRedis;
  let a: RunningApp;
  let b: RunningApp;
  let stop: () => Promise<void>;

  before(async () => {
    // Short presence expiry so a dead instance's people go within the test's patience.
    ({ redis, a, b, stop } = await startTwoInstances(undefined, { PRESENCE_TTL_SECONDS: '2' }));
  });
  after(() => stop());

  test('ids strictly increase under concurrent senders on both instances, and all see one order', async () => {
    const onA = await connectV1(a.wsUrl, 'x_order', { name: 'SenderA' });
    const onB = await connectV1(b.wsUrl, 'x_order', { name: 'SenderB' });
    const count = 100;
    for (let i = 0; i < count; i++) {
      onA.client.send({ type: 'message', text: `a${i}`, clientMsgId: `a${i}` });
      onB.client.send({ type: 'message', text: `b${i}`, clientMsgId: `b${i}` });
    }
    const seenOnA = await messages(onA.client, 2 * count);
    const seenOnB = await messages(onB.client, 2 * count);
    const idsA = seenOnA.map((m) => m.id);
    for (let i = 1; i < idsA.length; i++)
      assert.ok(compareMessageIds(idsA[i - 1], idsA[i]) < 0, `${idsA[i - 1]} < ${idsA[i]}`);
    assert.deepEqual(
      seenOnB.map((m) => m.id),
      idsA,
      'both instances deliver the same order',
    );
    assert.equal(new Set(idsA).size, 2 * count);
    onA.client.close();
    onB.client.close();
  });

  test('a token issued by one instance is honoured by the other', async () => {
    const first = await connectV1(a.wsUrl, 'x_token', { name: 'Roamer' });
    first.client.close();
    const second = await connectV1(b.wsUrl, 'x_token', { name: 'Roamer', token: first.welcome.token });
    assert.equal(second.welcome.you.id, first.welcome.you.id);
    second.client.close();
  });

  test('a person with tabs on both instances is one member, and leaves once', async () => {
    const watcher = await connectV1(a.wsUrl, 'x_tabs', { name: 'Watcher' });
    const tabA = await connectV1(a.wsUrl, 'x_tabs', { name: 'Twin' });
    const tabB = await connectV1(b.wsUrl, 'x_tabs', { name: 'Twin', token: tabA.welcome.token });
    assert.equal(tabB.welcome.members.length, 2);
    const { rooms } = await json(await fetch(`${b.httpUrl}/api/rooms`));
    assert.equal(rooms.find((r: any) => r.room === 'x_tabs').members, 2);
    assert.equal((await nextOfType(watcher.client, 'join')).user.id, tabA.welcome.you.id);
    tabA.client.close();
    await tabA.client.waitClose();
    tabB.client.close();
    const leave = await nextOfType(watcher.client, 'leave');
    assert.equal(leave.user.id, tabA.welcome.you.id);
    await watcher.client.expectSilence(300); // exactly one leave
    watcher.client.close();
  });

  test('heartbeats keep people present past the expiry, and restore an entry that vanished', async () => {
    const watcher = await connectV1(a.wsUrl, 'x_beat', { name: 'Watcher' });
    const stayer = await connectV1(b.wsUrl, 'x_beat', { name: 'Stayer' });
    await nextOfType(watcher.client, 'join');
    const members = async () =>
      (await json(await fetch(`${a.httpUrl}/api/rooms`))).rooms.find((r: any) => r.room === 'x_beat')?.members;
    // Three expiries (2 s each) later, both are still there, and nobody left meanwhile.
    await new Promise((r) => setTimeout(r, 6000));
    assert.equal(await members(), 2);
    await watcher.client.expectSilence(100);

    // As if Redis lost the entries (an outage longer than the expiry): the next beats put them back.
    const redisClient = new Redis(redis.url);
    try {
      const keys = roomKeys('x_beat');
      await redisClient.del(keys.presence, keys.tabs, keys.people);
      let back: number | undefined;
      for (let waited = 0; waited < 5000 && back !== 2; waited += 200) {
        await new Promise((r) => setTimeout(r, 200));
        back = await members();
      }
      assert.equal(back, 2, 'both entries restored by the heartbeat');
    } finally {
      redisClient.disconnect();
    }
    watcher.client.close();
    stayer.client.close();
  });

  test('an instance shut down for a deploy: who reconnects elsewhere neither leaves nor joins again; who does not, leaves at the expiry', async () => {
    const leaving = await startApp(undefined, { REDIS_URL: redis.url, PRESENCE_TTL_SECONDS: '2' });
    let closed = false;
    try {
      const watcher = await connectV1(a.wsUrl, 'x_deploy', { name: 'Watcher' });
      const returner = await connectV1(leaving.wsUrl, 'x_deploy', { name: 'Returner' });
      const goner = await connectV1(leaving.wsUrl, 'x_deploy', { name: 'Goner' });
      assert.equal((await nextOfType(watcher.client, 'join')).user.name, 'Returner');
      assert.equal((await nextOfType(watcher.client, 'join')).user.name, 'Goner');

      await leaving.app.close();
      closed = true;
      assert.equal((await returner.client.waitClose()).code, 1012);
      const back = await connectV1(b.wsUrl, 'x_deploy', { name: 'Returner', token: returner.welcome.token });
      assert.equal(back.welcome.you.id, returner.welcome.you.id);
      assert.equal(back.welcome.memberCount, 3, 'the goner is still present until the expiry');

      // Nothing for the returner, then the goner's leave once its entry expired (2 s, swept by a heartbeat).
      const leave = await nextOfType(watcher.client, 'leave', 10_000);
      assert.equal(leave.user.id, goner.welcome.you.id);
      await watcher.client.expectSilence(2500);
      const members = await json(await fetch(`${a.httpUrl}/api/rooms/x_deploy/members`));
      assert.deepEqual(members.members.map((m: any) => m.name).sort(), ['Returner', 'Watcher']);
      watcher.client.close();
      back.client.close();
    } finally {
      if (!closed) await leaving.app.close();
    }
  });

  test('members of a killed instance disappear within the presence expiry', async () => {
    const doomed = await ServerProcess.start({ REDIS_URL: redis.url, PRESENCE_TTL_SECONDS: '2' });
    try {
      const watcher = await connectV1(a.wsUrl, 'x_crash', { name: 'Watcher' });
      const ghost = await connectV1(doomed.wsUrl, 'x_crash', { name: 'Ghost' });
      assert.equal((await nextOfType(watcher.client, 'join')).user.name, 'Ghost');
      const killedAt = Date.now();
      await doomed.stop('SIGKILL');
      const leave = await nextOfType(watcher.client, 'leave', 10_000);
      assert.equal(leave.user.id, ghost.welcome.you.id);
      const took = Date.now() - killedAt;
      assert.ok(took < 10_000, `left after ${took} ms`);
      const { rooms } = await json(await fetch(`${a.httpUrl}/api/rooms`));
      assert.equal(rooms.find((r: any) => r.room === 'x_crash').members, 1);
      watcher.client.close();
    } finally {
      await doomed.stop('SIGKILL');
    }
  });
});

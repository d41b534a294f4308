import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { roomPath, type RunningApp } from './helpers/app.ts';
import { TestRedis } from './helpers/redis-server.ts';
import { startTwoInstances } from './helpers/two-instances.ts';
import { TestClient } from './helpers/ws-client.ts';

describe('two instances on one Redis', () => {
  let redis: TestRedis;
  let a: RunningApp;
  let b: RunningApp;
  let stop: () => Promise<void>;
  let probe: Redis;

  before(async () => {
    ({ redis, a, b, stop } = await startTwoInstances(undefined));
    probe = new Redis(redis.url);
  });
  after(async () => {
    probe.disconnect();
    await stop();
  });

  const subscribers = async (room: string): Promise<number> => {
    const reply = (await probe.call('PUBSUB', 'NUMSUB', `parley:{${room}}:events`)) as [string, number];
    return Number(reply[1]);
  };

  test('a message sent to instance A reaches sockets on instance B, and back', async () => {
    const onA = await TestClient.connect(a.wsUrl + roomPath('shared'));
    const onB = await TestClient.connect(b.wsUrl + roomPath('shared'));
    onA.send({ message: 'from A' });
    assert.deepEqual(await onB.next(), { message: 'from A' });
    assert.deepEqual(await onA.next(), { message: 'from A' });
    onB.send({ message: 'from B' });
    assert.deepEqual(await onA.next(), { message: 'from B' });
    assert.deepEqual(await onB.next(), { message: 'from B' });
    onA.close();
    onB.close();
  });

  test('a Unicode room is shared across instances', async () => {
    const onA = await TestClient.connect(a.wsUrl + roomPath('한국어'));
    const onB = await TestClient.connect(b.wsUrl + roomPath('한국어'));
    onB.send({ message: '안녕' });
    assert.deepEqual(await onA.next(), { message: '안녕' });
    onA.close();
    onB.close();
  });

  test('one subscription per room per instance, however many sockets, released when the last leaves', async () => {
    const sockets = [];
    for (let i = 0; i < 3; i++) sockets.push(await TestClient.connect(a.wsUrl + roomPath('counted')));
    sockets.push(await TestClient.connect(b.wsUrl + roomPath('counted')));
    // Everyone is joined once a message round-trips to all four.
    sockets[0]!.send({ message: 'sync' });
    for (const s of sockets) assert.deepEqual(await s.next(), { message: 'sync' });
    assert.equal(await subscribers('counted'), 2, 'one per instance');
    assert.equal(a.app.roomHub.memberCount('counted'), 3);

    for (const s of sockets) {
      s.close();
      await s.waitClose();
    }
    const deadline = Date.now() + 3000;
    while ((await subscribers('counted')) !== 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    assert.equal(await subscribers('counted'), 0);
    assert.equal(a.app.roomHub.memberCount('counted'), 0);
  });

  test('a message posted while an instance subscribes its first socket of a room still reaches that socket, once', async () => {
    // The reference protocol has no since: what another instance stores between this instance's
    // read of the log's position and its subscription taking effect must still be delivered.
    const room = 'subscribing';
    const onA = await TestClient.connect(a.wsUrl + roomPath(room));
    const engine = b.app.engine;
    const subscribe = engine.subscribe.bind(engine);
    engine.subscribe = async (name: string) => {
      if (name === room) {
        onA.send({ message: 'while B subscribes' });
        assert.deepEqual(await onA.next(), { message: 'while B subscribes' });
      }
      return subscribe(name);
    };
    try {
      const onB = await TestClient.connect(b.wsUrl + roomPath(room));
      assert.deepEqual(await onB.next(), { message: 'while B subscribes' });
      onA.send({ message: 'after' });
      assert.deepEqual(await onB.next(), { message: 'after' }, 'the first came once, then the next');
      onB.close();
    } finally {
      engine.subscribe = subscribe;
      onA.close();
    }
  });

  test('leaving and rejoining quickly keeps the room subscribed', async () => {
    for (let i = 0; i < 5; i++) {
      const s = await TestClient.connect(a.wsUrl + roomPath('churn'));
      s.close();
    }
    const stayer = await TestClient.connect(a.wsUrl + roomPath('churn'));
    const other = await TestClient.connect(b.wsUrl + roomPath('churn'));
    other.send({ message: 'after churn' });
    assert.deepEqual(await stayer.next(), { message: 'after churn' });
    assert.equal(await subscribers('churn'), 2);
    stayer.close();
    other.close();
  });

  test('garbage published on a room channel by someone else never reaches clients', async () => {
    const client = await TestClient.connect(a.wsUrl + roomPath('guarded'));
    client.send({ message: 'joined' });
    await client.next();
    await probe.publish('parley:{guarded}:events', 'not json');
    await probe.publish('parley:{guarded}:events', JSON.stringify({ room: 'elsewhere', text: 'x', ts: 1 }));
    client.send({ message: 'after garbage' });
    assert.deepEqual(await client.next(), { message: 'after garbage' });
    client.close();
  });
});

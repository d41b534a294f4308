import { UNLIMITED } from '../helpers/app.ts';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TestRedis } from '../helpers/redis-server.ts';
import { ServerProcess } from '../helpers/server-process.ts';
import { connectV1, postV1 as post } from '../helpers/ws-client.ts';

test('an instance killed with SIGKILL: its clients move to the other instance, recover the gap, and lose no acked message', async (t) => {
  const redis = await TestRedis.start();
  t.after(() => redis.stop());
  const env = { REDIS_URL: redis.url, ...UNLIMITED };
  const doomed = await ServerProcess.start(env);
  const survivor = await ServerProcess.start(env);
  t.after(() => doomed.stop('SIGKILL'));
  t.after(() => survivor.stop('SIGKILL'));

  const movers = await connectV1(doomed.wsUrl, 'crash', { name: 'Mover' });
  const stayer = await connectV1(survivor.wsUrl, 'crash', { name: 'Stayer' });
  const acked: string[] = [];
  for (let i = 0; i < 5; i++) acked.push(await post(movers.client, `from mover ${i}`, `mv${i}`));
  // The newest message the mover has actually seen, as its client would remember it.
  let lastSeen: string | undefined;
  while (lastSeen !== acked.at(-1)) {
    const frame = await movers.client.next(5000);
    if (frame.type === 'message') lastSeen = frame.id;
  }

  await doomed.stop('SIGKILL');
  const closed = await movers.client.waitClose(5000);
  assert.equal(closed.code, 1006, 'an abrupt end, no close frame');

  // While the mover is away, the other instance keeps chatting.
  for (let i = 0; i < 5; i++) acked.push(await post(stayer.client, `while away ${i}`, `st${i}`));

  // The client reconnects to the surviving instance with its token and the last id it saw.
  const back = await connectV1(survivor.wsUrl, 'crash', {
    name: 'Mover',
    token: movers.welcome.token,
    since: lastSeen,
  });
  assert.equal(back.welcome.recovered, true);
  assert.equal(back.welcome.you.id, movers.welcome.you.id);
  assert.deepEqual(
    back.welcome.history.map((m: any) => m.text),
    Array.from({ length: 5 }, (_, i) => `while away ${i}`),
  );
  // Every acked message exists exactly once in the room's history.
  const fresh = await connectV1(survivor.wsUrl, 'crash', { name: 'Auditor' });
  const ids = fresh.welcome.history.map((m: any) => m.id);
  for (const id of acked) assert.equal(ids.filter((x: string) => x === id).length, 1, id);
  for (const c of [stayer.client, back.client, fresh.client]) c.close();
});

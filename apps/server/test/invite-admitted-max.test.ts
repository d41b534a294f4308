import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { CLOSE_CODES, tokenProtocol } from '@parley/protocol';
import { startApp, type RunningApp } from './helpers/app.ts';
import { configure, enter, moderate, nextId } from './helpers/moderation.ts';
import { TestRedis } from './helpers/redis-server.ts';
import { connectV1, nextOfType, postV1, TestClient } from './helpers/ws-client.ts';

/**
 * The people an invite-only room lets in with an invite are bounded (ROOM_ADMITTED_MAX): one
 * invite used to let in any number of fresh identities, each remembered for the room's
 * lifetime (on Redis, fields of the moderation hash the unban script reads whole). Past the
 * bound a newcomer with a valid invite is told `room_full` (close 4403); whoever was let in,
 * the owner and the moderators still get in. Turning invite-only off forgets the list.
 */

for (const engine of ['memory', 'redis'] as const) {
  describe(`ROOM_ADMITTED_MAX over the ${engine} engine`, () => {
    let redis: TestRedis | undefined;
    let app: RunningApp;
    before(async () => {
      if (engine === 'redis') redis = await TestRedis.start();
      app = await startApp(undefined, { REDIS_URL: redis?.url, ROOM_ADMITTED_MAX: '3' });
    });
    after(async () => {
      await app.app.close();
      await redis?.stop();
    });

    test('three newcomers with an invite get in, the fourth is refused with room_full; those let in, the owner and moderators still get in', async () => {
      const room = `admitted_${engine}`;
      const owner = await connectV1(app.wsUrl, room, { name: 'Olga' });
      await postV1(owner.client, 'mine');
      const mia = await connectV1(app.wsUrl, room, { name: 'Mia' });
      assert.equal((await moderate(owner.client, 'promote', mia.welcome.you.id)).type, 'ack');
      mia.client.close();
      await mia.client.waitClose();
      assert.equal((await configure(owner.client, { inviteOnly: true })).type, 'ack');
      owner.client.send({ type: 'invite', expiresInSeconds: 600, clientMsgId: nextId() });
      const { invite } = await nextOfType(owner.client, 'invite');
      // Comes back with a token and no invite.
      const comeBack = (name: string, token: string) => enter(app.wsUrl, room, { name, token });
      // Arrives with the invite (and a token, when coming back).
      const arrive = async (name: string, token?: string) => {
        const client = await TestClient.connect(
          `${app.wsUrl}/ws/chat/${room}/?name=${name}&invite=${encodeURIComponent(invite)}`,
          { protocols: ['parley.v1', ...(token !== undefined ? [tokenProtocol(token)] : [])] },
        );
        const first = await client.next(5000);
        if (first.type === 'welcome') return { welcome: first, client };
        return { refused: first, code: (await client.waitClose(5000)).code };
      };

      const admitted = [];
      for (const name of ['Ann', 'Ben', 'Cid']) {
        const entry = await arrive(name);
        assert.ok('welcome' in entry, `${name} gets in: ${JSON.stringify(entry)}`);
        admitted.push(entry);
      }
      const dan = await arrive('Dan');
      assert.ok('refused' in dan, 'the fourth newcomer is refused');
      assert.equal(dan.refused.type, 'error');
      assert.equal(dan.refused.code, 'room_full');
      assert.equal(dan.code, CLOSE_CODES.removed);
      // Again: still refused (nothing was stored for him).
      const again = await arrive('Dan');
      assert.ok('refused' in again && again.refused.code === 'room_full');

      // Those let in come back, with or without the invite; the owner and the moderator too.
      const [ann, ben] = admitted as { welcome: any; client: any }[];
      ann!.client.close();
      ben!.client.close();
      const annBack = await comeBack('Ann', ann!.welcome.token);
      assert.ok('welcome' in annBack, 'let in before: no invite needed');
      const benBack = await arrive('Ben', ben!.welcome.token);
      assert.ok('welcome' in benBack, 'let in before: the invite changes nothing');
      owner.client.close();
      const ownerBack = await comeBack('Olga', owner.welcome.token);
      assert.ok('welcome' in ownerBack && ownerBack.welcome.you.role === 'owner');
      const miaBack = await comeBack('Mia', mia.welcome.token);
      assert.ok('welcome' in miaBack && miaBack.welcome.you.role === 'moderator');
      // A neighbour's room is not affected.
      const neighbour = await connectV1(app.wsUrl, `${room}_next_door`, { name: 'Nia' });
      await postV1(neighbour.client, 'hello');

      if (redis !== undefined) {
        const direct = new Redis(redis.url);
        try {
          const keys = await direct.keys(`*${room}*`);
          const moderation = [];
          for (const key of keys)
            if ((await direct.type(key)) === 'hash' && (await direct.hexists(key, 'io'))) moderation.push(key);
          assert.equal(moderation.length, 1, `one moderation hash: ${keys.join(', ')}`);
          const fields = await direct.hkeys(moderation[0]!);
          assert.equal(fields.filter((field) => field.startsWith('in:')).length, 3);
          assert.equal(await direct.hget(moderation[0]!, 'admitted'), '3');
        } finally {
          direct.disconnect();
        }
      }

      // Turning invite-only off forgets the list; on again, whoever is here (Ann) stays let in,
      // and there is room for newcomers again.
      const ownerClient = (ownerBack as { client: any }).client;
      for (const entry of [benBack, miaBack, ...admitted.slice(2)]) {
        const { client } = entry as { client: TestClient };
        client.close();
        await client.waitClose();
      }
      // (Until their leaving is through: the room holds Olga and Ann alone then.)
      const gone = new Set([ben!.welcome.you.id, mia.welcome.you.id, (admitted[2] as { welcome: any }).welcome.you.id]);
      while (gone.size > 0) {
        const frame = await ownerClient.next(5000);
        if (frame.type === 'leave') gone.delete(frame.user.id);
      }
      assert.equal((await configure(ownerClient, { inviteOnly: false })).type, 'ack');
      assert.equal((await configure(ownerClient, { inviteOnly: true })).type, 'ack');
      const danNow = await arrive('Dan');
      assert.ok('welcome' in danNow, `room again: ${JSON.stringify(danNow)}`);
      const benNoInvite = await comeBack('Ben', ben!.welcome.token);
      assert.ok('refused' in benNoInvite && benNoInvite.refused.code === 'invite_required', 'Ben was forgotten');
      (annBack as { client: any }).client.close();
      const annAgain = await comeBack('Ann', ann!.welcome.token);
      assert.ok('welcome' in annAgain, 'Ann was here when it was turned on again');
      for (const entry of [annAgain, danNow, ownerBack]) (entry as { client: any }).client.close();
      neighbour.client.close();
    });
  });
}

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { compareMessageIds } from '@parley/protocol';
import { LATEST_PAGE_MODERATION, LATEST_PAGE_SETTINGS_CHANGES } from '../src/engine/engine.ts';
import { startApp, type RunningApp } from './helpers/app.ts';
import { configure, moderate } from './helpers/moderation.ts';
import { TestRedis } from './helpers/redis-server.ts';
import { connectV1, postV1, type TestClient } from './helpers/ws-client.ts';

/**
 * A welcome without `since` (a newcomer, a reload) lists the moderation actions and settings
 * changes since the oldest message of its history, as it does the webhook's changes: the same
 * frames every member got live, in the log's order, the newest LATEST_PAGE_MODERATION and
 * LATEST_PAGE_SETTINGS_CHANGES at most. Scroll-back pages carry none. On both engines.
 */

/** Reads a client's frames until the one whose log id is `id` (a message or an entry), returning the room entries seen on the way. */
async function entriesUntil(client: TestClient, id: string): Promise<any[]> {
  const seen: any[] = [];
  for (;;) {
    const frame = await client.next(5000);
    if (frame.type === 'moderation' || frame.type === 'settings') seen.push(frame);
    if (frame.id === id || frame.eventId === id) return seen;
  }
}

/** The moderation and settings entries of a welcome, as `[type, eventId]`, in log order. */
function roomEntries(welcome: any): Array<[string, string]> {
  const entries: Array<[string, string]> = [
    ...(welcome.moderation ?? []).map((m: any) => ['moderation', m.eventId]),
    ...(welcome.settingsChanges ?? []).map((s: any) => ['settings', s.eventId]),
  ];
  return entries.sort((a, b) => compareMessageIds(a[1], b[1]));
}

for (const engine of ['memory', 'redis'] as const) {
  describe(`a latest page's moderation and settings entries (${engine} engine)`, () => {
    let redis: TestRedis | undefined;
    let app: RunningApp;
    before(async () => {
      if (engine === 'redis') redis = await TestRedis.start();
      app = await startApp(undefined, { REDIS_URL: redis?.url });
    });
    after(async () => {
      await app.app.close();
      await redis?.stop();
    });

    test('a newcomer’s welcome lists what every member saw live, in the log’s order; so do a member’s and the owner’s after a reload', async () => {
      const room = `latest_entries_${engine}`;
      const { client: olga, welcome: olgas } = await connectV1(app.wsUrl, room, { name: 'Olga' });
      await postV1(olga, 'I was here first');
      const { client: bob, welcome: bobs } = await connectV1(app.wsUrl, room, { name: 'Bob' });
      const { client: carl, welcome: carls } = await connectV1(app.wsUrl, room, { name: 'Carl' });
      const carlId = carls.you.id;
      assert.equal(bobs.moderation, undefined, 'nothing logged yet');
      assert.equal(bobs.settingsChanges, undefined);

      assert.equal((await moderate(olga, 'mute', carlId, { durationSeconds: 600, reason: 'too loud' })).type, 'ack');
      assert.equal((await configure(olga, { topic: 'Quiet, please', slowModeSeconds: 30 })).type, 'ack');
      await postV1(olga, 'between the entries');
      assert.equal((await moderate(olga, 'promote', bobs.you.id)).type, 'ack');
      assert.equal((await moderate(olga, 'unmute', carlId)).type, 'ack');
      assert.equal((await configure(olga, { slowModeSeconds: 0 })).type, 'ack');
      const marker = await postV1(olga, 'marker');
      // What a plain member got live (Carl, who was muted and is a member).
      const live = await entriesUntil(carl, marker);
      assert.deepEqual(
        live.map((frame) => frame.action ?? 'settings'),
        ['mute', 'settings', 'promote', 'unmute', 'settings'],
      );

      // A newcomer: the same frames, each list oldest first, in the log's order together.
      const { client: dana, welcome: danas } = await connectV1(app.wsUrl, room, { name: 'Dana' });
      const moderation = live.filter((frame) => frame.type === 'moderation');
      const settings = live.filter((frame) => frame.type === 'settings');
      assert.deepEqual(danas.moderation, moderation);
      assert.deepEqual(danas.settingsChanges, settings);
      assert.deepEqual(
        roomEntries(danas),
        live.map((frame) => [frame.type, frame.eventId]),
      );
      assert.equal(danas.lastEventId, marker);
      // The welcome's standing is the state now: Carl is not muted, whatever the entries say.
      assert.equal(danas.settings.slowModeSeconds, 0);

      // A reload: a member (no since) and the owner get the same lists, nothing more, nothing less.
      carl.close();
      const { client: carlAgain, welcome: carlsAgain } = await connectV1(app.wsUrl, room, {
        name: 'Carl',
        token: carls.token,
      });
      assert.equal(carlsAgain.you.mutedUntil, undefined, 'unmuted: the entries are lines, not the state');
      olga.close();
      const { client: olgaAgain, welcome: olgasAgain } = await connectV1(app.wsUrl, room, {
        name: 'Olga',
        token: olgas.token,
      });
      for (const welcome of [carlsAgain, olgasAgain]) {
        assert.deepEqual(welcome.moderation, moderation);
        assert.deepEqual(welcome.settingsChanges, settings);
      }

      // Scroll-back pages are about older messages: none. The HTTP latest page is a page of
      // messages, as before (its entries come with `after`).
      const older: any = await (await fetch(`${app.httpUrl}/api/rooms/${room}/messages?before=${marker}`)).json();
      assert.equal(older.moderation, undefined);
      assert.equal(older.settingsChanges, undefined);
      const latest: any = await (await fetch(`${app.httpUrl}/api/rooms/${room}/messages`)).json();
      assert.equal(latest.moderation, undefined);
      for (const client of [bob, dana, carlAgain, olgaAgain]) client.close();
    });

    test('entries older than the message before the history are not listed', async (t) => {
      // A page of two messages: the entries of the stretch it shows are listed, not older ones.
      const small = await startApp(t, { REDIS_URL: redis?.url, HISTORY_PAGE_SIZE: '2' });
      const room = `latest_entries_stretch_${engine}`;
      const { client: olga } = await connectV1(small.wsUrl, room, { name: 'Olga' });
      await postV1(olga, 'one');
      const { client: carl, welcome: carls } = await connectV1(small.wsUrl, room, { name: 'Carl' });
      const carlId = carls.you.id;
      const oldMute = await moderate(olga, 'mute', carlId);
      const oldTopic = await configure(olga, { topic: 'Old' });
      await postV1(olga, 'two');
      await postV1(olga, 'three');
      const unmute = await moderate(olga, 'unmute', carlId);
      await postV1(olga, 'four');
      const topic = await configure(olga, { topic: 'New' });
      const { client: dana, welcome } = await connectV1(small.wsUrl, room, { name: 'Dana' });
      assert.deepEqual(
        welcome.history.map((m: any) => m.text),
        ['three', 'four'],
      );
      assert.equal(welcome.hasMore, true);
      assert.deepEqual(roomEntries(welcome), [
        ['moderation', unmute.id],
        ['settings', topic.id],
      ]);
      for (const id of [oldMute.id, oldTopic.id]) assert.ok(!JSON.stringify(welcome).includes(id));
      for (const client of [olga, carl, dana]) client.close();
    });

    test('a newcomer’s welcome lists the newest LATEST_PAGE_MODERATION and LATEST_PAGE_SETTINGS_CHANGES, however many were made', async () => {
      const room = `latest_entries_many_${engine}`;
      const { client: olga } = await connectV1(app.wsUrl, room, { name: 'Olga' });
      await postV1(olga, 'mine');
      const { client: carl, welcome: carls } = await connectV1(app.wsUrl, room, { name: 'Carl' });
      const moderationIds: string[] = [];
      for (let i = 0; i < LATEST_PAGE_MODERATION + 5; i++) {
        const reply = await moderate(olga, i % 2 === 0 ? 'mute' : 'unmute', carls.you.id);
        assert.equal(reply.type, 'ack', JSON.stringify(reply));
        moderationIds.push(reply.id);
      }
      const settingsIds: string[] = [];
      for (let i = 0; i < LATEST_PAGE_SETTINGS_CHANGES + 5; i++) {
        const reply = await configure(olga, { topic: `Topic ${i}` });
        assert.equal(reply.type, 'ack', JSON.stringify(reply));
        settingsIds.push(reply.id);
      }
      const { client: dana, welcome } = await connectV1(app.wsUrl, room, { name: 'Dana' });
      assert.deepEqual(
        welcome.moderation.map((m: any) => m.eventId),
        moderationIds.slice(-LATEST_PAGE_MODERATION),
        'the newest actions, oldest first',
      );
      assert.deepEqual(
        welcome.settingsChanges.map((s: any) => s.eventId),
        settingsIds.slice(-LATEST_PAGE_SETTINGS_CHANGES),
        'the newest settings changes, oldest first',
      );
      for (const client of [olga, carl, dana]) client.close();
    });
  });
}

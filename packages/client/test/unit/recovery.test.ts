import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { HistoryPage, MessageFrame, WelcomeFrame } from '@parley/protocol';
import { batchFrames, logId, newestInBatch, RecentIds, recoverAfter } from '../../src/index.ts';

const user = { id: 'u_1', name: 'Ann' };
const message = (id: string): MessageFrame => ({ type: 'message', id, room: 'r', user, text: id, ts: 1 });
const page = (ids: string[], rest: Partial<HistoryPage> = {}): HistoryPage => ({
  room: 'r',
  messages: ids.map(message),
  hasMore: true,
  hasNewer: false,
  recovered: true,
  ...rest,
});

test("a batch's entries come out in the room's order, whatever list they are in", () => {
  const welcome: Pick<WelcomeFrame, 'history' | 'changes' | 'moderation' | 'settingsChanges' | 'lastEventId'> = {
    history: [message('10-0'), message('12-0')],
    changes: [{ type: 'delete', id: '3-0', eventId: '11-0' }],
    moderation: [{ type: 'moderation', action: 'mute', user, by: user, eventId: '9-5' }],
    settingsChanges: [
      {
        type: 'settings',
        topic: 't',
        unlisted: false,
        inviteOnly: false,
        slowModeSeconds: 0,
        readOnly: false,
        by: user,
        eventId: '100-0',
      },
    ],
  };
  assert.deepEqual(batchFrames(welcome).map(logId), ['9-5', '10-0', '11-0', '12-0', '100-0']);
  // Ids compare as numbers: 100-0 is newer than 12-0 (a string compare says otherwise).
  assert.equal(newestInBatch(welcome), '100-0');
});

test("a batch's newest id is its lastEventId when that is newer than its entries", () => {
  assert.equal(newestInBatch(page(['5-0'], { lastEventId: '7-0' })), '7-0');
  assert.equal(newestInBatch(page(['5-0'], { lastEventId: 'not an id' })), '5-0');
  assert.equal(newestInBatch(page([])), undefined);
});

test('recovery fetches page after page, each after the newest id of the one before, until hasNewer is false', async () => {
  const pages: Record<string, HistoryPage> = {
    '4-0': page(['5-0', '6-0'], { hasNewer: true }),
    '6-0': page(['7-0'], { hasNewer: true, changes: [{ type: 'delete', id: '5-0', eventId: '8-0' }] }),
    '8-0': page(['9-0'], { hasNewer: false }),
  };
  const asked: string[] = [];
  const cursors: string[] = [];
  const outcome = await recoverAfter(
    '4-0',
    {
      fetchAfter: async (after) => {
        asked.push(after);
        const next = pages[after];
        if (next === undefined) throw new Error(`no page after ${after}`);
        return next;
      },
      onPage: (_page, cursor) => cursors.push(cursor),
    },
    new AbortController().signal,
  );
  assert.deepEqual(asked, ['4-0', '6-0', '8-0']);
  assert.deepEqual(cursors, ['6-0', '8-0', '9-0']);
  assert.deepEqual(outcome, { kind: 'complete', pages: 3, gap: false });
});

test('a page with recovered: false is a gap; an empty "more to come" page and too many pages stop the loop', async () => {
  const signal = new AbortController().signal;
  const onPage = () => {};
  const gap = await recoverAfter(
    '1-0',
    { fetchAfter: async () => page(['9-0'], { recovered: false }), onPage },
    signal,
  );
  assert.deepEqual(gap, { kind: 'complete', pages: 1, gap: true });

  const empty = await recoverAfter('1-0', { fetchAfter: async () => page([], { hasNewer: true }), onPage }, signal);
  assert.equal(empty.kind, 'incomplete');

  let n = 1;
  const endless = await recoverAfter(
    '1-0',
    { fetchAfter: async () => page([`${++n}-0`], { hasNewer: true }), onPage },
    signal,
    5,
  );
  assert.deepEqual([endless.kind, endless.pages], ['incomplete', 5]);
});

test('a failed fetch leaves the recovery incomplete at its cursor; an abort says aborted', async () => {
  const failed = await recoverAfter(
    '3-0',
    { fetchAfter: async () => Promise.reject(new Error('HTTP 500')), onPage: () => {} },
    new AbortController().signal,
  );
  assert.deepEqual([failed.kind, 'cursor' in failed && failed.cursor], ['incomplete', '3-0']);

  const controller = new AbortController();
  const aborted = await recoverAfter(
    '3-0',
    {
      fetchAfter: async () => {
        controller.abort();
        return page(['4-0'], { hasNewer: true });
      },
      onPage: () => assert.fail('a page after the abort was applied'),
    },
    controller.signal,
  );
  assert.equal(aborted.kind, 'aborted');
});

test('recent ids: a duplicate is refused; past the capacity the oldest is forgotten', () => {
  const ids = new RecentIds(3);
  assert.deepEqual(
    ['1-0', '2-0', '1-0', '3-0'].map((id) => ids.add(id)),
    [true, true, false, true],
  );
  ids.add('4-0');
  assert.equal(ids.size, 3);
  assert.equal(ids.has('1-0'), false);
  assert.equal(ids.has('4-0'), true);
});

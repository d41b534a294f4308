import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ChangeFrame, HistoryPage, MessageFrame, WebhookChangeFrame, WelcomeFrame } from '@parley/protocol';
import {
  batchFrames,
  isLogFrame,
  logId,
  MAX_RECOVERY_PAGES,
  newestId,
  newestInBatch,
  RecentIds,
  RECOVERY_PAGE_LIMIT,
  recoverAfter,
} from '../../src/index.ts';

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

test("a change of the room's webhook is a log entry of a batch, and a webhook frame with `by` and `eventId` is a log frame", () => {
  const set: WebhookChangeFrame = { type: 'webhook', webhook: { events: ['message'] }, by: user, eventId: '11-2' };
  const removed: WebhookChangeFrame = { type: 'webhook', webhook: null, by: user, eventId: '13-0' };
  const welcome = { history: [message('10-0'), message('12-0')], webhookChanges: [set, removed] };
  assert.deepEqual(batchFrames(welcome).map(logId), ['10-0', '11-2', '12-0', '13-0']);
  assert.equal(newestInBatch(welcome), '13-0');
  assert.equal(newestInBatch(page(['5-0'], { webhookChanges: [set] })), '11-2');
  assert.ok(isLogFrame(set));
  // The owner's answer, and a notice from a server before webhook changes were logged: not entries.
  assert.ok(!isLogFrame({ type: 'webhook', webhook: null, clientMsgId: 'w1' } as { type: string }));
  assert.ok(!isLogFrame({ type: 'webhook', webhook: null, by: user } as { type: string }));
});

test("a batch's newest id is its lastEventId when that is newer than its entries", () => {
  assert.equal(newestInBatch(page(['5-0'], { lastEventId: '7-0' })), '7-0');
  assert.equal(newestInBatch(page(['5-0'], { lastEventId: 'not an id' })), '5-0');
  assert.equal(newestInBatch(page([])), undefined);
});

test('newestId compares log ids as numbers; a batch counts its newest message and its changes', () => {
  assert.equal(newestId(['9-0', undefined, '10-0', '10-1', '2-5']), '10-1');
  assert.equal(newestId([]), undefined);
  const del = (id: string, eventId: string): ChangeFrame => ({ type: 'delete', id, eventId });
  assert.equal(newestInBatch({ history: [message('3-0'), message('4-0')], changes: [del('1-0', '12-0')] }), '12-0');
  assert.equal(newestInBatch({ history: [message('30-0')], changes: [del('1-0', '12-0')] }), '30-0');
  assert.equal(
    newestInBatch(page([], { changes: [{ type: 'edit', id: '1-0', text: 'x', editedTs: 1, eventId: '8-0' }] })),
    '8-0',
  );
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

test('each page is asked after the newest id the one before covered: a change, a lastEventId', async () => {
  const edit: ChangeFrame = { type: 'edit', id: '1-0', text: 'x', editedTs: 1, eventId: '4-0' };
  const pages: HistoryPage[] = [
    page(['3-0'], { hasNewer: true, changes: [edit] }),
    page([], { hasNewer: true, changes: [{ type: 'delete', id: '1-0', eventId: '6-0' }] }),
    page(['7-0'], { hasNewer: true, lastEventId: '8-0' }),
    page([], { hasNewer: false }),
  ];
  const asked: string[] = [];
  const seen: [string, string][] = [];
  const outcome = await recoverAfter(
    '2-0',
    {
      fetchAfter: async (after) => {
        asked.push(after);
        return pages.shift()!;
      },
      onPage: (_page, cursor, after) => seen.push([after, cursor]),
    },
    new AbortController().signal,
  );
  assert.deepEqual(outcome, { kind: 'complete', pages: 4, gap: false });
  assert.deepEqual(asked, ['2-0', '4-0', '6-0', '8-0']);
  // Each page with the id it was asked after (a gap would be right after it) and the new cursor.
  assert.deepEqual(seen, [
    ['2-0', '4-0'],
    ['4-0', '6-0'],
    ['6-0', '8-0'],
    ['8-0', '8-0'],
  ]);
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

test('by default a recovery asks for pages of 200 and stops after 40, the hole after the last id it got', async () => {
  assert.equal(RECOVERY_PAGE_LIMIT, 200);
  const asked: string[] = [];
  const outcome = await recoverAfter(
    '0-0',
    {
      // A server with 10,000 messages after 0-0, ten a page.
      fetchAfter: async (after) => {
        asked.push(after);
        const from = Number(after.split('-')[0]) + 1;
        return page(
          Array.from({ length: 10 }, (_, i) => `${from + i}-0`),
          { hasNewer: true },
        );
      },
      onPage: () => {},
    },
    new AbortController().signal,
  );
  assert.equal(asked.length, MAX_RECOVERY_PAGES);
  assert.deepEqual(outcome, {
    kind: 'incomplete',
    cursor: `${MAX_RECOVERY_PAGES * 10}-0`,
    pages: MAX_RECOVERY_PAGES,
    reason: `Stopped after ${MAX_RECOVERY_PAGES} pages.`,
  });
});

test('a failed fetch leaves the recovery incomplete at its cursor; an abort says aborted', async () => {
  const cause = new Error('The server refused (400): HTTP 400');
  const failed = await recoverAfter(
    '3-0',
    { fetchAfter: async () => Promise.reject(cause), onPage: () => assert.fail('no page') },
    new AbortController().signal,
  );
  assert.deepEqual(failed, { kind: 'incomplete', cursor: '3-0', pages: 0, reason: cause.message, cause });

  // Aborted between pages (the socket dropped): the next welcome takes over from the cursor.
  const between = new AbortController();
  let n = 0;
  const dropped = await recoverAfter(
    '0-0',
    {
      fetchAfter: async (after) => page([`${Number(after.split('-')[0]) + 10}-0`], { hasNewer: true }),
      onPage: () => {
        if (++n === 2) between.abort();
      },
    },
    between.signal,
  );
  assert.deepEqual(dropped, { kind: 'aborted', cursor: '20-0', pages: 2 });

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

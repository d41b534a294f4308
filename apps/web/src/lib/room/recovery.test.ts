import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { roomMessagesPath, type HistoryPage, type MessageFrame } from '@parley/protocol';
import { applyRecoveryPage, initialRoomState } from './apply-frame.ts';
import { MAX_RECOVERY_PAGES, RECOVERY_PAGE_LIMIT, recoverNewer, type RecoveryCallbacks } from './recovery.ts';
import { Timeline, type TimelineEntry } from './timeline.ts';

const user = { id: 'u_bob', name: 'Bob' };
const msg = (n: number): MessageFrame => ({ type: 'message', id: `${n}-0`, room: 'r', user, text: `m${n}`, ts: n });
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => msg(from + i));
const ids = (entries: readonly TimelineEntry[]) =>
  entries.map((e) => (e.kind === 'message' ? e.message.id.replace('-0', '') : e.kind));

/** A server holding messages `oldest`..`newest`, paging `size` at a time after an id. */
function server(oldest: number, newest: number, size: number) {
  const asked: string[] = [];
  const fetchNewer = async (after: string): Promise<HistoryPage> => {
    asked.push(after);
    const from = Number(after.split('-')[0]) + 1;
    const recovered = from >= oldest;
    const start = Math.max(from, oldest);
    const end = Math.min(newest, start + size - 1);
    return { room: 'r', messages: range(start, end), hasMore: true, hasNewer: end < newest, recovered };
  };
  return { asked, fetchNewer };
}

/** What RoomConnection does with a page (applyRecoveryPage: mark a hole the server could not fill, merge). */
function applyTo(timeline: Timeline, cursors: string[]): RecoveryCallbacks['onPage'] {
  let state = initialRoomState(timeline);
  return (page, after, cursor) => {
    state = applyRecoveryPage(state, page, after, cursor);
    cursors.push(cursor);
  };
}

describe('recoverNewer', () => {
  test('the recovery path asks for a page of 200 after an id', () => {
    assert.equal(
      roomMessagesPath('한국어', { after: '17-3', limit: RECOVERY_PAGE_LIMIT }),
      '/api/rooms/%ED%95%9C%EA%B5%AD%EC%96%B4/messages?after=17-3&limit=200',
    );
  });

  test('fetches page after page until nothing newer is left, merging below the live messages', async () => {
    // The welcome brought 1..30 (hasNewer); 31..95 are missing; 96..100 arrived live meanwhile.
    const timeline = new Timeline();
    timeline.appendMessages(range(1, 30));
    timeline.appendMessages(range(96, 100));
    const { asked, fetchNewer } = server(1, 100, 20);
    const cursors: string[] = [];
    const outcome = await recoverNewer(
      '30-0',
      { fetchNewer, onPage: applyTo(timeline, cursors) },
      new AbortController().signal,
    );
    assert.deepEqual(outcome, { kind: 'complete' });
    assert.deepEqual(asked, ['30-0', '50-0', '70-0', '90-0']);
    // The cursor (the reconnect's since) never jumps past the hole: 96..100 came live.
    assert.deepEqual(cursors, ['50-0', '70-0', '90-0', '100-0']);
    assert.deepEqual(
      ids(timeline.entries),
      range(1, 100).map((m) => m.id.replace('-0', '')),
    );
  });

  test('a page the server could not recover from gets a gap marker where the hole is', async () => {
    const timeline = new Timeline();
    timeline.appendMessages(range(1, 10));
    timeline.appendMessages(range(58, 60));
    // The room moved on: only 41..60 are still kept.
    const { fetchNewer } = server(41, 60, 50);
    const outcome = await recoverNewer(
      '10-0',
      { fetchNewer, onPage: applyTo(timeline, []) },
      new AbortController().signal,
    );
    assert.deepEqual(outcome, { kind: 'complete' });
    assert.deepEqual(ids(timeline.entries), [
      ...range(1, 10).map((m) => `${m.ts}`),
      'gap',
      ...range(41, 60).map((m) => `${m.ts}`),
    ]);
  });

  test('stops after the most pages allowed, with the hole after the last id it got', async () => {
    const { asked, fetchNewer } = server(1, 10_000, 10);
    const outcome = await recoverNewer('0-0', { fetchNewer, onPage: () => {} }, new AbortController().signal);
    assert.equal(asked.length, MAX_RECOVERY_PAGES);
    assert.deepEqual(outcome, {
      kind: 'incomplete',
      cursor: `${MAX_RECOVERY_PAGES * 10}-0`,
      reason: `Stopped after ${MAX_RECOVERY_PAGES} pages.`,
    });
  });

  test('a failed fetch or an empty page that claims more ends it as incomplete', async () => {
    const failing = await recoverNewer(
      '5-0',
      {
        fetchNewer: async () => {
          throw new Error('The server refused: HTTP 400');
        },
        onPage: () => assert.fail('no page'),
      },
      new AbortController().signal,
    );
    assert.deepEqual(failing, { kind: 'incomplete', cursor: '5-0', reason: 'The server refused: HTTP 400' });
    const empty = await recoverNewer(
      '5-0',
      { fetchNewer: async () => ({ room: 'r', messages: [], hasMore: true, hasNewer: true }), onPage: () => {} },
      new AbortController().signal,
    );
    assert.equal(empty.kind, 'incomplete');
  });

  test('an abort (the socket dropped) leaves the cursor for the next welcome', async () => {
    const controller = new AbortController();
    const { fetchNewer } = server(1, 100, 10);
    let pages = 0;
    const outcome = await recoverNewer(
      '0-0',
      {
        fetchNewer,
        onPage: () => {
          if (++pages === 2) controller.abort();
        },
      },
      controller.signal,
    );
    assert.deepEqual(outcome, { kind: 'aborted', cursor: '20-0' });
  });
});

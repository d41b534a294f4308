import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { formatTime } from './format-time.ts';

const utc = { locale: 'en-GB', timeZone: 'UTC' };
const now = Date.UTC(2026, 2, 14, 18, 0);

describe('formatTime', () => {
  test('today: the time only', () => {
    const t = formatTime(Date.UTC(2026, 2, 14, 9, 5), now, utc);
    assert.equal(t.short, '09:05');
    assert.equal(t.iso, '2026-03-14T09:05:00.000Z');
    assert.match(t.full, /Saturday.*14 March 2026.*09:05/);
  });

  test('another day: the date too, with the year only when it differs', () => {
    assert.equal(formatTime(Date.UTC(2026, 2, 13, 23, 59), now, utc).short, '13 Mar, 23:59');
    assert.equal(formatTime(Date.UTC(2025, 11, 31, 8, 0), now, utc).short, '31 Dec 2025, 08:00');
  });

  test('"today" follows the time zone, not UTC', () => {
    const tokyo = { locale: 'en-GB', timeZone: 'Asia/Tokyo' };
    // In Tokyo (UTC+9) `now` is 03:00 on the 15th: 16:00 UTC is 01:00 that day, 14:00 UTC the day before.
    assert.equal(formatTime(Date.UTC(2026, 2, 14, 16, 0), now, tokyo).short, '01:00');
    assert.equal(formatTime(Date.UTC(2026, 2, 14, 14, 0), now, tokyo).short, '14 Mar, 23:00');
  });

  test('relative: words for the last week, then the date', () => {
    const ago = (ms: number) => formatTime(now - ms, now, utc).relative;
    assert.equal(ago(0), 'just now');
    assert.equal(ago(59_000), 'just now');
    assert.equal(ago(-5_000), 'just now', 'a few seconds in the future (clock skew)');
    assert.equal(ago(60_000), '1 minute ago');
    assert.equal(ago(59 * 60_000), '59 minutes ago');
    assert.equal(ago(2 * 3_600_000 + 5), '2 hours ago');
    assert.equal(ago(30 * 3_600_000), 'yesterday');
    assert.equal(ago(6 * 86_400_000), '6 days ago');
    assert.equal(ago(8 * 86_400_000), '6 Mar');
    assert.equal(formatTime(Date.UTC(2025, 11, 31, 8, 0), now, utc).relative, '31 Dec 2025');
  });
});

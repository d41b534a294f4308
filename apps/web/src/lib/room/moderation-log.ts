/**
 * The moderation log the owner and moderators open from the room's header: every moderation
 * action and settings change this client knows of (the log's lines: those seen live and those a
 * reconnect's welcome brought), newest first. Pure: the view shows what this returns.
 */
import { compareMessageIds, type ModerationFrame, type User } from '@parley/protocol';
import type { SettingChange } from './settings.ts';
import type { TimelineEntry } from './timeline.ts';

/** One entry of the moderation log. */
export type ModerationLogItem =
  /** A moderation action: who did what to whom, until when and why (all in the frame). */
  | { kind: 'moderation'; key: string; eventId: string; ts: number | undefined; frame: ModerationFrame }
  /** One setting that changed, and who changed it. */
  | { kind: 'settings'; key: string; eventId: string; ts: number | undefined; by: User; change: SettingChange };

/** When the server logged an entry: its log id begins with the time (ms); `undefined` if not. */
export function loggedAt(eventId: string): number | undefined {
  const ms = Number(eventId.split('-')[0]);
  return Number.isFinite(ms) && ms > 0 ? ms : undefined;
}

/**
 * The moderation log: the log's moderation and settings lines, newest first by their place in
 * the room's log. A change of several settings at once is one item per setting, in the order the
 * log's lines show them.
 */
export function moderationLog(entries: readonly TimelineEntry[]): ModerationLogItem[] {
  const items: ModerationLogItem[] = [];
  for (const entry of entries) {
    if (entry.kind === 'moderation') {
      const { eventId } = entry.frame;
      items.push({ kind: 'moderation', key: entry.key, eventId, ts: loggedAt(eventId), frame: entry.frame });
    } else if (entry.kind === 'settings') {
      const { eventId, by } = entry.frame;
      for (const change of entry.changes)
        items.push({
          kind: 'settings',
          key: `${entry.key}:${change.setting}`,
          eventId,
          ts: loggedAt(eventId),
          by,
          change,
        });
    }
  }
  // Newest first; the lines of one change keep their order (the sort is stable).
  return items.sort((a, b) => compareMessageIds(b.eventId, a.eventId));
}

/**
 * The moderation log the owner and moderators open from the room's header: every moderation
 * action, settings change and change of the room's webhook this client knows of (the log's
 * lines: those seen live, those a reconnect's welcome or a recovery page brought, and those of
 * the stretch a first welcome shows, after a reload too), newest first. Pure: the view shows
 * what this returns.
 */
import { compareMessageIds, type ModerationFrame, type User } from '@parley/protocol';
import type { SettingChange } from './settings.ts';
import type { TimelineEntry } from './timeline.ts';
import type { WebhookChange } from './webhook.ts';

/** One entry of the moderation log. */
export type ModerationLogItem =
  /** A moderation action: who did what to whom, until when and why (all in the frame). */
  | { kind: 'moderation'; key: string; eventId: string; ts: number | undefined; frame: ModerationFrame }
  /** One setting that changed, and who changed it. */
  | { kind: 'settings'; key: string; eventId: string; ts: number | undefined; by: User; change: SettingChange }
  /** The owner set, changed or removed the room's webhook. */
  | { kind: 'webhook'; key: string; eventId: string; ts: number | undefined; by: User; change: WebhookChange };

/** When the server logged an entry: its log id begins with the time (ms); `undefined` if not. */
export function loggedAt(eventId: string): number | undefined {
  const ms = Number(eventId.split('-')[0]);
  return Number.isFinite(ms) && ms > 0 ? ms : undefined;
}

/**
 * The moderation log, newest first: the log's moderation, settings and webhook lines in their
 * order in the room's log (by log id); a change of several settings at once is one item per
 * setting, in the order the log's lines show them. Every line is its entry of the log, so a
 * live frame and a welcome's copy of it are one line (the timeline keeps each eventId once).
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
    } else if (entry.kind === 'webhook') {
      const { eventId, by } = entry.frame;
      items.push({ kind: 'webhook', key: entry.key, eventId, ts: loggedAt(eventId), by, change: entry.change });
    }
  }
  // Newest first; the lines of one change keep their order (the sort is stable).
  return items.sort((a, b) => compareMessageIds(b.eventId, a.eventId));
}

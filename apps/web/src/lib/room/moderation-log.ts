/**
 * The moderation log the owner and moderators open from the room's header: every moderation
 * action and settings change this client knows of (the log's lines: those seen live and those a
 * reconnect's welcome brought), and the changes of the room's webhook this client saw live,
 * newest first. Webhook lines are only those: the server publishes a change of the webhook
 * without storing it in the room's log, so one made while this client was away is not there, and
 * a reconnect does not bring earlier ones back (a reload forgets them). Pure: the view shows what
 * this returns.
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
  /**
   * The owner set, changed or removed the room's webhook. No log id (it is not in the room's
   * log): `ts` is when this client received it, by its own clock (ms).
   */
  | { kind: 'webhook'; key: string; ts: number; by: User; change: WebhookChange };

/** An item of the room's log: a moderation action or a setting that changed. */
type LoggedItem = Extract<ModerationLogItem, { eventId: string }>;
/** A change of the room's webhook, seen live. */
type WebhookItem = Extract<ModerationLogItem, { kind: 'webhook' }>;

/** When the server logged an entry: its log id begins with the time (ms); `undefined` if not. */
export function loggedAt(eventId: string): number | undefined {
  const ms = Number(eventId.split('-')[0]);
  return Number.isFinite(ms) && ms > 0 ? ms : undefined;
}

/**
 * The moderation log, newest first. The log's moderation and settings lines are in their order in
 * the room's log (by log id); a change of several settings at once is one item per setting, in
 * the order the log's lines show them. The webhook lines are in the order this client received
 * them.
 *
 * The two are merged by time: a log line's time is the one its log id begins with
 * ({@link loggedAt}, the server's clock), a webhook line's is when it arrived (this client's
 * clock). A webhook line goes before (is newer than) a log line only when its time is later; on
 * the same millisecond, or when a log id carries no time, the log line goes first (a webhook
 * change arrives after the server sent it, so at the same time it is not the newer). A merge, not
 * a sort by time: whatever the clocks say, the log's lines keep their order among themselves and
 * the webhook lines theirs; a client whose clock is off only shifts its webhook lines among the
 * others by as much.
 */
export function moderationLog(entries: readonly TimelineEntry[]): ModerationLogItem[] {
  const logged: LoggedItem[] = [];
  const webhooks: WebhookItem[] = [];
  for (const entry of entries) {
    if (entry.kind === 'moderation') {
      const { eventId } = entry.frame;
      logged.push({ kind: 'moderation', key: entry.key, eventId, ts: loggedAt(eventId), frame: entry.frame });
    } else if (entry.kind === 'settings') {
      const { eventId, by } = entry.frame;
      for (const change of entry.changes)
        logged.push({
          kind: 'settings',
          key: `${entry.key}:${change.setting}`,
          eventId,
          ts: loggedAt(eventId),
          by,
          change,
        });
    } else if (entry.kind === 'webhook') {
      webhooks.push({ kind: 'webhook', key: entry.key, ts: entry.ts, by: entry.by, change: entry.change });
    }
  }
  // Newest first; the lines of one change keep their order (the sort is stable).
  logged.sort((a, b) => compareMessageIds(b.eventId, a.eventId));
  // The timeline holds webhook lines in the order they arrived: newest first is the other way.
  webhooks.reverse();
  const items: ModerationLogItem[] = [];
  let l = 0;
  let w = 0;
  while (l < logged.length && w < webhooks.length) {
    const line = logged[l]!;
    const hook = webhooks[w]!;
    if (line.ts !== undefined && hook.ts > line.ts) {
      items.push(hook);
      w++;
    } else {
      items.push(line);
      l++;
    }
  }
  while (l < logged.length) items.push(logged[l++]!);
  while (w < webhooks.length) items.push(webhooks[w++]!);
  return items;
}

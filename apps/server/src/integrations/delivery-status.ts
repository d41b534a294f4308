import type { DeliveryAttempt, DeliveryCounts, WebhookStatus } from '@parley/protocol';
import type { DeliveryReport, StoredBot, TargetReport } from '../operator/operator-store.ts';
import { redactUrl } from './redact-url.ts';

/** Failed attempts kept per target (newest first): enough to see a pattern, bounded whatever happens. */
export const FAILURES_KEPT = 20;

/**
 * This instance's deliveries to one target (a webhook URL, a bot's URL), for the operator: how
 * many ended which way, the last attempt, and the last failed attempts in a ring of
 * FAILURES_KEPT. Counts only; no body or answer is kept.
 */
export class DeliveryStatus {
  readonly counts: DeliveryCounts = { delivered: 0, failed: 0, retried: 0, dropped: 0, queued: 0 };
  private last: DeliveryAttempt | undefined;
  /** Oldest first; at most FAILURES_KEPT. */
  private readonly failures: DeliveryAttempt[] = [];

  /** Records an attempt that ended; one with an `error` is a failure, kept in the ring. */
  attempted(attempt: DeliveryAttempt): void {
    this.last = attempt;
    if (attempt.attempt > 1) this.counts.retried += 1;
    if (attempt.error === undefined) return;
    this.failures.push(attempt);
    if (this.failures.length > FAILURES_KEPT) this.failures.shift();
  }

  /**
   * Records what became of a delivered answer afterwards (a bot's reply the room refused, known
   * once it is posted) as a failure of its own, and as the last attempt if it still is that
   * delivery's.
   */
  noted(entry: DeliveryAttempt): void {
    if (this.last?.deliveryId === entry.deliveryId) this.last = entry;
    this.failures.push(entry);
    if (this.failures.length > FAILURES_KEPT) this.failures.shift();
  }

  /** The report's part about this target. */
  report(target: Pick<TargetReport, 'id' | 'kind' | 'url' | 'events' | 'bot' | 'room'>): TargetReport {
    return {
      ...target,
      ...this.counts,
      ...(this.last !== undefined ? { last: this.last } : {}),
      failures: this.failures.toReversed(),
    };
  }
}

/**
 * The operator's list of webhooks from the instances' delivery reports (the asking instance's
 * first): one entry per target, with a line per instance that reported it, the instance-wide
 * webhooks first as configured, then the bots by name, then rooms' webhooks by room. A bot's
 * line is kept only while the bot has that URL now (`bots`, the store's): another instance's
 * report may still name a bot deleted, or its old URL, for a few seconds. (A room's webhook
 * removed or changed is listed as long as an instance's report names it: every instance's
 * report holds the rooms it delivered to last.)
 */
export function webhookStatusList(reports: DeliveryReport[], bots: StoredBot[]): WebhookStatus[] {
  const urlNow = new Map<string, { name: string; url: string }>();
  for (const { id, name, webhookUrl } of bots)
    if (webhookUrl !== undefined && URL.canParse(webhookUrl))
      urlNow.set(id, { name, url: redactUrl(new URL(webhookUrl)) });
  const targets = new Map<string, WebhookStatus>();
  for (const report of reports) {
    for (const { id, kind, url, events, bot, room, last, failures, ...counts } of report.targets) {
      const now = kind === 'bot' ? urlNow.get(id) : undefined;
      if (kind === 'bot' && now?.url !== url) continue;
      const target = targets.get(id) ?? {
        id,
        kind,
        url,
        events,
        ...(bot !== undefined ? { bot } : {}),
        ...(room !== undefined ? { room } : {}),
        instances: [],
      };
      if (now !== undefined) target.bot = { id, name: now.name };
      target.instances.push({
        instance: report.instance,
        reportedAt: report.reportedAt,
        ...counts,
        ...(last !== undefined ? { last } : {}),
        failures,
      });
      targets.set(id, target);
    }
  }
  const list = [...targets.values()];
  for (const target of list) target.instances.sort((a, b) => a.instance.localeCompare(b.instance));
  const rank = { webhook: 0, bot: 1, room: 2 };
  const name = (target: WebhookStatus) => target.bot?.name ?? target.room ?? '';
  return list.sort((a, b) => rank[a.kind] - rank[b.kind] || name(a).localeCompare(name(b)));
}

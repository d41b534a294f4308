/**
 * The room's log as the client holds it: messages in id order, join/leave lines where they
 * happened (a run of them as one line), and "gap" markers where a reconnect could not recover
 * what was missed.
 *
 * {@link Timeline} changes its array in place, so that adding a message or a join costs O(1)
 * amortised however long the log is (copying the array on every frame made a join/leave flood
 * quadratic); the reactive state around it counts versions instead of replacing the array. Each
 * entry object is immutable: one that changes (a presence line growing, a message edited) is
 * replaced, so views that compare entries by identity see the change. Messages are found by id
 * through an index of their positions, so an edit, a deletion or a reaction costs O(1) too.
 */
import { newestId } from '@parley/client';
import {
  compareMessageIds,
  type ChangeFrame,
  type MessageFrame,
  type ModerationFrame,
  type SettingsFrame,
  type User,
  type WebhookChangeFrame,
} from '@parley/protocol';
import { applyChange } from './changes.ts';
import { PresenceRun, type PresenceSummary } from './presence-run.ts';
import type { SettingChange } from './settings.ts';
import type { WebhookChange } from './webhook.ts';

export type TimelineEntry =
  | { kind: 'message'; key: string; message: MessageFrame }
  /** One or more consecutive joins and leaves, with no message between them. */
  | { kind: 'presence'; key: string; summary: PresenceSummary }
  /** Messages may be missing here: the server no longer had everything since the last one. */
  | { kind: 'gap'; key: string }
  /** A moderator acted on someone: "Olga removed Carl". */
  | { kind: 'moderation'; key: string; frame: ModerationFrame }
  /** The owner changed the room's settings: one line per setting that changed. */
  | { kind: 'settings'; key: string; frame: SettingsFrame; changes: readonly SettingChange[] }
  /** The owner set, changed or removed the room's webhook: "Olga set up a webhook: …". */
  | { kind: 'webhook'; key: string; frame: WebhookChangeFrame; change: WebhookChange };

export type MessageEntry = Extract<TimelineEntry, { kind: 'message' }>;
export type PresenceEntry = Extract<TimelineEntry, { kind: 'presence' }>;
export type ModerationEntry = Extract<TimelineEntry, { kind: 'moderation' }>;
export type SettingsEntry = Extract<TimelineEntry, { kind: 'settings' }>;
export type WebhookEntry = Extract<TimelineEntry, { kind: 'webhook' }>;

/** The key of a message entry; stable, so keyed lists never re-create a message's element. */
export function messageKey(id: string): string {
  return `m:${id}`;
}

function messageEntry(message: MessageFrame): MessageEntry {
  return { kind: 'message', key: messageKey(message.id), message };
}

function isMessage(entry: TimelineEntry): entry is MessageEntry {
  return entry.kind === 'message';
}

/** An entry's place in the room's log: a message's id, a moderation action's, a settings or webhook change's. */
function logIdOf(entry: TimelineEntry): string | undefined {
  if (entry.kind === 'message') return entry.message.id;
  return entry.kind === 'moderation' || entry.kind === 'settings' || entry.kind === 'webhook'
    ? entry.frame.eventId
    : undefined;
}

export class Timeline {
  readonly #entries: TimelineEntry[] = [];
  /** The id of every message held, so a replay is recognised without a scan. */
  readonly #ids = new Set<string>();
  /** Where each message held is in #entries: kept up to date whenever entries move. */
  readonly #positions = new Map<string, number>();
  /** Display names by user id, of everyone seen in the log (who reacted is sent as ids). */
  readonly #names = new Map<string, string>();
  /** The eventId of every moderation action, settings and webhook change seen, so a replay shows once. */
  readonly #events = new Set<string>();
  /** The newest log id seen in the current stretch besides messages (changes, covered entries). */
  #newestChange: string | undefined;
  /** Where the last gap marker is (-1: none); the current stretch of history follows it. */
  #lastGap = -1;
  /** The run of joins and leaves the last entry shows, while it is the last entry. */
  #run: { key: string; run: PresenceRun } | null = null;
  #nextKey = 1;

  /** The entries in order. The same array, changed in place: read it, do not keep it. */
  get entries(): readonly TimelineEntry[] {
    return this.#entries;
  }

  /**
   * Adds messages that arrived live, in a welcome or in a recovery page. A message already
   * present (same id) is skipped, so a reconnect can never show one twice. Messages normally
   * arrive in id order and go to the end; older ones than the newest are put in their place,
   * but never across a gap marker: what follows a gap is a separate stretch of history (the
   * room may even have started over with smaller ids), and mixing the two would be a lie.
   *
   * O(k log k) for k messages at the end; O(k + m) when they go before the last m entries.
   *
   * @param messages The new messages, in any order.
   * @returns The messages added (not held before), in id order.
   */
  appendMessages(messages: readonly MessageFrame[]): MessageFrame[] {
    const fresh = this.#fresh(messages);
    if (fresh.length === 0) return fresh;
    const newest = this.#newestInStretch();
    if (newest === undefined || compareMessageIds(fresh[0]!.id, newest) > 0) {
      for (const message of fresh) this.#pushMessage(message);
    } else {
      this.#merge(fresh);
    }
    return fresh;
  }

  /**
   * Puts a page of older history (scroll-back) before everything else, without duplicates.
   * O(n): the whole array moves, once per page the reader asks for.
   *
   * @returns How many messages were added.
   */
  prependMessages(older: readonly MessageFrame[]): number {
    const fresh = this.#fresh(older);
    if (fresh.length === 0) return 0;
    // Not unshift(...page): spreading a long array into arguments can overflow the stack.
    const held = this.#entries.splice(0);
    for (const message of fresh) this.#entries.push(messageEntry(message));
    for (const entry of held) this.#entries.push(entry);
    if (this.#lastGap >= 0) this.#lastGap += fresh.length;
    this.#reindex(0);
    return fresh.length;
  }

  /**
   * Forgets the oldest entries, so that at most about `keep` remain: a long session in a busy
   * room holds (and the page renders) a bounded log; scrolling back loads them again. The cut
   * falls before a message, so the oldest entry held is a message: the `before` of the next
   * scroll-back page. O(n), once per trim.
   *
   * @returns How many entries were dropped (0 when there is no message to cut before).
   */
  trimOldest(keep: number): number {
    const excess = this.#entries.length - Math.max(1, keep);
    if (excess <= 0) return 0;
    let cut = excess;
    while (cut < this.#entries.length && !isMessage(this.#entries[cut]!)) cut++;
    if (cut >= this.#entries.length) return 0;
    for (const entry of this.#entries.splice(0, cut)) {
      if (!isMessage(entry)) continue;
      // Forgotten, so a scroll-back page brings it back (moderation and settings ids stay
      // known: a replay of one is still not shown twice).
      this.#ids.delete(entry.message.id);
      this.#positions.delete(entry.message.id);
    }
    this.#lastGap = this.#lastGap >= cut ? this.#lastGap - cut : -1;
    this.#reindex(0);
    return cut;
  }

  /**
   * Someone joined or left. Consecutive joins and leaves make one line, whose entry is
   * replaced (O(1)) on each; a message or a gap marker after it starts a new line next time.
   */
  addPresence(action: 'join' | 'leave', user: User, ts: number): void {
    this.#names.set(user.id, user.name);
    const last = this.#entries.at(-1);
    if (this.#run === null || last?.key !== this.#run.key) {
      this.#run = { key: this.#key('p'), run: new PresenceRun() };
      this.#entries.push({ kind: 'presence', key: this.#run.key, summary: { parts: [], ts, people: 0 } });
    }
    this.#run.run.add(action, user, ts);
    this.#entries[this.#entries.length - 1] = {
      kind: 'presence',
      key: this.#run.key,
      summary: this.#run.run.summary(),
    };
  }

  /** Marks the end of what is known: what comes next may not follow on from it. */
  appendGap(): void {
    this.#entries.push({ kind: 'gap', key: this.#key('gap') });
    this.#lastGap = this.#entries.length - 1;
    // What follows may be a room that started over: its ids are compared among themselves.
    this.#newestChange = undefined;
  }

  /**
   * Marks a hole right after a message held: what follows it (messages that arrived live while
   * the hole was being filled) becomes a separate stretch. O(n), for a recovery that failed.
   *
   * @param id The last id held before the hole: a message's, or a change's (then the marker
   *   goes after the last message older than it). When none is held, the marker goes at the end.
   */
  insertGapAfter(id: string): void {
    let at = -1;
    const exact = this.#positions.get(id);
    if (exact !== undefined) at = exact + 1;
    else {
      for (let i = this.#entries.length - 1; i >= 0; i--) {
        const entry = this.#entries[i]!;
        if (isMessage(entry) && compareMessageIds(entry.message.id, id) < 0) {
          at = i + 1;
          break;
        }
      }
    }
    if (at === -1 || at === this.#entries.length) {
      this.appendGap();
      return;
    }
    this.#entries.splice(at, 0, { kind: 'gap', key: this.#key('gap') });
    this.#lastGap = this.#lastGap >= at ? this.#lastGap + 1 : at;
    this.#reindex(at);
  }

  /**
   * Applies an edit, a deletion or a reactions summary to the message it names, in place: the
   * entry is replaced (same key), so the message keeps its place. O(1). Its log id counts for
   * {@link cursor} whether or not the message is held (it may be older than the history held).
   *
   * @returns The message after the change, or `undefined` when it is not held or did not change.
   */
  applyChange(change: ChangeFrame): MessageFrame | undefined {
    this.noteLogId(change.eventId);
    const at = this.#positions.get(change.id);
    if (at === undefined) return undefined;
    const entry = this.#entries[at] as MessageEntry;
    const message = applyChange(entry.message, change);
    if (message === entry.message) return undefined;
    this.#entries[at] = { kind: 'message', key: entry.key, message };
    return message;
  }

  /**
   * Adds the line of a moderation action (live, or from a welcome or a recovery page), in its
   * place by its log id among the messages of the current stretch: at the end when it is the
   * newest, as it is when live (O(1)); otherwise before the first newer message (O(n), for a
   * recovery). Its id counts for {@link cursor}. A replay of a line held is skipped.
   *
   * @returns Whether it was added.
   */
  addModeration(frame: ModerationFrame): boolean {
    this.noteLogId(frame.eventId);
    if (this.#events.has(frame.eventId)) return false;
    this.#events.add(frame.eventId);
    this.#names.set(frame.user.id, frame.user.name);
    this.#names.set(frame.by.id, frame.by.name);
    this.#insertByLogId({ kind: 'moderation', key: `mod:${frame.eventId}`, frame }, frame.eventId);
    return true;
  }

  /**
   * Adds the line of a change of the room's settings, placed like a moderation line (see
   * {@link addModeration}); a change that changed nothing has no line, but its id counts for
   * {@link cursor} all the same.
   *
   * @param changes What changed, compared with the settings before it.
   * @returns Whether the change is new (not a replay of one seen).
   */
  addSettings(frame: SettingsFrame, changes: readonly SettingChange[]): boolean {
    this.noteLogId(frame.eventId);
    if (this.#events.has(frame.eventId)) return false;
    this.#events.add(frame.eventId);
    this.#names.set(frame.by.id, frame.by.name);
    if (changes.length > 0)
      this.#insertByLogId({ kind: 'settings', key: `set:${frame.eventId}`, frame, changes }, frame.eventId);
    return true;
  }

  /**
   * Adds the line of a change of the room's webhook, placed like a moderation line (see
   * {@link addModeration}); a change that changed nothing for this client has no line, but its id
   * counts for {@link cursor} all the same.
   *
   * @param change What changed, compared with the webhook before it; `null`: nothing.
   * @returns Whether the change is new (not a replay of one seen).
   */
  addWebhook(frame: WebhookChangeFrame, change: WebhookChange | null): boolean {
    this.noteLogId(frame.eventId);
    if (this.#events.has(frame.eventId)) return false;
    this.#events.add(frame.eventId);
    this.#names.set(frame.by.id, frame.by.name);
    if (change !== null)
      this.#insertByLogId({ kind: 'webhook', key: `hook:${frame.eventId}`, frame, change }, frame.eventId);
    return true;
  }

  /**
   * Puts an entry with a log id in its place among the messages of the current stretch: at the
   * end when it is the newest, as it is when live (O(1)); otherwise before the first newer entry
   * (O(n), for a recovery).
   */
  #insertByLogId(entry: TimelineEntry, eventId: string): void {
    let at = this.#entries.length;
    for (let i = this.#entries.length - 1; i > this.#lastGap; i--) {
      const id = logIdOf(this.#entries[i]!);
      if (id === undefined) continue;
      if (compareMessageIds(id, eventId) < 0) break;
      at = i;
    }
    if (at === this.#entries.length) {
      this.#entries.push(entry);
      return;
    }
    // Always after the last gap marker (the loop stops there), so #lastGap stays where it is.
    this.#entries.splice(at, 0, entry);
    this.#reindex(at);
  }

  /**
   * An id of the room's log was seen: a change's, or the newest entry a welcome or a page
   * covered. A reconnect asks for what follows it.
   */
  noteLogId(eventId: string): void {
    if (this.#newestChange === undefined || compareMessageIds(eventId, this.#newestChange) > 0)
      this.#newestChange = eventId;
  }

  /** The message with this id, if held: O(1). */
  message(id: string): MessageFrame | undefined {
    const at = this.#positions.get(id);
    return at === undefined ? undefined : (this.#entries[at] as MessageEntry).message;
  }

  /** The display name of someone seen in the log (as an author or in a join or leave line). */
  nameOf(userId: string): string | undefined {
    return this.#names.get(userId);
  }

  /**
   * The newest message of this person that is not deleted, i.e. what Up in an empty composer
   * edits. O(messages after it).
   */
  lastMessageBy(userId: string): MessageFrame | undefined {
    for (let i = this.#entries.length - 1; i >= 0; i--) {
      const entry = this.#entries[i]!;
      if (isMessage(entry) && entry.message.user.id === userId && entry.message.deleted !== true) return entry.message;
    }
    return undefined;
  }

  /** Whether a message with this id is held: O(1). */
  hasMessage(id: string): boolean {
    return this.#ids.has(id);
  }

  /**
   * The newest message id held, i.e. the `since` to reconnect with: the last message in the
   * timeline, which is in id order within each stretch and whose stretches are in arrival order
   * (after a room started over, its new, smaller ids are still the newest).
   */
  newestMessageId(): string | undefined {
    return newestMessageId(this.#entries);
  }

  /**
   * The `since` to reconnect with: the newest id seen, a message's or a change's (both have their
   * place in the room's log, so a reconnect neither misses a change nor gets it twice).
   */
  cursor(): string | undefined {
    // Changes before the last gap marker are forgotten (appendGap): a room that started over
    // has smaller ids, which are compared among themselves only.
    return newestId([this.newestMessageId(), this.#newestChange]);
  }

  /** The oldest message id held, i.e. the `before` of the next scroll-back page. */
  oldestMessageId(): string | undefined {
    return this.#entries.find(isMessage)?.message.id;
  }

  #fresh(messages: readonly MessageFrame[]): MessageFrame[] {
    const fresh: MessageFrame[] = [];
    for (const message of messages) {
      if (this.#ids.has(message.id)) continue;
      this.#ids.add(message.id);
      this.#names.set(message.user.id, message.user.name);
      fresh.push(message);
    }
    return fresh.sort((a, b) => compareMessageIds(a.id, b.id));
  }

  /** The newest log id in the current stretch: a message's or a moderation line's. */
  #newestInStretch(): string | undefined {
    for (let i = this.#entries.length - 1; i > this.#lastGap; i--) {
      const id = logIdOf(this.#entries[i]!);
      if (id !== undefined) return id;
    }
    return undefined;
  }

  /**
   * Merges sorted messages into the current stretch: each goes right before the first message
   * (or moderation line) newer than it (after the join/leave lines before that one), or at the end.
   */
  #merge(fresh: readonly MessageFrame[]): void {
    const first = fresh[0]!.id;
    let at = this.#entries.length;
    for (let i = this.#entries.length - 1; i > this.#lastGap; i--) {
      const id = logIdOf(this.#entries[i]!);
      if (id === undefined) continue;
      if (compareMessageIds(id, first) < 0) break;
      at = i;
    }
    const tail = this.#entries.splice(at);
    let next = 0;
    for (const entry of tail) {
      const id = logIdOf(entry);
      if (id !== undefined) {
        while (next < fresh.length && compareMessageIds(fresh[next]!.id, id) < 0)
          this.#entries.push(messageEntry(fresh[next++]!));
      }
      this.#entries.push(entry);
    }
    while (next < fresh.length) this.#entries.push(messageEntry(fresh[next++]!));
    this.#reindex(at);
  }

  #pushMessage(message: MessageFrame): void {
    this.#positions.set(message.id, this.#entries.length);
    this.#entries.push(messageEntry(message));
  }

  /** Records the positions of the messages from `from` on, after entries moved. */
  #reindex(from: number): void {
    for (let i = from; i < this.#entries.length; i++) {
      const entry = this.#entries[i]!;
      if (isMessage(entry)) this.#positions.set(entry.message.id, i);
    }
  }

  #key(prefix: string): string {
    return `${prefix}:${this.#nextKey++}`;
  }
}

/** The newest message id in entries (see {@link Timeline.newestMessageId}). */
export function newestMessageId(entries: readonly TimelineEntry[]): string | undefined {
  for (let i = entries.length - 1; i >= 0; i--) {
    const entry = entries[i]!;
    if (isMessage(entry)) return entry.message.id;
  }
  return undefined;
}

/**
 * The first message newer than `after` written by someone else: where the "new since your last
 * visit" divider goes, and the start of what the reader has not seen.
 *
 * @param after The newest id the reader saw, or `null` when they saw nothing yet.
 * @param myId The reader's own user id: their own messages are never news to them.
 */
export function firstUnread(
  entries: readonly TimelineEntry[],
  after: string | null,
  myId: string | undefined,
): string | undefined {
  if (after === null) return undefined;
  return entries.find(
    (e): e is MessageEntry => isMessage(e) && e.message.user.id !== myId && compareMessageIds(e.message.id, after) > 0,
  )?.message.id;
}

/**
 * How many messages from others are newer than `after`.
 *
 * @param after The newest id the reader saw, or `null` when they saw none (a room that was
 *   empty when they came in): then every message from others counts.
 */
export function countUnread(entries: readonly TimelineEntry[], after: string | null, myId: string | undefined): number {
  let count = 0;
  for (const e of entries)
    if (isMessage(e) && e.message.user.id !== myId && (after === null || compareMessageIds(e.message.id, after) > 0))
      count++;
  return count;
}

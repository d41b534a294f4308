import type { FastifyBaseLogger } from 'fastify';
import {
  BOT_MENTION_EVENT,
  BotMentionAnswerSchema,
  MAX_BOT_MENTIONS_PER_MESSAGE,
  decodeWith,
  isBotId,
  mentionPattern,
  type Bot,
  type BotMentionDelivery,
  type PostMessageResult,
} from '@parley/protocol';
import { idTime, type MessageDraft } from '../engine/engine.ts';
import type { Stats } from '../observability/stats.ts';
import type { OperatorStore, StoredBot, TargetReport } from '../operator/operator-store.ts';
import type { RoomActivity } from '../rooms/room-hub.ts';
import { checkLiteralHost } from './address-policy.ts';
import { DeliveryQueue, type QueueOptions } from './delivery-queue.ts';
import { QueueShares } from './queue-shares.ts';
import { DeliveryStatus } from './delivery-status.ts';
import { redactUrl } from './redact-url.ts';
import { deliveryIdOf } from './webhook-events.ts';

/** The mentions' settings: the webhooks' (WEBHOOK_* in config.ts), with a queue of their own. */
export interface BotMentionOptions extends QueueOptions {
  maxBodyBytes: number;
  /** MAX_TEXT_BYTES: an answer is read up to 1 KiB + 6 × this (a reply of MAX_TEXT_BYTES, every byte escaped). */
  maxTextBytes: number;
  /**
   * BOT_MENTION_QUEUE_PER_ADDRESS: deliveries the messages of one sender's address key
   * (limits/address-key.ts) may have held at once (queued, in flight or waiting to retry); 0: no
   * share, only the queue's `queueMax`.
   */
  queuePerAddress: number;
}

/** Posts a bot's answer as the bot (sessions/bot-poster.ts: the bot API's path); throws when refused. */
export interface ReplyPoster {
  post(
    bot: Bot,
    post: { room: string; text: string; clientMsgId: string; address: string; replyTo?: string | undefined },
  ): Promise<PostMessageResult>;
}

/** A bot with a webhook URL, as this instance knows it. */
interface Listener {
  bot: Bot;
  url: URL;
  secret: string;
  /** Finds `@<its name>` in an NFC text. */
  pattern: RegExp;
  status: DeliveryStatus;
}

/** A delivered mention whose answer is being posted. */
interface Mention {
  room: string;
  /** The message that mentioned the bot (the reply answers it). */
  messageId: string;
  deliveryId: string;
  /** The answer's status and the attempt it answered (for the operator's view). */
  status: number;
  attempt: number;
}

/** Only the first this many `@` of a message are looked at (each costs a map lookup). */
const AT_SIGNS_SCANNED = 100;

/**
 * Bots' mentions (Campfire's bots, over signed webhooks): when a message names a bot with a
 * webhook URL (`@Deploy Bot`, the protocol's mention rule with the `@`), the instance that
 * stored the message POSTs a `mention` delivery to the bot's URL, signed with the bot's webhook
 * secret, and a JSON answer `{"text": "…"}` is posted to the room as the bot, in answer to the
 * message.
 *
 * - **Once.** Told by the hub like the webhooks (RoomActivity.posted: the instance whose call
 *   stored the message). A resend of the message is delivered again under the same delivery
 *   id, and the reply's clientMsgId is made from it, so the room gets one reply per mention
 *   however often the bot answers.
 * - **Bounded.** The webhooks' timeout, attempts and backoff, concurrency and queue size, in a
 *   queue of its own; within it, the mentions of one sender's address (its address key, as
 *   the rate limits count it: IPv6 by its prefix) hold at most BOT_MENTION_QUEUE_PER_ADDRESS
 *   deliveries, so one address mentioning slow bots cannot fill the queue and have everyone
 *   else's mentions dropped. A mention beyond its address's share is dropped and counted (the
 *   dropped metric, the bot's counts for the operator), as a room webhook's beyond its room's
 *   share; the sender is not told: the message was posted, and mentions are best effort. An
 *   answer over 1 KiB + 6 × MAX_TEXT_BYTES fails the delivery unread, as does one that is not
 *   JSON (an empty one posts nothing); at most MAX_BOT_MENTIONS_PER_MESSAGE bots per message.
 *   Bots' own messages mention nobody, so bots cannot set each other off.
 * - **The bot API's path.** The reply is the bot's post (ReplyPoster): its rate, bans, mutes,
 *   read-only, slow mode, invite-only and the before-publish hook. A bot deleted meanwhile
 *   posts nothing.
 *
 * Which bots have a URL is read from the store when it changed (its version, checked every
 * BAN_REFRESH_MS and at once after this instance's own change), never per message.
 */
export class BotMentions implements RoomActivity {
  private readonly queue: DeliveryQueue;
  private readonly listeners = new Map<string, Listener>();
  /** The listeners by the first character of their name, lower case. */
  private byInitial = new Map<string, Listener[]>();
  private version: string | undefined;
  private refreshing: Promise<void> | undefined;
  private poster: ReplyPoster | undefined;
  private readonly maxAnswerBytes: number;
  /** Deliveries held (queued, in flight or waiting to retry) by the address key of the message's sender. */
  private readonly shares: QueueShares;

  constructor(
    private readonly options: BotMentionOptions,
    private readonly store: OperatorStore,
    private readonly stats: Stats,
    private readonly log: FastifyBaseLogger,
  ) {
    this.shares = new QueueShares(options.queuePerAddress);
    this.queue = new DeliveryQueue(
      options,
      {
        attempt: () => {},
        ended: (outcome) => (stats.botDeliveries[outcome] += 1),
        droppedFull: () => (stats.botDeliveriesDropped.queue_full += 1),
        held: (count) => (stats.botDeliveriesQueued = count),
      },
      log,
      'bot webhook',
    );
    this.maxAnswerBytes = 1024 + 6 * options.maxTextBytes;
  }

  /**
   * Why a URL cannot be a bot's webhook URL here, if it cannot: an address the policy refuses
   * (a literal one: names are checked at each connection). Asked when the operator sets one.
   */
  urlProblem(url: URL): string | undefined {
    if (this.options.allowPrivate) return undefined;
    try {
      checkLiteralHost(url);
      return undefined;
    } catch (err) {
      return err instanceof Error ? err.message : String(err);
    }
  }

  /** Where the bots' answers are posted (set once the bot API's path is built). */
  connect(poster: ReplyPoster): void {
    this.poster = poster;
  }

  posted(draft: MessageDraft, id: string): void {
    const { room, user, text } = draft;
    if (this.listeners.size === 0 || user.bot === true || isBotId(user.id)) return;
    // Sessions always say (a draft without one would share a single budget with the others without).
    const address = draft.address ?? '';
    for (const listener of this.mentioned(text)) {
      const deliveryId = deliveryIdOf(BOT_MENTION_EVENT, room, `${id}\n${listener.bot.id}`);
      const delivery: BotMentionDelivery = {
        event: BOT_MENTION_EVENT,
        deliveryId,
        room,
        ts: idTime(id),
        bot: { id: listener.bot.id, name: listener.bot.name },
        message: {
          id,
          user,
          text,
          ...(draft.clientMsgId !== undefined ? { clientMsgId: draft.clientMsgId } : {}),
          ...(draft.replyTo !== undefined ? { replyTo: draft.replyTo } : {}),
        },
      };
      const body = JSON.stringify(delivery);
      if (Buffer.byteLength(body) > this.options.maxBodyBytes) {
        this.stats.botDeliveriesDropped.too_large += 1;
        listener.status.counts.dropped += 1;
        continue;
      }
      // The address's share of the queue: an address that keeps mentioning slow bots waits for its own.
      const outcome = this.shares.enqueue(this.queue, address, {
        url: listener.url,
        event: BOT_MENTION_EVENT,
        id: deliveryId,
        body,
        secret: listener.secret,
        status: listener.status,
        maxAnswerBytes: this.maxAnswerBytes,
        answered: (answer, status, attempt) =>
          this.answered(answer, listener, { room, messageId: id, deliveryId, status, attempt }),
      });
      if (outcome === 'over_share') {
        this.stats.botDeliveriesDropped.address_share += 1;
        listener.status.counts.dropped += 1;
      }
    }
  }

  /** The bots with a webhook that `text` mentions, at most MAX_BOT_MENTIONS_PER_MESSAGE. */
  private mentioned(text: string): Listener[] {
    if (!text.includes('@')) return [];
    const normalized = text.normalize('NFC');
    // Only bots whose name starts with a character that follows an `@` can be named: usually
    // none or one, whatever the number of bots.
    const candidates = new Set<Listener>();
    let scanned = 0;
    for (const match of normalized.matchAll(/@(.)/gsu)) {
      for (const listener of this.byInitial.get(match[1]!.toLowerCase()) ?? []) candidates.add(listener);
      if (++scanned >= AT_SIGNS_SCANNED) break;
    }
    const found: Listener[] = [];
    for (const listener of candidates) {
      if (found.length >= MAX_BOT_MENTIONS_PER_MESSAGE) break;
      if (listener.pattern.test(normalized)) found.push(listener);
    }
    return found;
  }

  /** Re-reads the bots if they changed anywhere (one GET when they did not). */
  refresh(): Promise<void> {
    this.refreshing ??= this.readIfChanged().finally(() => {
      this.refreshing = undefined;
    });
    return this.refreshing;
  }

  /** What this instance delivered to each bot's URL, for the operator. */
  report(): TargetReport[] {
    return [...this.listeners.values()].map(({ bot, url, status }) =>
      status.report({
        id: bot.id,
        kind: 'bot',
        url: redactUrl(url),
        events: [BOT_MENTION_EVENT],
        bot: { id: bot.id, name: bot.name },
      }),
    );
  }

  /** Stops, after at most `drainMs` for the deliveries queued or in flight (see DeliveryQueue.close). */
  close(drainMs = 0): Promise<void> {
    return this.queue.close(drainMs);
  }

  private async readIfChanged(): Promise<void> {
    const version = await this.store.botsVersion();
    if (version === this.version) return;
    const bots = await this.store.bots();
    const kept = new Map<string, Listener>();
    for (const stored of bots) {
      const listener = this.listenerOf(stored);
      if (listener !== undefined) kept.set(stored.id, listener);
    }
    this.listeners.clear();
    const byInitial = new Map<string, Listener[]>();
    for (const [id, listener] of kept) {
      this.listeners.set(id, listener);
      const initial = [...listener.bot.name.normalize('NFC')][0]!.toLowerCase();
      byInitial.set(initial, [...(byInitial.get(initial) ?? []), listener]);
    }
    this.byInitial = byInitial;
    this.version = version;
  }

  /** A stored bot as a listener (keeping its delivery counts), or undefined without a usable webhook. */
  private listenerOf(stored: StoredBot): Listener | undefined {
    const { webhookUrl, webhookSecret } = stored;
    if (webhookUrl === undefined || webhookSecret === undefined || !URL.canParse(webhookUrl)) return undefined;
    const pattern = mentionPattern(stored.name);
    if (pattern === undefined) return undefined;
    const bot: Bot = { id: stored.id, name: stored.name, createdAt: stored.createdAt };
    const status = this.listeners.get(stored.id)?.status ?? new DeliveryStatus();
    return { bot, url: new URL(webhookUrl), secret: webhookSecret, pattern, status };
  }

  /** A 2xx answer: what is wrong with it, if anything; a text is posted as the bot (not waited for). */
  private answered(body: string, listener: Listener, mention: Mention): string | undefined {
    if (body.trim() === '') return undefined;
    let json: unknown;
    try {
      json = JSON.parse(body);
    } catch {
      return 'the answer is not JSON';
    }
    const answer = decodeWith(BotMentionAnswerSchema, json);
    if (!answer.ok) return `the answer is not {"text": …}: ${answer.message}`;
    const text = answer.value.text;
    if (text !== undefined) void this.reply(listener, mention, text);
    return undefined;
  }

  /** Posts a bot's answer through the bot API's path, once per delivery id whatever happens. */
  private async reply(listener: Listener, mention: Mention, text: string): Promise<void> {
    const { room, messageId, deliveryId, status, attempt } = mention;
    const refused = (why: string) => {
      this.stats.botReplies.refused += 1;
      listener.status.noted({
        at: Date.now(),
        deliveryId,
        event: BOT_MENTION_EVENT,
        attempt,
        status,
        error: `reply not posted: ${why}`,
      });
    };
    try {
      // A bot deleted since the mention says nothing (as its key stopped working).
      const stored = await this.store.bot(listener.bot.id);
      if (stored === undefined) return refused('the bot was deleted');
      if (this.poster === undefined) return refused('the server is starting');
      const result = await this.poster.post(
        { id: stored.id, name: stored.name, createdAt: stored.createdAt },
        {
          room,
          text,
          clientMsgId: `mention_${deliveryId}`,
          // Its own budget: the bot has no address of its own here.
          address: `bot:${stored.id}`,
          replyTo: messageId,
        },
      );
      this.stats.botReplies[result.duplicate === true ? 'duplicate' : 'posted'] += 1;
    } catch (err) {
      // A repeated delivery answered with another text: the first answer stands.
      if ((err as { code?: unknown }).code === 'client_msg_id_reused') {
        this.stats.botReplies.duplicate += 1;
        return;
      }
      refused(err instanceof Error ? err.message : String(err));
      this.log.debug({ err, bot: listener.bot.id, room }, 'a bot’s reply to a mention was not posted');
    }
  }
}

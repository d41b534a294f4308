import { checkMessageText, type Bot, type HttpErrorCode, type PostMessageResult } from '@parley/protocol';
import type { Config } from '../config.ts';
import type { ChangeRefusal } from '../engine/engine.ts';
import { needsInvite } from '../engine/room-standing.ts';
import { HttpError } from '../http/http-error.ts';
import type { ClientLimits } from '../limits/client-limits.ts';
import { KeyedBuckets } from '../limits/keyed-buckets.ts';
import type { RoomHub } from '../rooms/room-hub.ts';
import type { ServerBans } from '../operator/server-bans.ts';

/** A bot's post: where, what, and what makes a retry of it safe. */
export interface BotPost {
  room: string;
  text: string;
  /** The message's clientMsgId: the same one posts once (an Idempotency-Key, or made from a delivery id). */
  clientMsgId: string;
  /** The address key its limits and address bans are charged to (limits/address-key.ts). */
  address: string;
  replyTo?: string | undefined;
}

/**
 * The one path of every bot's post, over HTTP (routes/bot-api.ts) and as the answer to a
 * mention (integrations/bot-mentions.ts): the text rules, the instance-wide bans, one message
 * rate per bot (RATE_LIMIT_PER_CONNECTION, shared by both ways of posting), the address's rate
 * and daily quota, invite-only rooms, then the hub's post, which asks the before-publish hook
 * and applies bans, mutes, read-only and slow mode. Refusals are HttpErrors with the socket's
 * codes.
 */
export class BotPoster {
  // (One bucket per bot at most: the map is bounded by MAX_BOTS.)
  private readonly rates: KeyedBuckets;

  constructor(
    private readonly config: Config,
    private readonly limits: ClientLimits,
    private readonly serverBans: ServerBans,
    private readonly roomHub: RoomHub,
  ) {
    this.rates = new KeyedBuckets(config.rateLimitPerConnection, config.rateBurstPerConnection);
  }

  /**
   * Posts as the bot: the new message's id (`duplicate` when this clientMsgId was posted already).
   *
   * @throws HttpError when the post is refused.
   */
  async post(bot: Bot, post: BotPost): Promise<PostMessageResult> {
    const { config, limits, serverBans, roomHub } = this;
    const text = checkMessageText(post.text, config.maxTextBytes);
    if (!text.ok) throw new HttpError(text.code === 'too_large' ? 'too_large' : 'bad_request', text.message);
    const { address } = post;
    if (serverBans.find(bot.id, address) !== undefined)
      throw new HttpError('banned', 'The operator of this server banned this bot.');
    if (!this.rates.take(bot.id) || !limits.takeMessage(address))
      throw new HttpError('rate_limited', 'Too many messages; wait a moment and send again.', { 'retry-after': '1' });
    if (!limits.takeDailyMessage(address))
      throw new HttpError('quota_exceeded', `Your address sent its ${config.messagesPerIpPerDay} messages for today.`);
    // An invite-only room takes the bots it let in (an owner's or moderator's business), as people.
    const standing = await roomHub.standing(post.room, bot.id, address);
    if (needsInvite(standing))
      throw new HttpError('invite_required', 'This room is invite-only and has not let this bot in.');

    const result = await roomHub.post({
      room: post.room,
      user: { id: bot.id, name: bot.name, bot: true },
      text: text.value,
      clientMsgId: post.clientMsgId,
      address,
      ...(post.replyTo !== undefined ? { replyTo: post.replyTo } : {}),
    });
    switch (result.outcome) {
      case 'stored':
        return { id: result.id };
      case 'duplicate':
        return { id: result.id, duplicate: true };
      case 'reused':
        throw new HttpError('client_msg_id_reused', 'This Idempotency-Key was used for a different message.');
      case 'refused':
        throw refusal(result.code, result.until, result.retryAfterMs, result.reason);
    }
  }
}

/** A refused post as HTTP: the socket's code, its status, and when it may be tried again. */
function refusal(
  code: ChangeRefusal,
  until: number | undefined,
  retryAfterMs: number | undefined,
  reason: string | undefined,
): HttpError {
  // The before-publish hook's refusals: its reason, or why it could not be asked (try again).
  if (code === 'rejected' || code === 'unavailable')
    return new HttpError(code, reason ?? 'The post was refused.', code === 'unavailable' ? { 'retry-after': '1' } : {});
  const codes: Partial<Record<ChangeRefusal, [HttpErrorCode, string]>> = {
    banned: ['banned', 'This bot is banned from the room'],
    muted: ['muted', 'This bot is muted in the room'],
    read_only: ['read_only', 'This room is read-only: only its owner and moderators post.'],
    slow_mode: ['slow_mode', 'This room is in slow mode; wait before posting again.'],
    not_found: ['not_found', 'The message answered is not in the room’s history.'],
  };
  const [http, message] = codes[code] ?? ['forbidden', `The post was refused (${code}).`];
  const end = until === undefined || until === 0 ? '' : ` until ${new Date(until).toISOString()}`;
  const headers: Record<string, string> =
    retryAfterMs === undefined ? {} : { 'retry-after': String(Math.max(1, Math.ceil(retryAfterMs / 1000))) };
  return new HttpError(http, code === 'banned' || code === 'muted' ? `${message}${end}.` : message, headers);
}

import type { WebSocket } from 'ws';
import {
  CLIENT_MSG_ID_PATTERN,
  checkMessageText,
  compareMessageIds,
  decodeClientFrame,
  encodeFrame,
  type ClientFrame,
  type ClientModerateFrame,
  type ClientSettingsFrame,
  type ClientWebhookFrame,
  type InviteFrame,
  DEFAULT_INVITE_SECONDS,
  type RoomSettings,
  type ModerationFrame,
  type User,
  type WebhookFrame,
  type WelcomeFrame,
} from '@parley/protocol';
import type { ChangeRefusal, HistoryResult, MemberList, PostResult } from '../engine/engine.ts';
import { needsInvite, type Standing } from '../engine/room-standing.ts';
import { logIdOf } from '../rooms/room-events.ts';
import type { OutgoingBatch } from '../rooms/outgoing-event.ts';
import type { EncodedFrames, FrameParts } from '../wire/frames.ts';
import { SocketSession, type ConnectionOrigin, type SessionDeps } from './socket-session.ts';

/** Connection parameters, already validated by the route. */
export interface V1Params {
  name: string;
  token: string | undefined;
  since: string | undefined;
  /** An invite to this room, for an invite-only room. */
  invite: string | undefined;
  /** The page's origin (the Origin header), to build invite links that open the web app. */
  pageOrigin: string | undefined;
}

/**
 * The welcome frame, with the member list the engine already holds as JSON spliced in as it is
 * (see MembersJson in engine.ts): at most WELCOME_MEMBERS_MAX of them, how many are present, and
 * whether the list is cut.
 */
function encodeWelcome(
  frame: Omit<WelcomeFrame, 'members' | 'history'>,
  history: HistoryResult,
  members: MemberList,
): string {
  const json = encodeFrame({
    ...frame,
    memberCount: members.count,
    hasMoreMembers: members.listed < members.count,
  } as WelcomeFrame);
  return `${json.slice(0, -1)},"history":${historyJson(history)},"members":${members.json}}`;
}

/**
 * The JSON of a history page's messages, encoded once per page: the sockets of a room that
 * reconnect together share one read (RoomHub.history) and so one encoding, however many welcomes.
 */
const encodedHistories = new WeakMap<HistoryResult, string>();
function historyJson(history: HistoryResult): string {
  let json = encodedHistories.get(history);
  if (json === undefined) {
    json = JSON.stringify(history.messages);
    encodedHistories.set(history, json);
  }
  return json;
}

/**
 * A client of Parley's own protocol (`parley.v1`): identity, a welcome with history and members,
 * acks, typing and presence. See packages/protocol/README.md.
 */
export class V1Session extends SocketSession {
  protected readonly protocol = 'parley.v1';
  private user: User | undefined;
  private token = '';
  private entered = false;
  /**
   * The newest log id (message or change) the welcome covered: events held during set-up up to
   * it are not sent again. Cleared at the first newer one.
   */
  private lastDelivered: string | undefined;

  /** Dropped after the welcome: an idle socket keeps only what it still needs. */
  private params: V1Params | undefined;
  /** The page's origin, kept for invite links. */
  private readonly pageOrigin: string | undefined;
  /** The person's standing as set-up found it (for the welcome); dropped after it. */
  private standing: Standing | undefined;

  constructor(socket: WebSocket, room: string, deps: SessionDeps, origin: ConnectionOrigin, params: V1Params) {
    super(socket, room, deps, origin);
    this.params = params;
    this.pageOrigin = params.pageOrigin;
  }

  get userId(): string | undefined {
    return this.user?.id;
  }

  protected override async prepare(): Promise<void> {
    const { identity } = this.deps;
    const params = this.params!;
    const known = params.token === undefined ? undefined : await identity.verify(params.token);
    // A known person gets a fresh token for the same id (tokens expire when unused); no token,
    // an expired one or one this server did not issue: a new person.
    const issued = await identity.issue(known);
    this.user = { id: issued.id, name: params.name };
    this.token = issued.token;
    // A banned person (by id, or by the address they come from) does not get in.
    const standing = await this.deps.hub.standing(this.room, issued.id, this.addressKey);
    this.standing = standing;
    if (standing.bannedUntil !== undefined) {
      this.closeRemoved('banned', standing.bannedUntil);
      return;
    }
    // An invite-only room lets in its owner and moderators, the people already let in, and
    // whoever brings a valid invite (who is then let in for good).
    if (needsInvite(standing)) {
      const invite = params.invite;
      if (invite === undefined || !(await identity.verifyInvite(invite, this.room))) {
        this.closeRemoved('invite_required', undefined);
        return;
      }
      // ...as many as the room keeps (ROOM_ADMITTED_MAX): past them, a newcomer is told so.
      const admitted = await this.deps.hub.admit(this.room, issued.id);
      if (admitted.outcome === 'refused') {
        this.closeRemoved(admitted.code, undefined);
        return;
      }
    }
  }

  protected override async welcome(): Promise<void> {
    const user = this.user!;
    this.entered = true;
    const { config, limits } = this.deps;
    // However large the room, a welcome lists a bounded page of its people (and their number).
    // (With the address this socket comes from: a ban of the person keys on it at once.)
    const members = await this.deps.hub.enter(this.room, user, config.welcomeMembersMax, this.addressKey);
    const since = this.params!.since;
    // A recovery is bounded like any page: when more was missed, `hasNewer` tells the client to
    // fetch the rest over HTTP, so no welcome grows with the history. And by what the address
    // may still be sent (HISTORY_BYTES_PER_IP): a flood of reconnects gets ever smaller welcomes
    // (one message at least, so the client always moves on).
    const history = await this.deps.hub.history(this.room, {
      since,
      limit: since === undefined ? config.historyPageSize : config.recoveryPageSize,
      maxBytes: Math.min(config.historyPageMaxBytes, limits.historyAllowance(this.addressKey)),
    });
    // Events held during set-up that the history already holds must not be sent twice.
    this.lastDelivered = history.lastEventId ?? history.messages.at(-1)?.id ?? (history.recovered ? since : undefined);
    const welcome = encodeWelcome(
      {
        type: 'welcome',
        room: this.room,
        you: {
          ...user,
          role: this.standing?.role ?? 'member',
          ...(this.standing?.mutedUntil !== undefined ? { mutedUntil: this.standing.mutedUntil } : {}),
        },
        ...(this.standing !== undefined ? { roles: this.standing.roles, settings: this.standing.settings } : {}),
        // Everyone is told that the room's events leave the server, and which (never where to).
        ...(this.standing?.webhookEvents !== undefined ? { webhook: { events: this.standing.webhookEvents } } : {}),
        token: this.token,
        recovered: history.recovered,
        hasMore: history.hasMore,
        hasNewer: history.hasNewer,
        ...(history.changes.length > 0 ? { changes: history.changes } : {}),
        ...(history.moderation.length > 0 ? { moderation: history.moderation } : {}),
        ...(history.settings.length > 0 ? { settingsChanges: history.settings } : {}),
        ...(history.webhooks.length > 0 ? { webhookChanges: history.webhooks } : {}),
        ...(history.lastEventId !== undefined ? { lastEventId: history.lastEventId } : {}),
      },
      history,
      members,
    );
    limits.chargeHistory(this.addressKey, Buffer.byteLength(welcome));
    this.writer.writeText(welcome);
    this.params = undefined;
    this.standing = undefined;
    this.token = '';
  }

  protected get standingId(): string | undefined {
    return this.user?.id;
  }

  override removed(moderation: ModerationFrame): void {
    if (moderation.action === 'ban') {
      // The ban already keyed on the addresses the engine kept for the person, in the same step
      // (see ChatEngine.enter). This socket's address too, in case it was not among them: more
      // than ADDRESSES_PER_PERSON of them, or a presence entered by an earlier release.
      this.deps.hub
        .banAddress(this.room, this.addressKey, moderation.until ?? 0, moderation.user.id)
        .catch((err: unknown) => this.report('warn', { err }, 'could not ban the address'));
    }
    this.closeRemoved(moderation.action === 'ban' ? 'banned' : 'kicked', moderation.until);
  }

  protected override onClose(): void {
    if (this.entered) this.deps.hub.exit(this.room, this.user!);
  }

  busStatus(degraded: boolean): void {
    if (!this.ready) return;
    this.writer.writeText(
      encodeFrame({
        type: 'status',
        degraded,
        message: degraded
          ? 'The chat service lost its message bus; sending is paused until it is back.'
          : 'The chat service is back; nothing was lost.',
      }),
    );
  }

  /**
   * The whole batch in one part when nothing in it is to be skipped (the common case: the same
   * bytes as every other socket); otherwise the frames this client gets: not its own presence or
   * typing, and not the messages its welcome already held.
   */
  protected framesFor(batch: OutgoingBatch): FrameParts | undefined {
    const me = this.user!.id;
    if (this.lastDelivered === undefined && (batch.skippedFor === undefined || !batch.skippedFor.has(me))) {
      this.deps.stats.messagesOut += batch.messageCount;
      return batch.v1;
    }
    const frames: EncodedFrames[] = [];
    for (const outgoing of batch.events) {
      if (outgoing.skippedFor === me) continue;
      const { event } = outgoing;
      const logId = logIdOf(event);
      if (logId !== undefined && this.lastDelivered !== undefined) {
        if (compareMessageIds(logId, this.lastDelivered) <= 0) continue;
        // Past the welcome's history, the hub's order is the id order: no more overlap to check.
        this.lastDelivered = undefined;
      }
      if (event.kind === 'message') this.deps.stats.messagesOut += 1;
      frames.push(outgoing.v1);
    }
    return frames.length === 0 ? undefined : frames;
  }

  protected handleText(raw: string): void {
    const frame = decodeClientFrame(raw);
    if (!frame.ok) {
      // The error names the refused frame when it has a usable clientMsgId, so the client
      // knows which of its messages or changes failed.
      this.refuseFrame(frame.code, frame.message, clientMsgIdOf(raw));
      return;
    }
    const user = this.user!;
    const sent = frame.value;
    if (sent.type === 'typing') {
      this.deps.hub.typing(this.room, user);
      return;
    }
    if (sent.type === 'invite') {
      this.sendInvite(user, sent.clientMsgId, sent.expiresInSeconds ?? DEFAULT_INVITE_SECONDS);
      return;
    }
    if (sent.type === 'webhook') {
      this.requestWebhook(user, sent);
      return;
    }
    const { clientMsgId } = sent;
    let text: string | undefined;
    if (sent.type === 'settings' && sent.topic !== undefined && sent.topic !== '') {
      // A topic is shown to everyone like a message: the same rules for what it may contain.
      const checked = checkMessageText(sent.topic, this.deps.config.maxTextBytes);
      if (!checked.ok) {
        this.refuseFrame(checked.code, checked.message, clientMsgId);
        return;
      }
    }
    if (sent.type === 'message' || sent.type === 'edit') {
      const checked = checkMessageText(sent.text, this.deps.config.maxTextBytes);
      if (!checked.ok) {
        this.refuseFrame(checked.code, checked.message, clientMsgId);
        return;
      }
      text = checked.value;
    }
    // Changes and moderation are stored like messages, so they count like messages (rate and daily quota).
    if (!this.allowMessage(clientMsgId)) return;
    const address = this.addressKey;
    const result =
      sent.type === 'message'
        ? this.deps.hub.post({ room: this.room, user, text: text!, clientMsgId, replyTo: sent.replyTo, address })
        : sent.type === 'moderate'
          ? this.deps.hub.moderate(moderationDraft(this.room, user, sent))
          : sent.type === 'settings'
            ? this.deps.hub.configure({ room: this.room, by: user, changes: settingsChanges(sent), clientMsgId })
            : this.deps.hub.change({
                room: this.room,
                user,
                op: sent.type,
                id: sent.id,
                clientMsgId,
                address,
                ...(text !== undefined ? { text } : {}),
                ...(sent.type === 'react' || sent.type === 'unreact' ? { emoji: sent.emoji } : {}),
              });
    this.track(result).then(
      (outcome) => this.answer(sent, outcome),
      (err: unknown) => this.reportPostFailure(err, clientMsgId),
    );
  }

  /** Answers an `invite` frame: an invite for the owner and moderators, `forbidden` for the others. */
  private sendInvite(user: User, clientMsgId: string, seconds: number): void {
    if (!this.allowMessage(clientMsgId)) return;
    const work = (async () => {
      const { role } = await this.deps.hub.standing(this.room, user.id, this.addressKey);
      if (role === 'member') {
        this.sendError('forbidden', 'Only the room’s owner and moderators can invite people.', clientMsgId);
        return;
      }
      const expiresTs = Date.now() + seconds * 1000;
      const invite = await this.deps.identity.invite(this.room, expiresTs);
      const frame: InviteFrame = { type: 'invite', invite, expiresTs, clientMsgId };
      if (this.pageOrigin !== undefined)
        frame.url = `${this.pageOrigin}/chat/${encodeURIComponent(this.room)}/?invite=${encodeURIComponent(invite)}`;
      this.writer.writeText(encodeFrame(frame));
    })();
    this.track(work).catch((err: unknown) => this.reportPostFailure(err, clientMsgId));
  }

  /**
   * Answers a `webhook` frame: the room's webhook as its owner sees it (the URL redacted; the
   * secret once, when a URL is set), or an error. Counted like a moderation action (the message
   * rate and the daily quota). The answer goes to this socket only; everyone in the room gets
   * the notice the engine publishes (the events, never the URL).
   */
  private requestWebhook(user: User, sent: ClientWebhookFrame): void {
    const { clientMsgId } = sent;
    if (!this.allowMessage(clientMsgId)) return;
    const work = this.deps.hub
      .webhook(this.room, user, this.addressKey, {
        ...(sent.url !== undefined ? { url: sent.url } : {}),
        ...(sent.events !== undefined ? { events: sent.events } : {}),
      })
      .then((answer) => {
        if (answer.outcome === 'refused') {
          this.sendError(answer.code, answer.message, clientMsgId);
          return;
        }
        if (answer.changed) this.deps.stats.moderationIn += 1;
        const frame: WebhookFrame = { type: 'webhook', webhook: answer.webhook, clientMsgId };
        this.writer.writeText(encodeFrame(frame));
      });
    this.track(work).catch((err: unknown) => this.reportPostFailure(err, clientMsgId));
  }

  /** Acks a stored (or already stored) message or change, or says why it was not. */
  private answer(sent: Exclude<ClientFrame, { type: 'typing' | 'invite' | 'webhook' }>, result: PostResult): void {
    const { clientMsgId } = sent;
    if (result.outcome === 'reused') {
      this.sendError(
        'client_msg_id_reused',
        `clientMsgId "${clientMsgId}" was already used for something else; pick a new one.`,
        clientMsgId,
      );
      return;
    }
    if (result.outcome === 'refused') {
      const message = result.reason ?? this.refusalMessage(result.code, result.until, result.retryAfterMs);
      this.sendError(result.code, message, clientMsgId, {
        until: result.until,
        retryAfterMs: result.retryAfterMs,
      });
      return;
    }
    if (result.outcome === 'stored') {
      if (sent.type === 'message') this.deps.stats.messagesIn += 1;
      else if (sent.type === 'moderate' || sent.type === 'settings') this.deps.stats.moderationIn += 1;
      else this.deps.stats.changesIn += 1;
    }
    // With the echo of the message, usually, which reaches this socket in the same turn.
    this.writer.writeAtEndOfTurn(encodeFrame({ type: 'ack', clientMsgId, id: result.id }));
  }

  private refusalMessage(code: ChangeRefusal, until: number | undefined, retryAfterMs: number | undefined): string {
    const end = until === undefined || until === 0 ? '' : ` until ${new Date(until).toISOString()}`;
    switch (code) {
      case 'not_found':
        return 'No such message in this room: it was deleted, or is older than the history the room keeps.';
      case 'forbidden':
        return 'Not yours to do: only its author edits a message, only its author and the room’s moderators delete it, and a moderator acts only on people below them.';
      case 'banned':
        return `You are banned from this room${end}.`;
      case 'muted':
        return `You are muted in this room${end}: nothing you send is posted.`;
      case 'not_present':
        return 'That person is not in the room.';
      case 'slow_mode':
        return `This room is in slow mode: you can post again in ${Math.ceil((retryAfterMs ?? 0) / 1000)} s.`;
      case 'read_only':
        return 'This room is read-only: only its owner and moderators post.';
      case 'edit_window_closed': {
        const minutes = Math.round(this.deps.config.editWindowSeconds / 60);
        return `A message can be edited for ${minutes} minute${minutes === 1 ? '' : 's'} after it is sent; it can still be deleted.`;
      }
      case 'too_many_reactions':
        return 'This message has as many reactions as it can hold.';
      // (The before-publish hook's refusals come with their own words.)
      case 'rejected':
        return 'This server does not accept this message.';
      case 'unavailable':
        return 'The message could not be checked, so it was not sent. Try again shortly.';
    }
  }
}

/** A `moderate` frame as the engine takes it. */
function moderationDraft(room: string, by: User, sent: ClientModerateFrame) {
  return {
    room,
    by,
    action: sent.action,
    userId: sent.userId,
    clientMsgId: sent.clientMsgId,
    ...(sent.durationSeconds !== undefined ? { durationSeconds: sent.durationSeconds } : {}),
    ...(sent.reason !== undefined ? { reason: sent.reason } : {}),
  };
}

/** The settings a `settings` frame changes (the fields it has). */
function settingsChanges(sent: ClientSettingsFrame): Partial<RoomSettings> {
  const { type: _type, clientMsgId: _clientMsgId, ...changes } = sent;
  return changes;
}

/** The clientMsgId of a frame the protocol refused, when it has a valid one. */
function clientMsgIdOf(raw: string): string | undefined {
  try {
    const id = (JSON.parse(raw) as { clientMsgId?: unknown } | null)?.clientMsgId;
    return typeof id === 'string' && CLIENT_MSG_ID_PATTERN.test(id) ? id : undefined;
  } catch {
    return undefined;
  }
}

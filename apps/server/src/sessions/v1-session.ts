import type { WebSocket } from 'ws';
import {
  checkMessageText,
  compareMessageIds,
  decodeClientFrame,
  encodeFrame,
  type User,
  type WelcomeFrame,
} from '@parley/protocol';
import type { MembersJson } from '../engine/engine.ts';
import type { OutgoingBatch } from '../rooms/outgoing-event.ts';
import type { EncodedFrames, FrameParts } from '../wire/frames.ts';
import { SocketSession, type ConnectionOrigin, type SessionDeps } from './socket-session.ts';

/** Connection parameters, already validated by the route. */
export interface V1Params {
  name: string;
  token: string | undefined;
  since: string | undefined;
}

/**
 * The welcome frame, with the member list the engine already holds as JSON spliced in as it is
 * (see {@link MembersJson}).
 */
function encodeWelcome(frame: Omit<WelcomeFrame, 'members'>, members: MembersJson): string {
  const json = encodeFrame(frame as WelcomeFrame);
  return `${json.slice(0, -1)},"members":${members}}`;
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
   * The newest message id the welcome gave this client: messages held during set-up up to it
   * are not sent again. Cleared at the first newer message.
   */
  private lastDelivered: string | undefined;

  /** Dropped after the welcome: an idle socket keeps only what it still needs. */
  private params: V1Params | undefined;

  constructor(socket: WebSocket, room: string, deps: SessionDeps, origin: ConnectionOrigin, params: V1Params) {
    super(socket, room, deps, origin);
    this.params = params;
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
  }

  protected override async welcome(): Promise<void> {
    const user = this.user!;
    this.entered = true;
    const members = await this.deps.hub.enter(this.room, user);
    const since = this.params!.since;
    const { config, limits } = this.deps;
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
    this.lastDelivered = history.messages.at(-1)?.id ?? (history.recovered ? since : undefined);
    const welcome = encodeWelcome(
      {
        type: 'welcome',
        room: this.room,
        you: user,
        token: this.token,
        history: history.messages,
        recovered: history.recovered,
        hasMore: history.hasMore,
        hasNewer: history.hasNewer,
      },
      members,
    );
    limits.chargeHistory(this.addressKey, Buffer.byteLength(welcome));
    this.writer.writeText(welcome);
    this.params = undefined;
    this.token = '';
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
      if (event.kind === 'message') {
        if (this.lastDelivered !== undefined) {
          if (compareMessageIds(event.message.id, this.lastDelivered) <= 0) continue;
          // Past the welcome's history, the hub's order is the id order: no more overlap to check.
          this.lastDelivered = undefined;
        }
        this.deps.stats.messagesOut += 1;
      }
      frames.push(outgoing.v1);
    }
    return frames.length === 0 ? undefined : frames;
  }

  protected handleText(raw: string): void {
    const frame = decodeClientFrame(raw);
    if (!frame.ok) {
      this.refuseFrame(frame.code, frame.message);
      return;
    }
    const user = this.user!;
    if (frame.value.type === 'typing') {
      this.deps.hub.typing(this.room, user);
      return;
    }
    const { clientMsgId } = frame.value;
    const text = checkMessageText(frame.value.text, this.deps.config.maxTextBytes);
    if (!text.ok) {
      this.refuseFrame(text.code, text.message, clientMsgId);
      return;
    }
    if (!this.allowMessage(clientMsgId)) return;
    this.track(this.deps.hub.post({ room: this.room, user, text: text.value, clientMsgId })).then(
      (result) => {
        if (result.outcome === 'reused') {
          this.sendError(
            'client_msg_id_reused',
            `clientMsgId "${clientMsgId}" was already used for a different message; pick a new one.`,
            clientMsgId,
          );
          return;
        }
        if (result.outcome === 'stored') this.deps.stats.messagesIn += 1;
        // With the echo of the message, usually, which reaches this socket in the same turn.
        this.writer.writeAtEndOfTurn(encodeFrame({ type: 'ack', clientMsgId, id: result.id }));
      },
      (err: unknown) => this.reportPostFailure(err, clientMsgId),
    );
  }
}

import { randomFillSync } from 'node:crypto';
import type { FastifyBaseLogger } from 'fastify';
import type { WebSocket, RawData } from 'ws';
import { CLOSE_CODES, encodeError, type ErrorCode, type ModerationFrame } from '@parley/protocol';
import type { Config } from '../config.ts';
import { EngineUnavailableError } from '../engine/engine.ts';
import type { IdentityTokens } from '../identity/identity-tokens.ts';
import type { ClientLimits } from '../limits/client-limits.ts';
import { TokenBucket } from '../limits/token-bucket.ts';
import type { Stats } from '../observability/stats.ts';
import type { ServerBans } from '../operator/server-bans.ts';
import { OutgoingBatch, type OutgoingEvent } from '../rooms/outgoing-event.ts';
import type { RoomHub, RoomMember } from '../rooms/room-hub.ts';
import type { FrameParts } from '../wire/frames.ts';
import { releaseUpgradeRequest } from '../wire/release-upgrade.ts';
import { SocketWriter, type WriterDeps } from '../wire/socket-writer.ts';
import { InboundLimits } from './inbound-limits.ts';

/** What sessions need from the app: one object shared by every session. */
export interface SessionDeps {
  config: Config;
  /** The sessions' one door to rooms and the engine behind them. */
  hub: RoomHub;
  identity: IdentityTokens;
  limits: ClientLimits;
  /** The operator's instance-wide bans (checked at set-up and on every frame). */
  serverBans: ServerBans;
  stats: Stats;
  /** What every socket's writer shares. */
  writer: WriterDeps;
  /** The app's logger; sessions add their connection id, request id and room to each line. */
  log: FastifyBaseLogger;
}

/** Where a connection came from. */
export interface ConnectionOrigin {
  /** Fastify's id of the upgrade request, to tie the socket's log lines to the HTTP log. */
  reqId: string;
  /** The key of the client's address that per-address limits count under (see ClientLimits.keyOf). */
  addressKey: string;
}

const sessions = new WeakMap<WebSocket, SocketSession>();

/** The session running on a socket, once it has started. */
export function sessionOf(socket: WebSocket): SocketSession | undefined {
  return sessions.get(socket);
}

// One listener of each kind for all sockets (`this` is the socket), instead of closures per
// socket: with tens of thousands of idle sockets, those closures are a good part of the memory.
function onSocketMessage(this: WebSocket, data: RawData, isBinary: boolean): void {
  sessions.get(this)?.onFrame(data, isBinary);
}
function onSocketClose(this: WebSocket, code: number, reason: Buffer): void {
  sessions.get(this)?.onClosed(code, reason);
}
function onSocketError(this: WebSocket, err: Error): void {
  sessions.get(this)?.report('warn', { err: err.message }, 'socket error');
}

/** Random bytes for connection ids, filled a batch at a time: one system call per id cost ~15 µs (a deploy storm's profile). */
const idBytes = Buffer.alloc(9 * 1024);
let idBytesUsed = idBytes.length;

/** 72 random bits as 12 base64url characters. */
function connectionId(): string {
  if (idBytesUsed === idBytes.length) {
    randomFillSync(idBytes);
    idBytesUsed = 0;
  }
  const id = idBytes.toString('base64url', idBytesUsed, idBytesUsed + 9);
  idBytesUsed += 9;
  return id;
}

/**
 * One WebSocket in one room. Attaches its listeners at once, then sets up (identity, room
 * subscription, welcome) and only then handles the frames and events that arrived meanwhile,
 * in order. Every inbound frame passes the connection's limits first; everything outbound goes
 * through its {@link SocketWriter}. A protocol is a subclass: it says how to set up, what a
 * frame from the client means, and which frames of a room's batch its client gets.
 */
export abstract class SocketSession implements RoomMember {
  /** A short random id for log lines (a flat string: a UUID is built of a dozen string pieces). */
  readonly id = connectionId();
  private readonly openedAt = Date.now();
  private readonly reqId: string;
  readonly addressKey: string;
  protected readonly writer: SocketWriter;
  /** True once set-up is done: frames and events flow directly. */
  protected ready = false;
  protected closed = false;
  /**
   * Frames and events that arrive during set-up, replayed after it (then dropped). At most
   * SETUP_FRAMES_MAX frames: a client has no reason to send before its welcome.
   */
  private earlyFrames: Array<{ data: RawData; isBinary: boolean }> | undefined = [];
  private heldEvents: OutgoingEvent[] | undefined = [];
  /** Ends a set-up that takes longer than SETUP_TIMEOUT_MS (a stalled bus). */
  private setupTimer: NodeJS.Timeout | undefined;
  /** Made at the first frame: idle sockets, the most numerous, need none. */
  private inbound: InboundLimits | undefined;
  /** Made at the first message. */
  private messageRate: TokenBucket | undefined;
  /** Posts sent to the engine and not yet answered; a graceful close waits for them. */
  private inFlight: Set<Promise<unknown>> | undefined;

  constructor(
    protected readonly socket: WebSocket,
    protected readonly room: string,
    protected readonly deps: SessionDeps,
    origin: ConnectionOrigin,
  ) {
    this.reqId = origin.reqId;
    this.addressKey = origin.addressKey;
    this.writer = new SocketWriter(socket, deps.writer);
  }

  /** The protocol name, for logs and metrics. */
  protected abstract readonly protocol: 'reference' | 'parley.v1';
  /** The person behind the socket, once known (their own presence and typing are not echoed to them). */
  abstract readonly userId: string | undefined;

  // ---- What a protocol says (the hooks, in the order they run) ----

  /** Work before joining the room (e.g. resolving the identity). */
  protected async prepare(): Promise<void> {}
  /** Work after the room's subscription is active, before events flow (e.g. the welcome frame). */
  protected async welcome(): Promise<void> {}
  /** Handles one inbound text frame, once set-up is done (binary frames are refused here). */
  protected abstract handleText(text: string): void;
  /** This socket's frames of a batch of room events (one write), or undefined when it gets none. */
  protected abstract framesFor(batch: OutgoingBatch): FrameParts | undefined;
  /** Tells the client the bus went away or came back (if its protocol can say so). */
  abstract busStatus(degraded: boolean): void;
  /** Called once when the socket closes, after it left the room. */
  protected onClose(): void {}

  /** Lost messages could not be read back: the client must reconnect and recover by itself. */
  resync(): void {
    this.writer.close(CLOSE_CODES.resync, 'messages lost: reconnect with since');
  }

  /**
   * Writes a log line with this connection's id, request id and room. (Not a child logger per
   * socket: with thousands of idle sockets, those would be a good part of their memory.)
   */
  report(level: 'info' | 'warn' | 'error', fields: Record<string, unknown>, message: string): void {
    this.deps.log[level]({ conn: this.id, reqId: this.reqId, room: this.room, ...fields }, message);
  }

  /** Called by the room hub with the room's events, in order. */
  deliver(batch: OutgoingBatch): void {
    if (!this.ready) {
      // (A loop, not push(...events): a batch may be longer than a call may have arguments.)
      for (const event of batch.events) this.heldEvents?.push(event);
      return;
    }
    const frames = this.framesFor(batch);
    if (frames !== undefined) this.writer.write(frames);
  }

  /**
   * Attaches the socket's listeners, then sets up. Listeners go on before any await: frames
   * that arrive during set-up are kept and handled in order after it.
   */
  start(): void {
    sessions.set(this.socket, this);
    this.deps.stats.open[this.protocol] += 1;
    this.socket.on('message', onSocketMessage);
    this.socket.on('close', onSocketClose);
    this.socket.on('error', onSocketError);
    releaseUpgradeRequest(this.socket, onSocketError);
    this.report('info', { event: 'ws_open', protocol: this.protocol }, 'connection opened');

    // A set-up stuck behind a stalled bus must not hold the socket (and what it sends) forever.
    this.setupTimer = setTimeout(() => {
      if (this.ready || this.closed) return;
      this.report('warn', { timeoutMs: this.deps.config.setupTimeoutMs }, 'set-up timed out');
      this.sendError('unavailable', 'The chat service did not open the room in time; reconnect in a moment.');
      this.socket.close(CLOSE_CODES.tryAgainLater, 'set-up timed out');
    }, this.deps.config.setupTimeoutMs);

    this.setUp().catch((err: unknown) => {
      if (this.closed || this.socket.readyState !== this.socket.OPEN) return;
      if (err instanceof EngineUnavailableError) {
        this.report('warn', { err: err.message }, 'could not set up: engine unavailable');
        this.sendError('unavailable', 'The chat service cannot reach its message bus; reconnect in a moment.');
        this.socket.close(CLOSE_CODES.tryAgainLater, 'message bus unavailable');
      } else {
        this.report('error', { err }, 'could not set up the connection');
        this.sendError('internal', 'The server could not open this room.');
        this.socket.close(1011, 'internal error');
      }
    });
  }

  /**
   * A frame arrived (called by the shared socket listener). Every frame, valid or not, is
   * charged to the connection's and the address's frame budget before it is even parsed.
   */
  onFrame(data: RawData, isBinary: boolean): void {
    const { stats, limits, config } = this.deps;
    if (this.closed) return; // closed for abuse: what it still sends is not even counted
    stats.framesIn += 1;
    stats.bytesIn += (data as Buffer).length;
    this.inbound ??= new InboundLimits(config);
    if (!this.inbound.takeFrame() || !limits.takeFrame(this.addressKey)) {
      stats.framesDropped += 1;
      this.sendError('rate_limited', 'Too many frames; slow down. This frame was dropped.');
      this.strike('dropped');
      return;
    }
    if (this.ready) {
      this.handleFrameSafely(data, isBinary);
    } else if (this.earlyFrames !== undefined && this.earlyFrames.length < config.setupFramesMax) {
      this.earlyFrames.push({ data, isBinary });
    } else {
      this.closeForAbuse(`more than ${config.setupFramesMax} frames before the welcome`);
    }
  }

  /** The socket closed (called by the shared socket listener). */
  onClosed(code: number, reason: Buffer): void {
    this.closed = true;
    clearTimeout(this.setupTimer);
    this.writer.dispose();
    this.deps.stats.open[this.protocol] -= 1;
    this.deps.limits.closed(this.addressKey);
    this.onClose();
    this.deps.hub.leave(this.room, this);
    const durationMs = Date.now() - this.openedAt;
    const fields = { event: 'ws_close', protocol: this.protocol, code, reason: reason.toString(), durationMs };
    this.report('info', fields, 'connection closed');
  }

  /**
   * Closes the socket once the posts in flight are answered (acked or refused), waiting at most
   * `timeoutMs`, so a shutdown does not lose a message the client already sent.
   */
  async closeGracefully(code: number, reason: string, timeoutMs: number): Promise<void> {
    if (this.inFlight !== undefined && this.inFlight.size > 0) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        Promise.allSettled([...this.inFlight]),
        new Promise((resolve) => {
          timer = setTimeout(resolve, timeoutMs);
        }),
      ]);
      clearTimeout(timer);
    }
    this.writer.close(code, reason);
  }

  protected sendError(
    code: ErrorCode,
    message: string,
    clientMsgId?: string,
    extra?: { until?: number | undefined; retryAfterMs?: number | undefined; scope?: 'server' | undefined },
  ): void {
    this.deps.stats.error(code);
    this.writer.writeText(encodeError(code, message, clientMsgId, extra));
  }

  /**
   * The person was kicked or banned (or is banned, or has no invite to an invite-only room, and
   * tried to come in): says so and closes with 4403, which clients do not reconnect on by
   * themselves. Nothing more it sends is handled.
   */
  protected closeRemoved(
    code: 'kicked' | 'banned' | 'invite_required' | 'room_full',
    until: number | undefined,
    scope: 'room' | 'server' = 'room',
  ): void {
    if (this.closed) return;
    this.closed = true;
    const message =
      scope === 'server'
        ? until === undefined || until === 0
          ? 'The operator of this server banned you.'
          : `The operator of this server banned you until ${new Date(until).toISOString()}.`
        : code === 'invite_required'
          ? 'This room is invite-only: ask its owner or a moderator for an invite.'
          : code === 'room_full'
            ? 'This invite-only room has let in as many people as it can; ask its owner.'
            : code === 'kicked'
              ? 'A moderator removed you from this room. You may come back.'
              : until === undefined || until === 0
                ? 'You are banned from this room.'
                : `You are banned from this room until ${new Date(until).toISOString()}.`;
    this.sendError(code, message, undefined, { until, ...(scope === 'server' ? { scope } : {}) });
    this.writer.close(CLOSE_CODES.removed, code);
  }

  /** Kicked or banned while here (the room hub calls this after delivering the news). Protocols with people override it. */
  removed(_moderation: ModerationFrame): void {}

  /** Whose standing in the room this socket has: its person's, or a reference client's own id. */
  protected abstract readonly standingId: string | undefined;

  /** Someone banned shared this socket's address: closes it (`banned`) if the address ban keeps it out. */
  addressBanned(): void {
    const id = this.standingId;
    if (this.closed || id === undefined) return;
    this.deps.hub.standing(this.room, id, this.addressKey).then(
      (standing) => {
        if (standing.bannedUntil !== undefined) this.closeRemoved('banned', standing.bannedUntil);
      },
      (err: unknown) => this.report('warn', { err }, 'could not read the standing of a socket on a banned address'),
    );
  }

  /**
   * Closes the socket (`banned`, 4403) when the operator banned its person or its address from
   * the whole server. True when it did.
   */
  enforceServerBan(): boolean {
    if (this.closed) return false;
    const ban = this.deps.serverBans.find(this.userId, this.addressKey);
    if (ban === undefined) return false;
    this.closeRemoved('banned', ban.until, 'server');
    return true;
  }

  /** Refuses an invalid frame with an error, and counts it against the connection. */
  protected refuseFrame(code: ErrorCode, message: string, clientMsgId?: string): void {
    this.sendError(code, message, clientMsgId);
    this.strike('invalid');
  }

  /**
   * Checks the connection's and the address's message allowance and the address's daily quota;
   * tells the client when one is used up (the message is not sent; it may retry later).
   */
  protected allowMessage(clientMsgId?: string): boolean {
    const { config, limits } = this.deps;
    this.messageRate ??= new TokenBucket(config.rateLimitPerConnection, config.rateBurstPerConnection);
    if (!this.messageRate.take() || !limits.takeMessage(this.addressKey)) {
      this.sendError('rate_limited', 'Too many messages; wait a moment and send again.', clientMsgId);
      return false;
    }
    if (!limits.takeDailyMessage(this.addressKey)) {
      this.sendError(
        'quota_exceeded',
        `Your address sent its ${config.messagesPerIpPerDay} messages for today; try again tomorrow.`,
        clientMsgId,
      );
      return false;
    }
    return true;
  }

  /** Runs a post, remembering it until it settles so a graceful close can wait for it. */
  protected track<T>(post: Promise<T>): Promise<T> {
    const inFlight = (this.inFlight ??= new Set());
    inFlight.add(post);
    const forget = () => inFlight.delete(post);
    post.then(forget, forget);
    return post;
  }

  /** Tells the client why its message was not sent. */
  protected reportPostFailure(err: unknown, clientMsgId?: string): void {
    if (err instanceof EngineUnavailableError) {
      // A command that timed out may still have run: the message may be stored after all. A
      // resend with the same clientMsgId is safe either way (it is stored once).
      this.sendError(
        'unavailable',
        'The message may not have been sent: the chat service is briefly unavailable. Send it again (that is safe).',
        clientMsgId,
      );
    } else {
      this.report('error', { err }, 'post failed');
      this.sendError('internal', 'The message was not sent because of a server error.', clientMsgId);
    }
  }

  private async setUp(): Promise<void> {
    // Banned from the whole server by address: nothing more is done for this socket.
    if (this.enforceServerBan()) return;
    await this.prepare();
    // ...or by user id, known once the identity is (v1).
    if (this.closed || this.enforceServerBan()) return;
    await this.deps.hub.join(this.room, this);
    if (this.closed) return;
    await this.welcome();
    if (this.closed) return;
    this.ready = true;
    // Dropped, not only cleared: an idle socket should not keep the timer object.
    clearTimeout(this.setupTimer);
    this.setupTimer = undefined;
    const events = this.heldEvents ?? [];
    const frames = this.earlyFrames ?? [];
    this.heldEvents = undefined;
    this.earlyFrames = undefined;
    // In a reconnect storm a newcomer's first batches hold its own arrival among many others:
    // all in one write.
    if (events.length > 0) this.deliver(new OutgoingBatch(events));
    for (const frame of frames) this.handleFrameSafely(frame.data, frame.isBinary);
  }

  private strike(kind: 'invalid' | 'dropped'): void {
    const broken = this.inbound?.strike(kind);
    if (broken !== undefined) this.closeForAbuse(broken);
  }

  /** Closes a connection that broke the protocol's rules, with 1008 and the rule in the reason. */
  private closeForAbuse(reason: string): void {
    if (this.closed) return;
    this.closed = true; // no more frames are handled, whatever is still buffered
    this.deps.stats.policyCloses += 1;
    this.deps.limits.policyClosed(this.addressKey);
    this.report('warn', { reason }, 'closing a connection that broke the rules');
    this.writer.close(CLOSE_CODES.policyViolation, reason);
    // Nothing more is read from it (ws would otherwise read and discard whatever it sends until
    // its close handshake times out, 30 s); the close frame still goes out, then the connection
    // is cut.
    this.writer.stopReading();
    this.writer.terminateSoon(1000);
  }

  private handleFrameSafely(data: RawData, isBinary: boolean): void {
    // A ban made on another instance reaches this one's copy within seconds; no frame gets
    // through once it has.
    if (this.closed || this.enforceServerBan()) return;
    if (isBinary) {
      // Both protocols are JSON text; one refusal here serves them all.
      this.refuseFrame('bad_frame', 'Binary frames are not supported; send JSON text.');
      return;
    }
    try {
      this.handleText(data.toString());
    } catch (err) {
      // A bug in frame handling must cost this frame, not the process or the other sockets.
      this.report('error', { err }, 'frame handler failed');
      this.sendError('internal', 'The server could not handle this frame.');
    }
  }
}

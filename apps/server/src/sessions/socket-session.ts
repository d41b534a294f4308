import { randomBytes } from 'node:crypto';
import type { FastifyBaseLogger } from 'fastify';
import type { WebSocket, RawData } from 'ws';
import { CLOSE_CODES, encodeError, type ErrorCode } from '@parley/protocol';
import type { Config } from '../config.ts';
import { EngineUnavailableError, type ChatEngine } from '../engine/engine.ts';
import type { IdentityTokens } from '../identity/identity-tokens.ts';
import type { ClientLimits } from '../limits/client-limits.ts';
import { TokenBucket } from '../limits/token-bucket.ts';
import type { Stats } from '../observability/stats.ts';
import { releaseUpgradeRequest } from './release-upgrade.ts';
import type { OutgoingBatch, OutgoingEvent } from '../rooms/outgoing-event.ts';
import { encodeTextFrame, isPartList, partList, writeTextFrames, type EncodedFrames, type FrameParts } from './wire-frame.ts';
import type { RoomHub, RoomMember } from '../rooms/room-hub.ts';

/** What sessions need from the app: one object shared by every session. */
export interface SessionDeps {
  config: Config;
  engine: ChatEngine;
  hub: RoomHub;
  identity: IdentityTokens;
  limits: ClientLimits;
  stats: Stats;
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

/** Invalid frames and frames over the budget are counted over this window for the close rule. */
const STRIKE_WINDOW_MS = 60_000;

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

/**
 * One WebSocket in one room. Attaches its listeners at once, then sets up (identity, room
 * subscription, welcome) and only then handles the frames and events that arrived meanwhile,
 * in order. Outbound frames are written with a bound on what may queue up for a slow reader.
 */
export abstract class SocketSession implements RoomMember {
  /** A short random id for log lines (a flat string: a UUID is built of a dozen string pieces). */
  readonly id = randomBytes(9).toString('base64url');
  private readonly openedAt = Date.now();
  private readonly reqId: string;
  protected readonly addressKey: string;
  /** True once set-up is done: frames and events flow directly. */
  protected ready = false;
  protected closed = false;
  /**
   * Frames and events that arrive during set-up, replayed after it (then dropped). At most
   * SETUP_FRAMES_MAX frames: a client has no reason to send before its welcome.
   */
  private earlyFrames: Array<{ data: RawData; isBinary: boolean }> | undefined = [];
  /** Ends a set-up that takes longer than SETUP_TIMEOUT_MS (a stalled bus). */
  private setupTimer: NodeJS.Timeout | undefined;
  /** Frames this connection may send (any kind, valid or not); made at the first frame. */
  private frameRate: TokenBucket | undefined;
  /** Invalid frames and frames dropped over the budget, in the current window (see {@link strike}). */
  private strikes: { invalid: number; dropped: number; windowStart: number } | undefined;
  /** Armed when a write leaves the send buffer over its limit (see {@link watchSendBuffer}). */
  private slowTimer: NodeJS.Timeout | undefined;
  private heldEvents: OutgoingEvent[] | undefined = [];
  /**
   * Frames for this socket alone (acks) that wait for the end of this turn of the event loop, to
   * share a write with whatever else goes to the socket meanwhile: the sender's ack and the echo
   * of its message usually arrive together, and one write costs about as much as two frames.
   */
  private pending: EncodedFrames[] | undefined;

  constructor(
    protected readonly socket: WebSocket,
    protected readonly room: string,
    protected readonly deps: SessionDeps,
    origin: ConnectionOrigin,
  ) {
    this.reqId = origin.reqId;
    this.addressKey = origin.addressKey;
  }

  /**
   * Writes a log line with this connection's id, request id and room. (Not a child logger per
   * socket: with thousands of idle sockets, those would be a good part of their memory.)
   */
  report(level: 'info' | 'warn' | 'error', fields: Record<string, unknown>, message: string): void {
    this.deps.log[level]({ conn: this.id, reqId: this.reqId, room: this.room, ...fields }, message);
  }

  /** The protocol name, for logs and metrics. */
  protected abstract readonly protocol: 'reference' | 'parley.v1';
  /** Created at the first message: idle sockets, the most numerous, need none. */
  private messageRate: TokenBucket | undefined;
  /** Posts sent to the engine and not yet answered; a graceful close waits for them. */
  private inFlight: Set<Promise<unknown>> | undefined;
  abstract readonly userId: string | undefined;

  /** Work before joining the room (e.g. resolving the identity). */
  protected async prepare(): Promise<void> {}
  /** Work after the room's subscription is active, before events flow (e.g. the welcome frame). */
  protected async welcome(): Promise<void> {}
  /** Called once when the socket closes, after it left the room. */
  protected onClose(): void {}
  /** Handles one inbound text frame, once set-up is done (binary frames are refused here). */
  protected abstract handleText(text: string): void;
  /** One room event in this socket's protocol, or undefined when this socket does not get it. */
  protected abstract encode(event: OutgoingEvent): EncodedFrames | undefined;
  /** True when every event of the batch goes to this socket as it is (nothing to skip). */
  protected abstract takesWhole(batch: OutgoingBatch): boolean;
  /** Writes a whole batch in one write (only called when {@link takesWhole} said so). */
  protected abstract writeWhole(batch: OutgoingBatch): void;
  /** Tells the client the bus went away or came back (if its protocol can say so). */
  abstract busStatus(degraded: boolean): void;

  /** Lost messages could not be read back: the client must reconnect and recover by itself. */
  resync(): void {
    this.closeSocket(CLOSE_CODES.resync, 'messages lost: reconnect with since');
  }

  /** Called by the room hub with the room's events, in order. */
  deliver(batch: OutgoingBatch): void {
    if (!this.ready) {
      // (A loop, not push(...events): a batch may be longer than a call may have arguments.)
      for (const event of batch.events) this.heldEvents?.push(event);
    } else if (this.takesWhole(batch)) {
      this.writeWhole(batch);
    } else {
      this.writeEach(batch.events);
    }
  }

  /**
   * Writes the events this socket gets, in one write however many there are: in a reconnect
   * storm a newcomer's first batches hold its own arrival (skipped for it) among many others.
   */
  private writeEach(events: readonly OutgoingEvent[]): void {
    const frames: EncodedFrames[] = [];
    for (const event of events) {
      // People are not told about their own arrival, departure or typing: the welcome already
      // lists them, and their other tabs do not change their presence.
      if (event.aboutUser !== undefined && event.aboutUser === this.userId) continue;
      const encoded = this.encode(event);
      if (encoded !== undefined) frames.push(encoded);
    }
    if (frames.length > 0) this.sendEncoded(frames);
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
    this.frameRate ??= new TokenBucket(config.frameRatePerConnection, config.frameBurstPerConnection);
    if (!this.frameRate.take() || !limits.takeFrame(this.addressKey)) {
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

  /**
   * Counts an invalid frame or a frame dropped over the budget. A connection with more than
   * INVALID_FRAMES_MAX invalid frames, or more than FRAME_BURST_PER_CONNECTION dropped ones,
   * within a minute is closed (1008): a client that keeps sending what the server refuses is
   * broken or hostile, and each refusal costs the server a parse and an error frame.
   */
  protected strike(kind: 'invalid' | 'dropped'): void {
    const now = Date.now();
    if (this.strikes === undefined || now - this.strikes.windowStart > STRIKE_WINDOW_MS) {
      this.strikes = { invalid: 0, dropped: 0, windowStart: now };
    }
    this.strikes[kind] += 1;
    const { invalidFramesMax, frameBurstPerConnection } = this.deps.config;
    if (kind === 'invalid' && invalidFramesMax > 0 && this.strikes.invalid > invalidFramesMax) {
      this.closeForAbuse(`more than ${invalidFramesMax} invalid frames in a minute`);
    } else if (kind === 'dropped' && this.strikes.dropped > frameBurstPerConnection) {
      this.closeForAbuse(`more than ${frameBurstPerConnection} frames over the rate limit in a minute`);
    }
  }

  /** Closes a connection that broke the protocol's rules, with 1008 and the rule in the reason. */
  private closeForAbuse(reason: string): void {
    if (this.closed) return;
    this.closed = true; // no more frames are handled, whatever is still buffered
    this.deps.stats.policyCloses += 1;
    this.report('warn', { reason }, 'closing a connection that broke the rules');
    this.closeSocket(CLOSE_CODES.policyViolation, reason);
    // Without this, ws would keep reading (and discarding) whatever it sends until its close
    // handshake times out (30 s).
    this.terminateSoon(1000);
  }

  /** Cuts the TCP connection after `ms` unless the close handshake has finished by then. */
  private terminateSoon(ms: number): void {
    setTimeout(() => {
      if (this.socket.readyState !== this.socket.CLOSED) this.socket.terminate();
    }, ms).unref();
  }

  /** The socket closed (called by the shared socket listener). */
  onClosed(code: number, reason: Buffer): void {
    this.closed = true;
    clearTimeout(this.setupTimer);
    clearTimeout(this.slowTimer);
    this.deps.stats.open[this.protocol] -= 1;
    this.deps.limits.closed(this.addressKey);
    this.onClose();
    this.deps.hub.leave(this.room, this);
    const durationMs = Date.now() - this.openedAt;
    const fields = { event: 'ws_close', protocol: this.protocol, code, reason: reason.toString(), durationMs };
    this.report('info', fields, 'connection closed');
  }

  private async setUp(): Promise<void> {
    await this.prepare();
    if (this.closed) return;
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
    this.writeEach(events);
    for (const frame of frames) this.handleFrameSafely(frame.data, frame.isBinary);
    // (handleFrameSafely stops once a frame got the connection closed.)
  }

  /** Sends a frame unless the socket is closed or too far behind; see {@link Config.sendBufferLimitBytes}. */
  protected send(frame: string): void {
    if (this.canSend()) this.writeEncoded(encodeTextFrame(frame));
  }

  /**
   * Sends pre-built frames (a broadcast's are the same bytes for every socket) in one write;
   * several parts go out as one writev, without copying shared frames into a buffer per socket.
   */
  protected sendEncoded(encoded: FrameParts): void {
    if (this.canSend()) this.writeEncoded(encoded);
  }

  /**
   * Sends a frame at the end of this turn of the event loop, in the same write as anything else
   * this socket gets by then (the room's batch, usually). Never later: the hub writes what is
   * still waiting once it has written the rooms.
   */
  protected sendSoon(frame: string): void {
    if (this.pending === undefined) {
      this.pending = [];
      this.deps.hub.writeSoon(this);
    }
    this.pending.push(encodeTextFrame(frame));
  }

  /** Writes the frames that waited for company and got none (called by the hub). */
  flushPending(): void {
    const pending = this.pending;
    if (pending === undefined) return;
    this.pending = undefined;
    this.sendEncoded(pending);
  }

  /** Closes the socket after writing what was waiting (an ack must not be lost to a close). */
  protected closeSocket(code: number, reason: string): void {
    this.flushPending();
    this.socket.close(code, reason);
  }

  private writeEncoded(encoded: FrameParts): void {
    if (this.pending !== undefined) {
      // Waiting frames go first, in the same write.
      encoded = [...this.pending, ...partList(encoded)];
      this.pending = undefined;
    }
    const { stats } = this.deps;
    if (isPartList(encoded)) {
      for (const part of encoded) {
        stats.framesOut += part.payloads.length;
        stats.bytesOut += part.payloadBytes;
      }
    } else {
      // A broadcast's single part, the common case: nothing allocated per socket.
      stats.framesOut += encoded.payloads.length;
      stats.bytesOut += encoded.payloadBytes;
    }
    stats.socketWrites += 1;
    writeTextFrames(this.socket, encoded);
    this.watchSendBuffer();
  }

  private canSend(): boolean {
    if (this.socket.readyState !== this.socket.OPEN) return false;
    if (this.socket.bufferedAmount > this.deps.config.sendBufferLimitBytes) {
      // A client that stops reading would otherwise make the server hold every message for it.
      this.closeSlowConsumer();
      return false;
    }
    return true;
  }

  /**
   * After a write: when the send buffer is over its limit (a large welcome to a client that does
   * not read, with nothing else sent after it), the client has SLOW_CONSUMER_GRACE_MS to read it
   * down, or it is closed. Without this, a buffer is only checked before the next write, which
   * may never come.
   */
  private watchSendBuffer(): void {
    const { sendBufferLimitBytes, slowConsumerGraceMs } = this.deps.config;
    if (this.slowTimer !== undefined || this.socket.bufferedAmount <= sendBufferLimitBytes) return;
    this.slowTimer = setTimeout(() => {
      this.slowTimer = undefined;
      if (this.socket.readyState === this.socket.OPEN && this.socket.bufferedAmount > sendBufferLimitBytes) this.closeSlowConsumer();
    }, slowConsumerGraceMs);
  }

  private closeSlowConsumer(): void {
    this.report('warn', { buffered: this.socket.bufferedAmount }, 'closing slow consumer');
    this.deps.stats.slowConsumerCloses += 1;
    this.socket.close(CLOSE_CODES.slowConsumer, 'send buffer full: reading too slowly');
    // The close frame waits behind the unread bytes; a client that reads nothing would keep them
    // (and the socket) for ws' 30 s close timeout. Cut it after the grace period instead.
    this.terminateSoon(Math.max(1000, this.deps.config.slowConsumerGraceMs));
  }

  protected sendError(code: ErrorCode, message: string, clientMsgId?: string): void {
    this.deps.stats.error(code);
    this.send(encodeError(code, message, clientMsgId));
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
      this.sendError('quota_exceeded', `Your address sent its ${config.messagesPerIpPerDay} messages for today; try again tomorrow.`, clientMsgId);
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
    this.closeSocket(code, reason);
  }

  /** Tells the client why its message was not sent. */
  protected reportPostFailure(err: unknown, clientMsgId?: string): void {
    if (err instanceof EngineUnavailableError) {
      // A command that timed out may still have run: the message may be stored after all. A
      // resend with the same clientMsgId is safe either way (it is stored once).
      this.sendError('unavailable', 'The message may not have been sent: the chat service is briefly unavailable. Send it again (that is safe).', clientMsgId);
    } else {
      this.report('error', { err }, 'post failed');
      this.sendError('internal', 'The message was not sent because of a server error.', clientMsgId);
    }
  }

  /** Refuses an invalid frame with an error, and counts it (see {@link strike}). */
  protected refuseFrame(code: ErrorCode, message: string, clientMsgId?: string): void {
    this.sendError(code, message, clientMsgId);
    this.strike('invalid');
  }

  private handleFrameSafely(data: RawData, isBinary: boolean): void {
    if (this.closed) return;
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

/**
 * The requests this client sent (or will send) that the server has not answered yet: messages,
 * changes, moderation actions, settings, invite requests. Each has a `clientMsgId` chosen here;
 * the server applies a clientMsgId once, so a request can be sent again safely: after a
 * reconnect, after `unavailable` or `rate_limited`, or when no answer came in time.
 *
 * Life of a request: `waiting` (offline, before the welcome, or backing off) → `sent` (on the
 * wire) → settled: resolved by its `ack` (or, for an invite request, its `invite` frame), or
 * rejected with a {@link ParleyError}. A dropped connection puts `sent` requests back to
 * `waiting`; they go out again, with the same clientMsgId, after the next welcome.
 *
 * Bounded: at most `maxSize` requests at once (`outbox_full` past it), and at most `maxRetries`
 * resends after a refusal or a silent server, spaced by a jittered backoff. Pure bookkeeping
 * with an injected clock: the room decides when to look, and puts frames on the wire.
 */
import { CLIENT_MSG_ID_PATTERN, type AckFrame, type ClientFrame, type InviteFrame } from '@parley/protocol';
import { backoffDelay, RETRY_BACKOFF, type BackoffOptions } from '../connection/backoff.ts';
import { ParleyError, type LooseErrorFrame } from '../errors.ts';

/** A frame the server answers by its clientMsgId (every client frame but `typing`). */
export type RequestFrame = Exclude<ClientFrame, { type: 'typing' }>;

/** What a request resolves with: the ack's id (a message's, or a change's own log id). */
export interface Ack {
  id: string;
  clientMsgId: string;
}

export interface OutboxOptions {
  /** Requests held at once, answered or not yet sent (100 unless given). */
  maxSize?: number;
  /** Resends after `unavailable`, `rate_limited` or a missing answer, per request (5 unless given). */
  maxRetries?: number;
  /** A request on the wire this long without an answer is sent again (10 s unless given). */
  ackTimeoutMs?: number;
  /** Waits between resends after a refusal. */
  retryBackoff?: BackoffOptions;
  /** For tests: a source of numbers in [0, 1). */
  random?: () => number;
}

/** Refusals after which the same request is sent again (with the same clientMsgId). */
const RETRYABLE_CODES: ReadonlySet<string> = new Set(['unavailable', 'rate_limited']);

interface Entry {
  readonly clientMsgId: string;
  readonly frame: RequestFrame;
  state: 'waiting' | 'sent';
  /** Not sent again before this time (ms; a backoff after a refusal). */
  notBefore: number;
  sentAt: number | undefined;
  /** Resends so far after refusals and timeouts (not after reconnects). */
  retries: number;
  readonly resolve: (answer: AckFrame | InviteFrame) => void;
  readonly reject: (error: ParleyError) => void;
}

/** What became of an error frame's request. */
export type Refusal = 'retrying' | 'rejected' | 'unknown';

export class Outbox {
  readonly #entries = new Map<string, Entry>();
  readonly #maxSize: number;
  readonly #maxRetries: number;
  readonly #ackTimeoutMs: number;
  readonly #backoff: BackoffOptions;
  readonly #random: () => number;

  constructor(options: OutboxOptions = {}) {
    this.#maxSize = options.maxSize ?? 100;
    this.#maxRetries = options.maxRetries ?? 5;
    this.#ackTimeoutMs = options.ackTimeoutMs ?? 10_000;
    this.#backoff = options.retryBackoff ?? RETRY_BACKOFF;
    this.#random = options.random ?? Math.random;
  }

  /** Requests held, answered or not yet sent. */
  get size(): number {
    return this.#entries.size;
  }

  /** Whether a request with this clientMsgId is held. */
  has(clientMsgId: string): boolean {
    return this.#entries.has(clientMsgId);
  }

  /**
   * Adds a request, to be sent when {@link due} says so.
   *
   * @returns Its answer: the ack (or the invite frame), or a ParleyError.
   */
  add(frame: RequestFrame, now: number): Promise<AckFrame | InviteFrame> {
    if (this.#entries.size >= this.#maxSize)
      return Promise.reject(
        new ParleyError('outbox_full', `${this.#entries.size} requests are waiting for the server already.`, {
          clientMsgId: frame.clientMsgId,
        }),
      );
    if (this.#entries.has(frame.clientMsgId))
      return Promise.reject(
        new ParleyError('client_msg_id_reused', `A request with clientMsgId ${frame.clientMsgId} is waiting already.`, {
          clientMsgId: frame.clientMsgId,
        }),
      );
    return new Promise((resolve, reject) => {
      this.#entries.set(frame.clientMsgId, {
        clientMsgId: frame.clientMsgId,
        frame,
        state: 'waiting',
        notBefore: now,
        sentAt: undefined,
        retries: 0,
        resolve,
        reject,
      });
    });
  }

  /** The frames to put on the wire now, oldest first. */
  due(now: number): RequestFrame[] {
    const due: RequestFrame[] = [];
    for (const entry of this.#entries.values())
      if (entry.state === 'waiting' && entry.notBefore <= now) due.push(entry.frame);
    return due;
  }

  /** The request went out just now. */
  markSent(clientMsgId: string, now: number): void {
    const entry = this.#entries.get(clientMsgId);
    if (entry === undefined) return;
    entry.state = 'sent';
    entry.sentAt = now;
  }

  /**
   * The server answered a request: an ack, or an invite frame for an invite request.
   *
   * @returns Whether it answered a request held here.
   */
  settle(answer: AckFrame | InviteFrame): boolean {
    const entry = this.#entries.get(answer.clientMsgId);
    if (entry === undefined) return false;
    this.#entries.delete(answer.clientMsgId);
    entry.resolve(answer);
    return true;
  }

  /**
   * The server refused a request. `unavailable` and `rate_limited` send it again, with the same
   * clientMsgId, after a backoff (until `maxRetries`); anything else rejects it.
   */
  refuse(frame: LooseErrorFrame, now: number): Refusal {
    if (frame.clientMsgId === undefined) return 'unknown';
    const entry = this.#entries.get(frame.clientMsgId);
    if (entry === undefined) return 'unknown';
    if (RETRYABLE_CODES.has(frame.code) && entry.retries < this.#maxRetries) {
      entry.state = 'waiting';
      entry.notBefore = now + backoffDelay(entry.retries, this.#backoff, this.#random);
      entry.sentAt = undefined;
      entry.retries += 1;
      return 'retrying';
    }
    this.#entries.delete(entry.clientMsgId);
    entry.reject(ParleyError.fromFrame(frame));
    return 'rejected';
  }

  /**
   * Requests on the wire for longer than the ack timeout: sent again (they are stored once), or
   * rejected with `timeout` once they were sent `maxRetries` times more.
   */
  expire(now: number): void {
    for (const entry of [...this.#entries.values()]) {
      if (entry.state !== 'sent' || entry.sentAt === undefined || now - entry.sentAt < this.#ackTimeoutMs) continue;
      if (entry.retries >= this.#maxRetries) {
        this.#entries.delete(entry.clientMsgId);
        entry.reject(
          new ParleyError(
            'timeout',
            `The server did not answer in ${this.#ackTimeoutMs} ms, ${entry.retries + 1} times.`,
            {
              clientMsgId: entry.clientMsgId,
            },
          ),
        );
        continue;
      }
      entry.retries += 1;
      entry.state = 'waiting';
      entry.notBefore = now;
      entry.sentAt = undefined;
    }
  }

  /**
   * The connection dropped: whatever was on the wire unanswered may or may not have been
   * stored; it goes out again after the next welcome (a reconnect is not a retry: it does not
   * count against `maxRetries`).
   */
  connectionLost(): void {
    for (const entry of this.#entries.values()) {
      if (entry.state !== 'sent') continue;
      entry.state = 'waiting';
      entry.sentAt = undefined;
    }
  }

  /**
   * When something is next to do: a backoff ending, or an ack timeout.
   *
   * @returns The time (ms), or `undefined` when nothing waits on the clock.
   */
  nextWakeAt(): number | undefined {
    let next: number | undefined;
    for (const entry of this.#entries.values()) {
      const at =
        entry.state === 'sent' && entry.sentAt !== undefined ? entry.sentAt + this.#ackTimeoutMs : entry.notBefore;
      if (next === undefined || at < next) next = at;
    }
    return next;
  }

  /** Rejects every request held (the room is closed). */
  rejectAll(error: (clientMsgId: string) => ParleyError): void {
    const entries = [...this.#entries.values()];
    this.#entries.clear();
    for (const entry of entries) entry.reject(error(entry.clientMsgId));
  }
}

/**
 * A fresh client message id: 128 random bits, so that two clients, tabs or restarts never
 * collide. From `crypto.getRandomValues`, which browsers offer outside secure contexts too.
 */
export function newClientMsgId(): string {
  const bytes = new Uint8Array(16);
  globalThis.crypto.getRandomValues(bytes);
  const id = `c-${Array.from(bytes, (byte) => byte.toString(16).padStart(2, '0')).join('')}`;
  if (!CLIENT_MSG_ID_PATTERN.test(id)) throw new Error(`not a valid clientMsgId: ${id}`);
  return id;
}

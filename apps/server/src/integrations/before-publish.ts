import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import type { FastifyBaseLogger } from 'fastify';
import {
  BeforePublishAnswerSchema,
  MAX_REJECT_REASON_CHARS,
  checkMessageText,
  decodeWith,
  type BeforePublishRequest,
} from '@parley/protocol';
import type { BeforePublishOutcome, Stats } from '../observability/stats.ts';
import type { PublishCheck, PublishVerdict } from '../rooms/room-hub.ts';
import { OutboundError, postJson } from './http-post.ts';
import { signedHeaders } from './signing.ts';

/** The before-publish hook's settings (BEFORE_PUBLISH_* in config.ts). */
export interface BeforePublishOptions {
  url: URL;
  /** Signs each request (see signing.ts). */
  secret: string;
  /** A call not answered within this long has failed. */
  timeoutMs: number;
  /** Calls in flight at most; a message beyond them is not checked (it fails, see `failure`). */
  concurrency: number;
  /** What a message the hook could not judge becomes: posted unchecked (`open`) or refused (`closed`). */
  failure: 'open' | 'closed';
  /** MAX_TEXT_BYTES: a replacement text is held to the rules a client's text is. */
  maxTextBytes: number;
}

/** Failures are logged at most this often (each line counts those since the last). */
const LOG_EVERY_MS = 10_000;

/** Said to the sender when the hook refuses without a reason. */
const DEFAULT_REASON = 'This server does not accept this message.';
const FAILED_CLOSED_REASON =
  'The message could not be checked, so it was not sent: the server’s message check is not answering. Try again shortly.';

/**
 * The operator's before-publish hook: asked, by a signed POST, about each new message and each
 * edit before it is stored, it answers accept, reject (with a reason for the sender) or replace
 * (the text to store instead). The room hub asks it (RoomHub.post and .change, the one door
 * every message passes), so sockets of both protocols and bots are checked alike.
 *
 * Bounded, so a slow or broken hook cannot take the chat down with it: each call gets
 * BEFORE_PUBLISH_TIMEOUT_MS, an answer is read up to a size bound, and at most
 * BEFORE_PUBLISH_CONCURRENCY calls are in flight. A message the hook could not judge (a
 * timeout, an error, a bad answer, or the concurrency bound reached: then no call is made) is
 * posted unchecked or refused with `unavailable`, as BEFORE_PUBLISH_FAILURE says. Requests go
 * over kept-alive connections (a check per message is on the sender's path).
 */
export class BeforePublishHook implements PublishCheck {
  private inFlight = 0;
  private loggedAt = Number.NEGATIVE_INFINITY;
  private failuresUnlogged = 0;
  private readonly agent: HttpAgent | HttpsAgent;
  /** Room for the longest valid answer: a replacement of MAX_TEXT_BYTES, each byte escaped (\uXXXX). */
  private readonly maxAnswerBytes: number;

  constructor(
    private readonly options: BeforePublishOptions,
    private readonly stats: Stats,
    private readonly log: FastifyBaseLogger,
  ) {
    const agentOptions = { keepAlive: true, maxSockets: options.concurrency };
    this.agent = options.url.protocol === 'https:' ? new HttpsAgent(agentOptions) : new HttpAgent(agentOptions);
    this.maxAnswerBytes = 1024 + 6 * options.maxTextBytes;
  }

  async check(request: BeforePublishRequest): Promise<PublishVerdict> {
    if (this.inFlight >= this.options.concurrency) return this.failed('overloaded', request);
    this.inFlight += 1;
    try {
      const body = JSON.stringify(request);
      const answer = await postJson(this.options.url, body, {
        headers: signedHeaders(this.options.secret, body),
        timeoutMs: this.options.timeoutMs,
        maxResponseBytes: this.maxAnswerBytes,
        agent: this.agent,
      });
      if (answer.status !== 200) return this.failed('error', request, `status ${answer.status}`);
      return this.verdictOf(answer.body, request);
    } catch (err) {
      const kind = err instanceof OutboundError ? err.kind : undefined;
      const outcome = kind === 'timeout' || kind === 'too_large' ? kind : 'error';
      return this.failed(outcome, request, err instanceof Error ? err.message : String(err));
    } finally {
      this.inFlight -= 1;
    }
  }

  /** Closes the kept-alive connections (the app's onClose). */
  close(): void {
    this.agent.destroy();
  }

  private verdictOf(body: string, request: BeforePublishRequest): PublishVerdict {
    let json: unknown;
    try {
      json = JSON.parse(body);
    } catch {
      return this.failed('bad_answer', request, 'the answer is not JSON');
    }
    const decoded = decodeWith(BeforePublishAnswerSchema, json);
    if (!decoded.ok) return this.failed('bad_answer', request, decoded.message);
    const answer = decoded.value;
    switch (answer.action) {
      case 'accept':
        this.stats.beforePublish('accept');
        return answer;
      case 'reject': {
        this.stats.beforePublish('reject');
        return { action: 'reject', reason: reasonOf(answer.reason) };
      }
      case 'replace': {
        const text = checkMessageText(answer.text, this.options.maxTextBytes);
        if (!text.ok) return this.failed('bad_answer', request, `the replacement text: ${text.message}`);
        this.stats.beforePublish('replace');
        return { action: 'replace', text: text.value };
      }
    }
  }

  /** A call that brought no verdict: counted, logged, and turned into the operator's failure policy. */
  private failed(outcome: BeforePublishOutcome, request: BeforePublishRequest, detail?: string): PublishVerdict {
    this.stats.beforePublish(outcome);
    const open = this.options.failure === 'open';
    if (open) this.stats.beforePublishFailedOpen += 1;
    else this.stats.beforePublishFailedClosed += 1;
    // One line per LOG_EVERY_MS at most (a hook that is down fails every message), saying how
    // many failed since the last one; never the text (the log is no place for people's messages).
    this.failuresUnlogged += 1;
    const now = Date.now();
    if (now - this.loggedAt >= LOG_EVERY_MS) {
      this.log.warn(
        {
          outcome,
          detail,
          room: request.room,
          event: request.event,
          policy: this.options.failure,
          failures: this.failuresUnlogged,
        },
        open ? 'before-publish hook failed: posted unchecked' : 'before-publish hook failed: refused',
      );
      this.loggedAt = now;
      this.failuresUnlogged = 0;
    }
    return open ? { action: 'accept' } : { action: 'unavailable', reason: FAILED_CLOSED_REASON };
  }
}

/**
 * The hook's reason as the sender sees it: one line of at most MAX_REJECT_REASON_CHARS, without
 * control or bidirectional-override characters (it is shown as the hook wrote it).
 */
function reasonOf(reason: string | undefined): string {
  const clean = (reason ?? '')
    .replace(/[\p{Cc}\u202A-\u202E\u2066-\u2069]+/gu, ' ')
    .replace(/\s+/g, ' ')
    .trim();
  if (clean === '') return DEFAULT_REASON;
  const chars = [...clean];
  return chars.length <= MAX_REJECT_REASON_CHARS ? clean : `${chars.slice(0, MAX_REJECT_REASON_CHARS - 1).join('')}…`;
}

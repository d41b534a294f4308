import type { ErrorCode } from '@parley/protocol';

/**
 * Counters updated on hot paths as plain numbers (no map lookups or labels per frame); the
 * metrics endpoint reads them when it is scraped.
 */
export class Stats {
  /** Open sockets by protocol. */
  readonly open = { reference: 0, 'parley.v1': 0 };
  /** Chat messages accepted from clients and stored. */
  messagesIn = 0;
  /** Edits, deletions and reactions accepted from clients. */
  changesIn = 0;
  /** Moderation actions accepted from clients. */
  moderationIn = 0;
  /** Chat message frames written to sockets. */
  messagesOut = 0;
  /** Frames and bytes written to sockets (all kinds). */
  framesOut = 0;
  bytesOut = 0;
  /** Socket writes: frames going to one socket together (a batch, an ack with its echo) share one. */
  socketWrites = 0;
  /** Frames and bytes read from sockets. */
  framesIn = 0;
  bytesIn = 0;
  /** Sockets closed because their send buffer was full. */
  slowConsumerCloses = 0;
  /** Frames dropped because their connection or address was over its frame rate. */
  framesDropped = 0;
  /** Sockets closed for breaking the protocol's rules (1008). */
  policyCloses = 0;
  /** Upgrades and API requests refused by a per-address or total limit (HTTP 429/503). */
  refusedRequests = 0;
  /** Of those, TCP connections answered 429 as soon as accepted (a flooding address: see shed-at-accept.ts). */
  shedConnections = 0;
  /** History reads asked of the engine, and reads that shared an identical one already in flight. */
  historyReads = 0;
  historyReadsMerged = 0;
  /** Gaps in pub/sub found and read back from the log, and the messages recovered. */
  backfills = 0;
  backfilledMessages = 0;
  /** `error` frames sent, by code. */
  readonly errors = new Map<ErrorCode, number>();

  error(code: ErrorCode): void {
    this.errors.set(code, (this.errors.get(code) ?? 0) + 1);
  }
}

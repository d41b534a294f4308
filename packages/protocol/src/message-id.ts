/** Client message ids: what a client picks to recognise the ack of its message and retry safely. */
export const CLIENT_MSG_ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

/**
 * Message ids are `<milliseconds>-<sequence>`, both decimal without leading zeros (the shape of
 * Redis stream ids; ids are compared by length first, so `007-0` would compare wrongly).
 */
export const MESSAGE_ID_PATTERN = /^(?:0|[1-9]\d{0,19})-(?:0|[1-9]\d{0,19})$/;

/** The largest value either part of a message id may have (Redis stream ids are two 64-bit numbers). */
const MAX_ID_PART = 18_446_744_073_709_551_615n;

/**
 * True when `id` is a message id the servers can store and compare: the `<ms>-<seq>` shape with
 * each part at most 2^64 − 1. (`0-0`, the id before every message, is one.)
 *
 * @param id A candidate from a URL or a frame.
 */
export function isMessageId(id: string): boolean {
  if (!MESSAGE_ID_PATTERN.test(id)) return false;
  const dash = id.indexOf('-');
  return BigInt(id.slice(0, dash)) <= MAX_ID_PART && BigInt(id.slice(dash + 1)) <= MAX_ID_PART;
}

/**
 * Compares two message ids (`<ms>-<seq>`, as Redis stream ids), numerically.
 *
 * @returns A negative number, zero or a positive number, as a is before, equal to or after b.
 */
export function compareMessageIds(a: string, b: string): number {
  const [aMs = '0', aSeq = '0'] = a.split('-');
  const [bMs = '0', bSeq = '0'] = b.split('-');
  // Lengths first: ids are decimal strings beyond Number's safe range (leading zeros aside).
  return (
    aMs.length - bMs.length ||
    (aMs < bMs ? -1 : aMs > bMs ? 1 : 0) ||
    aSeq.length - bSeq.length ||
    (aSeq < bSeq ? -1 : aSeq > bSeq ? 1 : 0)
  );
}

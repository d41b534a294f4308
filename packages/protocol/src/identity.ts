/** Longest display name, in Unicode code points, after trimming. */
export const DISPLAY_NAME_MAX_LENGTH = 32;

/** The outcome of {@link parseDisplayName}. */
export type DisplayNameResult = { ok: true; value: string } | { ok: false; reason: string };

/**
 * Validates a display name: trimmed and NFC-normalized, 1–32 characters, no control or
 * invisible formatting characters (they would let one person pass for another).
 *
 * @param raw The name as typed.
 * @returns The cleaned name, or why it is refused.
 */
export function parseDisplayName(raw: string): DisplayNameResult {
  const value = raw.normalize('NFC').trim().replace(/\s+/gu, ' ');
  const length = [...value].length;
  if (length === 0) return { ok: false, reason: 'Display name is empty.' };
  if (length > DISPLAY_NAME_MAX_LENGTH) {
    return { ok: false, reason: `Display name is ${length} characters long; the limit is ${DISPLAY_NAME_MAX_LENGTH}.` };
  }
  if (/[\p{Cc}\p{Cf}\p{Co}\p{Cn}\p{Zl}\p{Zp}]/u.test(value)) {
    return { ok: false, reason: 'Display name contains control or invisible characters.' };
  }
  return { ok: true, value };
}

/** Client message ids: what a client picks to recognise the ack of its message and retry safely. */
export const CLIENT_MSG_ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

/**
 * Compares two message ids (`<ms>-<seq>`, as Redis stream ids), numerically.
 *
 * @returns A negative number, zero or a positive number, as a is before, equal to or after b.
 */
export function compareMessageIds(a: string, b: string): number {
  const [aMs = '0', aSeq = '0'] = a.split('-');
  const [bMs = '0', bSeq = '0'] = b.split('-');
  // Lengths first: ids are unbounded decimal strings, beyond Number's safe range in theory.
  return aMs.length - bMs.length || (aMs < bMs ? -1 : aMs > bMs ? 1 : 0) || aSeq.length - bSeq.length || (aSeq < bSeq ? -1 : aSeq > bSeq ? 1 : 0);
}

/** Message ids are `<milliseconds>-<sequence>`, both decimal. */
export const MESSAGE_ID_PATTERN = /^\d{1,20}-\d{1,20}$/;

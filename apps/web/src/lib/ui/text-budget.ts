/**
 * How much of the message limit a draft uses, for the counter beside the message box. The limit
 * is in UTF-8 bytes (the server's, see `checkMessageText`): a Korean syllable takes three.
 */
import { LIMITS, utf8ByteLength } from '@parley/protocol';

export interface TextBudget {
  /** Bytes left before the limit; negative when over it. */
  left: number;
  /** Whether to show the counter: only near the limit, where it helps. */
  show: boolean;
  over: boolean;
}

/** The counter appears once a draft uses this share of the limit. */
export const SHOW_FROM = 0.8;

/**
 * @param draft The text in the message box.
 * @param maxBytes The limit; the protocol's by default.
 */
export function textBudget(draft: string, maxBytes: number = LIMITS.maxTextBytes): TextBudget {
  const used = utf8ByteLength(draft);
  return { left: maxBytes - used, show: used >= maxBytes * SHOW_FROM, over: used > maxBytes };
}

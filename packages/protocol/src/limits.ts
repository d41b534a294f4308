/** Limits shared by client and server, so the web app can warn before the server refuses. */
export const LIMITS = {
  /** Longest message text, in UTF-8 bytes. */
  maxTextBytes: 4096,
  /** Distinct emoji one message may carry as reactions. */
  maxReactionEmoji: 20,
  /** Characters of the original a reply quotes. */
  replyExcerptLength: 100,
} as const;

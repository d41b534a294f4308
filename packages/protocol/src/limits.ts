/** Limits shared by client and server, so the web app can warn before the server refuses. */
export const LIMITS = {
  /** Longest message text, in UTF-8 bytes. */
  maxTextBytes: 4096,
} as const;

/**
 * Invite links, as the owner and moderators make them: how long one may last (the choices of the
 * invite view), the link an `invite` frame gives, and what the view says about its expiry. Pure:
 * apply-frame.ts takes the server's answer, the views show it.
 */
import { DEFAULT_INVITE_SECONDS, MAX_INVITE_SECONDS, roomPagePath, type InviteFrame } from '@parley/protocol';

/** The choices of how long an invite link works; the server takes 60 s to 30 days. */
export const INVITE_DURATIONS: readonly { label: string; seconds: number }[] = [
  { label: '1 hour', seconds: 3600 },
  { label: '1 day', seconds: DEFAULT_INVITE_SECONDS },
  { label: '7 days', seconds: 7 * 24 * 3600 },
  { label: '30 days', seconds: MAX_INVITE_SECONDS },
];

/** The choice the view starts with: a day, as the server does when asked for none. */
export const DEFAULT_INVITE_DURATION = DEFAULT_INVITE_SECONDS;

/** What an `invite` frame gave the reader, as the view keeps it. */
export type InviteAnswer = Pick<InviteFrame, 'invite' | 'url' | 'expiresTs'>;

/** An invite link to share, and when it stops working (ms since the epoch). */
export interface InviteLink {
  url: string;
  expiresTs: number;
}

/**
 * The link to share: the server's (it knows the page that asked), or, from a server that sent
 * none, the room's page on this app's origin with the invite in its query.
 *
 * @param origin The web app's origin, e.g. `https://chat.example.com`.
 */
export function inviteLink(answer: InviteAnswer, room: string, origin: string): InviteLink {
  const url = answer.url ?? `${origin}${roomPagePath(room)}?invite=${encodeURIComponent(answer.invite)}`;
  return { url, expiresTs: answer.expiresTs };
}

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/**
 * How long is left, in words: "in 7 days", "in 23 hours", "in 5 minutes", "in less than a
 * minute"; rounded to the nearest unit, so a link made for a day says "in 1 day" rather than
 * "in 23 hours" a moment later.
 */
export function timeLeft(ms: number): string {
  const count = (n: number, unit: string) => `in ${n} ${unit}${n === 1 ? '' : 's'}`;
  if (ms < MINUTE) return 'in less than a minute';
  if (ms < HOUR - MINUTE / 2) return count(Math.round(ms / MINUTE), 'minute');
  if (ms < DAY - HOUR / 2) return count(Math.round(ms / HOUR), 'hour');
  return count(Math.round(ms / DAY), 'day');
}

/**
 * What the view says under a link: "Expires in 7 days (10 Dec, 14:20)." or "This link has
 * expired."
 *
 * @param formatTime How the end reads as a date and time ("10 Dec, 14:20").
 */
export function expiryText(expiresTs: number, now: number, formatTime: (ts: number) => string): string {
  if (expiresTs <= now) return 'This link has expired.';
  return `Expires ${timeLeft(expiresTs - now)} (${formatTime(expiresTs)}).`;
}

import { createHash } from 'node:crypto';

/** A path segment this long with a digit in it is taken for a token (Slack's and Discord's hook URLs carry theirs there). */
const TOKEN_SEGMENT = /^(?=.*\d)[A-Za-z0-9_\-.~%]{16,}$/;

/**
 * A webhook URL as the operator's page shows it: the receiver's own secrets left out. The user
 * name and password go, the query keeps its names but not their values, the fragment goes, and
 * a path segment that looks like a token (16+ characters with a digit) keeps its first four
 * characters only: `https://hooks.example.com/services/T0AB…/…?token=…`.
 */
export function redactUrl(url: URL): string {
  const path = url.pathname
    .split('/')
    .map((segment) => (TOKEN_SEGMENT.test(segment) ? `${segment.slice(0, 4)}…` : segment))
    .join('/');
  const names = [...new Set(url.searchParams.keys())];
  const query = names.length === 0 ? '' : `?${names.map((name) => `${encodeURIComponent(name)}=…`).join('&')}`;
  return `${url.protocol}//${url.host}${path}${query}`;
}

/**
 * A target's id for the operator's list: the same on every instance for the same URL, and
 * telling nothing of the URL's secrets (a hash, not the URL).
 */
export function urlId(url: URL): string {
  return `w_${createHash('sha256').update(url.href).digest('base64url').slice(0, 12)}`;
}

import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { BOT_ID_PREFIX, type Bot } from '@parley/protocol';
import type { OperatorStore, StoredBot } from './operator-store.ts';

// A bot's key is `<bot id>.<secret>`: the id finds the bot, the secret proves it. The store keeps
// only the secret's SHA-256 (a random 192-bit secret needs no slow hash), so a copy of Redis
// gives nobody a key.

/** A new bot and its key (shown to the operator once). */
export function newBot(name: string, now: number = Date.now()): { bot: StoredBot; key: string } {
  const id = `${BOT_ID_PREFIX}${randomBytes(9).toString('base64url')}`;
  const secret = randomBytes(24).toString('base64url');
  return { bot: { id, name, createdAt: now, keyHash: hashOf(secret) }, key: `${id}.${secret}` };
}

/**
 * A new secret for a bot's webhook: it signs the deliveries to the bot's URL (shown to the
 * operator once; the server keeps it to sign with).
 */
export function newWebhookSecret(): string {
  return `whsec_${randomBytes(24).toString('base64url')}`;
}

/** The bot a key belongs to, or undefined for a key that is malformed, unknown or deleted. */
export async function botOfKey(store: OperatorStore, key: string): Promise<Bot | undefined> {
  const dot = key.indexOf('.');
  if (dot <= 0 || !key.startsWith(BOT_ID_PREFIX) || key.length > 200) return undefined;
  const stored = await store.bot(key.slice(0, dot));
  if (stored === undefined) return undefined;
  const given = Buffer.from(hashOf(key.slice(dot + 1)), 'hex');
  const expected = Buffer.from(stored.keyHash, 'hex');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined;
  return { id: stored.id, name: stored.name, createdAt: stored.createdAt };
}

function hashOf(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

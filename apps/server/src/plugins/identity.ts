import { randomBytes } from 'node:crypto';
import fp from 'fastify-plugin';
import type { Config } from '../config.ts';
import { IdentityTokens } from '../identity/identity-tokens.ts';

declare module 'fastify' {
  interface FastifyInstance {
    /** Issues and checks the tokens that keep a browser the same person. */
    identity: IdentityTokens;
  }
}

/**
 * Identity tokens. Every instance must sign with the same secret: the configured one (and the
 * one it replaced, during a rotation), or one shared through the engine (Redis).
 */
export default fp<{ config: Config }>(
  async (fastify, { config }) => {
    const { identitySecret, identitySecretPrevious } = config;
    const secrets = async () =>
      identitySecret !== undefined
        ? { current: identitySecret, previous: identitySecretPrevious }
        : { current: await fastify.engine.sharedSecret(randomBytes(32).toString('base64url')) };
    fastify.decorate('identity', new IdentityTokens(secrets, config.identityTokenTtlSeconds * 1000));
  },
  { name: 'parley-identity', dependencies: ['parley-engine'] },
);

import fp from 'fastify-plugin';
import cors from '@fastify/cors';
import type { Config } from '../config.ts';
import { isOriginAllowed } from '../http/origin-policy.ts';

/** Lets a web app served from an allowed origin call the HTTP API. */
export default fp<{ config: Config }>(
  async (fastify, { config }) => {
    await fastify.register(cors, {
      delegator: (req, callback) => {
        callback(null, {
          origin: isOriginAllowed(req.headers.origin, req.headers.host, config.allowedOrigins, config.publicOrigins),
        });
      },
    });
  },
  { name: 'parley-cors' },
);

import fp from 'fastify-plugin';
import helmet from '@fastify/helmet';
import type { Config } from '../config.ts';

/**
 * Security headers on every HTTP response (helmet), with a Content Security Policy the web app
 * passes: its scripts and styles come from this origin only, no inline scripts, no plugins, no
 * framing by other sites. Pages may connect (fetch, WebSocket) to this origin and to the
 * sources in CSP_CONNECT_SRC, for a web app served here but pointed at another chat server.
 */
export default fp<{ config: Config }>(
  async (fastify, { config }) => {
    await fastify.register(helmet, {
      contentSecurityPolicy: {
        useDefaults: true,
        directives: {
          'connect-src': ["'self'", ...config.cspConnectSrc],
          'frame-ancestors': ["'none'"],
          // Left to the TLS-terminating proxy: on plain-HTTP deployments (and localhost) it
          // would send the app's own requests to an https:// that does not exist.
          'upgrade-insecure-requests': null,
        },
      },
    });
  },
  { name: 'parley-security-headers' },
);

import closeWithGrace from 'close-with-grace';
import { buildApp } from './app.ts';
import { ConfigError, loadConfig } from './config.ts';

// The process shell: configuration, logger, signals, listen. Everything else is in app.ts.
let config;
try {
  config = loadConfig(process.env);
} catch (err) {
  if (!(err instanceof ConfigError)) throw err;
  console.error(err.message);
  process.exit(1);
}

const app = await buildApp(config);

closeWithGrace({ delay: config.shutdownTimeoutMs }, async ({ signal, err }) => {
  if (err) app.log.error({ err }, 'closing after an uncaught error');
  else app.log.info({ signal }, 'shutting down');
  await app.close();
});

try {
  await app.listen({ port: config.port, host: config.host });
  app.log.info(
    { engine: app.engine.kind, web: config.webDistDir ?? 'not served' },
    `Parley is listening on http://localhost:${config.port}`,
  );
} catch (err) {
  app.log.error({ err }, 'could not start');
  process.exit(1);
}

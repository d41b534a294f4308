/**
 * @parley/client for browsers (the `browser` export condition, which Vite, webpack and esbuild
 * use for browser builds): the same exports as the Node entry, without the path to `ws`, so a
 * bundle neither includes nor tries to resolve it. The platform's `WebSocket` is used, or the
 * `WebSocket` option's.
 */
export * from './api.ts';

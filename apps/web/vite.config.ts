import { svelte } from '@sveltejs/vite-plugin-svelte';
import { defineConfig } from 'vite';

// In development the SPA is served by Vite and the chat server runs separately (`pnpm --filter
// @parley/server dev`); proxying keeps the browser on one origin, exactly as in production where
// the server serves the built SPA itself.
const target = process.env.PARLEY_DEV_SERVER ?? 'http://localhost:3000';

export default defineConfig({
  plugins: [svelte()],
  server: {
    proxy: {
      '/ws': { target, ws: true },
      '/api': { target },
      '/healthz': { target },
      '/readyz': { target },
    },
  },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
  },
});

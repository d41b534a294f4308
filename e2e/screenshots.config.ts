import { defineConfig } from '@playwright/test';
import type { ParleyOptions } from './fixtures.ts';
import base from '../playwright.config.ts';

// `pnpm screenshots`: the README's pictures, taken by e2e/screenshots.spec.ts against a freshly
// started in-memory server (built beforehand, like the e2e suite), so that the lobby lists only
// the rooms the spec makes. It refuses to start when that port is taken (e.g. by servers an
// e2e run left for reuse) rather than photograph someone else's rooms.
const memory = base.projects?.find((p) => p.name === 'memory');
const server = (Array.isArray(base.webServer) ? base.webServer : []).find((s) => s.name === 'memory');
if (memory === undefined || server === undefined)
  throw new Error('playwright.config.ts has no memory project or server');

export default defineConfig<ParleyOptions>({
  ...base,
  // Paths here are relative to this file, in e2e/.
  testDir: '.',
  testMatch: /screenshots\.spec\.ts/,
  testIgnore: [],
  outputDir: '../.test-output/screenshots-artifacts',
  reporter: 'list',
  retries: 0,
  timeout: 120_000,
  webServer: [{ ...server, reuseExistingServer: false }],
  projects: [{ ...memory, name: 'screenshots' }],
});

import { defineConfig } from '@playwright/test';
import { CHROMIUM_ARGS, CHROMIUM_PATH } from './support/chromium.ts';

/**
 * End-to-end tests in Debian's headless Chromium (never `playwright install`) against the real server
 * serving the production build, started by global-setup.ts on a free port with a fresh data directory.
 */
export default defineConfig({
  testDir: './tests',
  outputDir: '../.test-results/e2e-artifacts',
  workers: 1,
  retries: 0,
  timeout: 90_000,
  expect: { timeout: 15_000 },
  reporter: [['list'], ['json']],
  globalSetup: './support/global-setup.ts',
  use: {
    browserName: 'chromium',
    launchOptions: { executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS },
    trace: 'retain-on-failure',
  },
});

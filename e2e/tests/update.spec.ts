/**
 * The update prompt: a new deploy (a changed service worker) is offered as "A new version of Parley is
 * available", nothing reloads by itself, "Later" hides the offer, and "Reload" activates the new worker.
 *
 * Runs its own server (`npm start`'s entry point) on a copy of app/dist (`APP_DIR`), so the test can "deploy"
 * a new build by changing the copy while the page is open, without touching the suite's shared server.
 * One deploy: a second deploy while the first waits made Chromium's replacement waiting worker ignore
 * SKIP_WAITING in about one run in four (it stayed waiting with no client left to release it).
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test, type Page } from '@playwright/test';
import { watchPage } from '../support/app.ts';
import { repoRoot, startServerProcess, type ServerProcess } from '../support/server.ts';

let server: ServerProcess;
let appDir: string;

test.beforeAll(async () => {
  appDir = mkdtempSync(join(tmpdir(), 'parley-app-'));
  cpSync(join(repoRoot, 'app/dist'), appDir, { recursive: true });
  server = await startServerProcess({ APP_DIR: appDir });
});

test.afterAll(async () => {
  await server?.stop();
  rmSync(appDir, { recursive: true, force: true });
});

/** "Deploys" a new version: a changed service worker (the precompressed copies go, so the new one is served). */
function deployNewVersion(marker: string): void {
  const sw = join(appDir, 'sw.js');
  writeFileSync(sw, `${readFileSync(sw, 'utf8')}\n// deploy ${marker}\n`);
  rmSync(`${sw}.br`, { force: true });
  rmSync(`${sw}.gz`, { force: true });
}

/**
 * Whether the page reloaded (a new document since `before`) under the deployed worker: nothing waits or
 * installs any more, and the active worker controls the page. False while the page is reloading.
 */
const reloadedOnNewWorker = (page: Page, before: number) =>
  page
    .evaluate(async (t0) => {
      const reg = await navigator.serviceWorker.getRegistration();
      const active = reg?.active;
      return performance.timeOrigin !== t0 && reg?.waiting == null && reg?.installing == null && active != null && navigator.serviceWorker.controller?.scriptURL === active.scriptURL;
    }, before)
    .catch(() => false); // "Execution context was destroyed": the Reload navigation is under way; poll again

/** Whether the deployed worker finished installing and waits (nothing installing any more). */
const newWorkerWaiting = (page: Page) =>
  page.evaluate(async () => {
    const reg = await navigator.serviceWorker.getRegistration();
    return reg?.waiting != null && reg.installing == null;
  });

test('a new deploy is offered with a prompt; Later keeps the page, Reload switches to the new version', async ({ page }) => {
  const watch = watchPage(page);
  const url = (path: string) => new URL(path, server.url).href;
  await page.goto(url('/signin'));
  await expect(page.getByRole('heading', { name: 'Sign in' })).toBeVisible();
  await page.evaluate(async () => {
    await navigator.serviceWorker.ready;
  });
  await page.reload(); // now controlled by the first worker
  await expect.poll(() => page.evaluate(() => navigator.serviceWorker.controller !== null)).toBe(true);
  const banner = page.getByRole('alert').filter({ hasText: 'A new version of Parley is available.' });
  await expect(banner).toHaveCount(0);

  // Something typed before the update is not lost to a surprise reload.
  await page.getByLabel('Username', { exact: true }).fill('typed-before-update');
  deployNewVersion('v2');
  await page.evaluate(async () => {
    await (await navigator.serviceWorker.getRegistration())?.update();
  });
  await expect.poll(() => newWorkerWaiting(page), { timeout: 20_000 }).toBe(true);
  await expect(banner).toBeVisible({ timeout: 20_000 });
  await expect(page.getByLabel('Username', { exact: true })).toHaveValue('typed-before-update');

  await banner.getByRole('button', { name: 'Later' }).click();
  await expect(banner).toHaveCount(0);
  await expect(page.getByLabel('Username', { exact: true })).toHaveValue('typed-before-update');

  // The next visit offers it again (the worker is still waiting); Reload activates it and reloads once.
  await page.reload();
  await expect(banner).toBeVisible({ timeout: 20_000 });
  const before = await page.evaluate(() => performance.timeOrigin);
  await banner.getByRole('button', { name: 'Reload' }).click();
  await expect.poll(() => reloadedOnNewWorker(page, before), { timeout: 20_000 }).toBe(true);
  await expect(page.getByRole('heading', { name: 'Sign in' })).toBeVisible();
  await expect(banner).toHaveCount(0);
  watch.expectClean();
});

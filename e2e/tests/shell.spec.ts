/**
 * The PWA shell served by the real server: strict CSP honoured (no inline styles/scripts, no violations),
 * installable manifest and icons, service worker precache with offline reloads (signed out and signed in),
 * the offline banner, the theme toggle, and responsive layouts at 360×740 and 1280×800.
 */
import { expect, test, type Page } from '@playwright/test';
import { appUrl, registerAndEnter, uniqueUsername, watchPage } from '../support/app.ts';

/** Records CSP violations from the start of every document. */
async function watchCsp(page: Page): Promise<() => Promise<string[]>> {
  await page.addInitScript(() => {
    const w = window as unknown as { __csp: string[] };
    w.__csp = [];
    document.addEventListener('securitypolicyviolation', (e) => w.__csp.push(`${e.violatedDirective} ${e.blockedURI}`));
  });
  return () => page.evaluate(() => (window as unknown as { __csp: string[] }).__csp);
}

/** Waits until a service worker controls the page (the first visit installs it; a reload adopts it). */
async function waitForServiceWorker(page: Page): Promise<void> {
  await page.evaluate(async () => {
    await navigator.serviceWorker.ready;
  });
  if (!(await page.evaluate(() => navigator.serviceWorker.controller !== null))) await page.reload();
  await expect.poll(() => page.evaluate(() => navigator.serviceWorker.controller !== null)).toBe(true);
}

test('the server serves the PWA shell with a strict CSP, no inline styles and no console errors', async ({ page }) => {
  const watch = watchPage(page);
  const cspViolations = await watchCsp(page);
  const response = await page.goto(appUrl('/'));
  expect(response?.status()).toBe(200);
  const csp = response?.headers()['content-security-policy'] ?? '';
  expect(csp).toContain("default-src 'self'");
  expect(csp).toContain("style-src 'self'");
  expect(csp).not.toContain('unsafe-inline');
  // Signed out: `/` goes to sign in.
  await expect(page.getByRole('heading', { name: 'Sign in' })).toBeVisible();
  await expect(page).toHaveURL(appUrl('/signin'));
  await page.getByRole('link', { name: 'Create an account' }).click();
  await page.getByLabel('Password', { exact: true }).fill('a fairly long passphrase here');
  await expect(page.getByText(/^(Fair|Strong|Very strong|Weak|Too weak)\./)).toBeVisible();
  expect(await page.locator('[style]').count()).toBe(0);
  expect(await cspViolations()).toEqual([]);
  watch.expectClean();
});

test('installable: manifest with name, colours, standalone display and icons that load', async ({ page, request }) => {
  await page.goto(appUrl('/signin'));
  const href = await page.locator('link[rel="manifest"]').getAttribute('href');
  expect(href).toBeTruthy();
  const manifest = (await (await request.get(appUrl(href ?? ''))).json()) as {
    name: string;
    short_name: string;
    display: string;
    theme_color: string;
    background_color: string;
    start_url: string;
    icons: Array<{ src: string; sizes: string; type: string; purpose?: string }>;
  };
  expect(manifest).toMatchObject({ name: 'Parley', short_name: 'Parley', display: 'standalone', start_url: '/' });
  expect(manifest.theme_color).toMatch(/^#[0-9a-f]{6}$/i);
  expect(manifest.background_color).toMatch(/^#[0-9a-f]{6}$/i);
  const sizes = manifest.icons.map((i) => i.sizes);
  expect(sizes).toEqual(expect.arrayContaining(['192x192', '512x512']));
  expect(manifest.icons.some((i) => i.purpose === 'maskable')).toBe(true);
  for (const icon of manifest.icons) {
    const r = await request.get(appUrl(`/${icon.src}`));
    expect(r.ok(), icon.src).toBe(true);
    expect(r.headers()['content-type']).toContain(icon.type.split('+')[0] ?? icon.type);
  }
  for (const asset of ['/apple-touch-icon.png', '/favicon.svg']) expect((await request.get(appUrl(asset))).ok(), asset).toBe(true);
  await expect(page.locator('link[rel="apple-touch-icon"]')).toHaveAttribute('href', '/apple-touch-icon.png');
});

test('offline: a signed-out reload shows the sign-in screen and the offline banner', async ({ page, context }) => {
  await page.goto(appUrl('/signin'));
  await waitForServiceWorker(page);
  await context.setOffline(true);
  await page.reload();
  await expect(page.getByRole('heading', { name: 'Sign in' })).toBeVisible();
  await expect(page.getByText('You are offline.')).toBeVisible();
  await context.setOffline(false);
  await expect(page.getByText('You are offline.')).toBeHidden();
});

test('offline: a signed-in reload keeps the session and the shell; back online the banner goes', async ({ page, context }) => {
  const watch = watchPage(page, ['ERR_INTERNET_DISCONNECTED', 'Failed to load resource']);
  await registerAndEnter(page, uniqueUsername('off'));
  await waitForServiceWorker(page);
  await context.setOffline(true);
  await page.reload();
  await expect(page.getByText('Your conversations will appear here')).toBeVisible();
  await expect(page.getByText('You are offline.')).toBeVisible();
  await page.getByRole('link', { name: 'Settings' }).click();
  await expect(page.getByRole('heading', { name: 'Settings', level: 1 })).toBeVisible();
  await context.setOffline(false);
  await expect(page.getByText('You are offline.')).toBeHidden();
  // Back online the resumed session still works against the server.
  await expect(page.getByRole('list', { name: 'Signed-in devices' }).getByRole('listitem')).toHaveCount(1);
  watch.expectClean();
});

test('theme: the toggle switches light/dark, persists only the choice, and follows the system by default', async ({ page }) => {
  await page.emulateMedia({ colorScheme: 'dark' });
  await page.goto(appUrl('/signin'));
  const bg = () => page.evaluate(() => getComputedStyle(document.body).backgroundColor);
  const darkBg = await bg();
  await page.getByRole('button', { name: /^Theme: system/ }).click();
  await expect(page.locator('html')).toHaveAttribute('data-theme', 'light');
  expect(await bg()).not.toBe(darkBg);
  await page.reload();
  await expect(page.locator('html')).toHaveAttribute('data-theme', 'light');
  expect(await page.evaluate(() => ({ ...localStorage }))).toEqual({ 'parley.theme': 'light' });
  await page.getByRole('button', { name: /^Theme: light/ }).click();
  await expect(page.locator('html')).toHaveAttribute('data-theme', 'dark');
  await page.getByRole('button', { name: /^Theme: dark/ }).click();
  await expect(page.locator('html')).not.toHaveAttribute('data-theme', /.+/);
  expect(await bg()).toBe(darkBg);
});

/** No horizontal scrolling, and every visible control is at least 44×44 px (WCAG 2.5.5 target size). */
async function expectFitsAndTappable(page: Page): Promise<void> {
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  expect(overflow).toBeLessThanOrEqual(0);
  const small = await page.evaluate(() =>
    Array.from(document.querySelectorAll<HTMLElement>('button, a[href], input:not([type="hidden"]), [role="button"]'))
      .filter((el) => el.offsetParent !== null && !el.classList.contains('skip-link'))
      .map((el) => {
        const target = el instanceof HTMLInputElement && (el.type === 'checkbox' || el.type === 'radio') ? (el.closest('.check, .segment') ?? el) : el;
        const r = target.getBoundingClientRect();
        return { what: `${el.tagName} ${el.getAttribute('aria-label') ?? el.textContent?.trim() ?? ''}`, w: r.width, h: r.height };
      })
      .filter((t) => t.w < 44 || t.h < 44),
  );
  expect(small).toEqual([]);
}

test('responsive: 360×740 phone and 1280×800 desktop layouts fit, with 44 px touch targets', async ({ page }) => {
  for (const viewport of [
    { width: 360, height: 740 },
    { width: 1280, height: 800 },
  ]) {
    await page.setViewportSize(viewport);
    for (const path of ['/signin', '/register', '/recover']) {
      await page.goto(appUrl(path));
      await expect(page.locator('h1')).toBeVisible();
      await expectFitsAndTappable(page);
      const card = await page.locator('.auth-card').boundingBox();
      expect(card).not.toBeNull();
      if (viewport.width === 360) expect(card?.width ?? 0).toBeGreaterThan(300);
      else expect(card?.width ?? 0).toBeLessThanOrEqual(27 * 16 + 1);
    }
  }
  await registerAndEnter(page, uniqueUsername('vp'));
  for (const viewport of [
    { width: 360, height: 740 },
    { width: 1280, height: 800 },
  ]) {
    await page.setViewportSize(viewport);
    await page.goto(appUrl('/settings'));
    await expect(page.getByRole('list', { name: 'Signed-in devices' }).getByRole('listitem')).toHaveCount(1);
    await expectFitsAndTappable(page);
  }
});

test('performance: the JS loaded before the chat opens is under 150 kB gzip', async ({ page }) => {
  const scripts = new Set<string>();
  page.on('request', (r) => {
    if (r.resourceType() === 'script' || r.url().endsWith('.js')) scripts.add(new URL(r.url()).pathname);
  });
  await page.goto(appUrl('/signin'));
  await expect(page.getByRole('heading', { name: 'Sign in' })).toBeVisible();
  await page.waitForLoadState('networkidle');
  const { initialJsGzipBytes } = await import('../support/bundle.ts');
  const { total, files } = initialJsGzipBytes([...scripts].filter((p) => p !== '/sw.js' && !p.startsWith('/workbox-')));
  test.info().annotations.push({ type: 'initial-js-gzip', description: `${(total / 1024).toFixed(1)} KiB: ${files.join(', ')}` });
  expect(files.some((f) => f.includes('ChatApp'))).toBe(false);
  expect(files.some((f) => f.includes('zxcvbn'))).toBe(false);
  expect(total).toBeLessThan(150 * 1024);
});

/**
 * axe-core (injected from the npm package, no CDN) on every signed-out screen and on settings, in light
 * and dark themes, at phone and desktop widths: no serious or critical violations. Also a keyboard-only
 * pass through sign-in.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { expect, test, type Page } from '@playwright/test';
import { appUrl, uniqueUsername } from '../support/app.ts';

// axe is injected as an inline <script>, which the app's CSP rightly blocks: bypass CSP for the audit only
// (shell.spec.ts checks the CSP itself and that the app causes no violations).
test.use({ bypassCSP: true });

const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: Array<{ target: unknown[] }>;
}

async function seriousViolations(page: Page): Promise<string[]> {
  await page.addScriptTag({ content: axeSource });
  const violations = await page.evaluate(async () => {
    const axe = (window as unknown as { axe: { run: (ctx: Document, opts: object) => Promise<{ violations: unknown[] }> } }).axe;
    const result = await axe.run(document, { resultTypes: ['violations'] });
    return result.violations;
  });
  return (violations as AxeViolation[])
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id} (${v.impact}): ${v.help} at ${JSON.stringify(v.nodes.map((n) => n.target))}`);
}

const viewports = [
  { name: 'phone', width: 360, height: 740 },
  { name: 'desktop', width: 1280, height: 800 },
] as const;

for (const scheme of ['light', 'dark'] as const) {
  for (const vp of viewports) {
    test(`axe: sign-in, register and recover have no serious/critical violations (${scheme}, ${vp.name})`, async ({ page }) => {
      await page.emulateMedia({ colorScheme: scheme });
      await page.setViewportSize({ width: vp.width, height: vp.height });
      await page.goto(appUrl('/signin'));
      await expect(page.getByRole('heading', { name: 'Sign in' })).toBeVisible();
      expect(await seriousViolations(page)).toEqual([]);

      await page.goto(appUrl('/register'));
      await page.getByLabel('Username', { exact: true }).fill('a!');
      await page.getByLabel('Username', { exact: true }).blur();
      await page.getByLabel('Password', { exact: true }).fill('password1');
      await page.getByLabel('Confirm password', { exact: true }).fill('password2');
      await expect(page.getByText('The passwords do not match.')).toBeVisible();
      await expect(page.getByText(/^(Too weak|Weak)\./)).toBeVisible();
      expect(await seriousViolations(page)).toEqual([]);

      await page.goto(appUrl('/recover'));
      await expect(page.getByRole('heading', { name: 'Recover your account' })).toBeVisible();
      expect(await seriousViolations(page)).toEqual([]);
    });
  }
}

test('axe: the recovery-key screen and settings have no serious/critical violations (light and dark)', async ({ page }) => {
  const username = uniqueUsername('axe');
  await page.goto(appUrl('/register'));
  await page.getByLabel('Username', { exact: true }).fill(username);
  await page.getByLabel('Password', { exact: true }).fill('correct horse battery staple glacier');
  await page.getByLabel('Confirm password', { exact: true }).fill('correct horse battery staple glacier');
  await page.getByRole('button', { name: 'Create account' }).click();
  await expect(page.getByRole('heading', { name: 'Save your recovery key' })).toBeVisible({ timeout: 30_000 });
  expect(await seriousViolations(page)).toEqual([]);
  await page.getByLabel('I saved my recovery key somewhere safe').check();
  await page.getByRole('button', { name: 'Continue to Parley' }).click();
  await expect(page.getByText('Your conversations will appear here')).toBeVisible();
  for (const scheme of ['light', 'dark'] as const) {
    await page.emulateMedia({ colorScheme: scheme });
    await page.goto(appUrl('/settings'));
    await expect(page.getByRole('list', { name: 'Signed-in devices' }).getByRole('listitem')).toHaveCount(1);
    expect(await seriousViolations(page)).toEqual([]);
  }
});

test('keyboard only: skip link, sign-in form, visible focus', async ({ page }) => {
  await page.goto(appUrl('/signin'));
  await expect(page.getByRole('heading', { name: 'Sign in' })).toBeVisible();
  await page.keyboard.press('Tab');
  const skip = page.getByRole('link', { name: 'Skip to content' });
  await expect(skip).toBeFocused();
  await expect(skip).toBeInViewport();
  // Focus rings are drawn (outline) for keyboard focus.
  const outline = await skip.evaluate((el) => getComputedStyle(el).outlineStyle);
  expect(outline).not.toBe('none');
  await page.keyboard.press('Enter');
  await page.keyboard.press('Tab');
  await expect(page.getByLabel('Username', { exact: true })).toBeFocused();
  const ring = await page.getByLabel('Username', { exact: true }).evaluate((el) => getComputedStyle(el).outlineStyle);
  expect(ring).not.toBe('none');
  await page.keyboard.type('nobody');
  await page.keyboard.press('Tab');
  await expect(page.getByLabel('Password', { exact: true })).toBeFocused();
  await page.keyboard.press('Tab');
  await expect(page.getByRole('button', { name: 'Show password' })).toBeFocused();
  await page.keyboard.press('Enter');
  await expect(page.getByLabel('Password', { exact: true })).toHaveAttribute('type', 'text');
});

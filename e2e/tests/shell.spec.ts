import { expect, test } from '@playwright/test';

const url = () => {
  const u = process.env.PARLEY_URL;
  if (!u) throw new Error('PARLEY_URL not set by global setup');
  return u;
};

test('the server serves the PWA shell with a strict CSP and no console errors', async ({ page }) => {
  const errors: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  page.on('pageerror', (e) => errors.push(e.message));
  const response = await page.goto(url());
  expect(response?.status()).toBe(200);
  const csp = response?.headers()['content-security-policy'] ?? '';
  expect(csp).toContain("default-src 'self'");
  expect(csp).toContain("frame-ancestors 'none'");
  expect(csp).not.toContain('unsafe-inline');
  await expect(page.getByRole('heading', { name: 'Parley' })).toBeVisible();
  const manifest = await page.request.get(`${url()}/manifest.webmanifest`);
  expect(manifest.ok()).toBe(true);
  expect(errors).toEqual([]);
});

/**
 * Settings → Recovery key: a signed-in user makes a new recovery key (password asked again; a wrong one
 * is refused and changes nothing), the new key is shown once and must be confirmed, the old key is
 * refused, and the new one recovers the account through the UI.
 */
import { expect, test, type Page } from '@playwright/test';
import {
  appUrl,
  confirmRecoveryKey,
  NEW_PASSWORD,
  PASSWORD,
  registerAndEnter,
  signOutViaUi,
  uniqueUsername,
  watchPage,
} from '../support/app.ts';

async function fillRecovery(page: Page, username: string, key: string): Promise<void> {
  await page.goto(appUrl('/recover'));
  await expect(page.getByRole('heading', { name: 'Recover your account' })).toBeVisible();
  await page.getByLabel('Username', { exact: true }).fill(username);
  await page.getByLabel('Recovery key', { exact: true }).fill(key);
  await page.getByLabel('New password', { exact: true }).fill(NEW_PASSWORD);
  await page.getByLabel('Confirm new password', { exact: true }).fill(NEW_PASSWORD);
  await page.getByRole('button', { name: 'Recover account' }).click();
}

test('make a new recovery key in settings: wrong password refused, new key shown and confirmed, old key dead, new key recovers', async ({
  page,
}) => {
  const watch = watchPage(page, ['401']);
  const username = uniqueUsername('rkey');
  const oldKey = await registerAndEnter(page, username);

  await page.getByRole('link', { name: 'Settings' }).click();
  const section = page.getByRole('region', { name: 'Recovery key' });
  await expect(section).toBeVisible();
  await section.getByRole('button', { name: 'Make a new recovery key' }).click();
  const password = section.getByLabel('Password', { exact: true });
  await expect(password).toBeFocused();

  // Wrong password: a clear error, and nothing changes.
  await password.fill('not my password at all 123');
  await section.getByRole('button', { name: 'Make new key' }).click();
  await expect(section.getByRole('alert')).toHaveText('The password is not right.', { timeout: 30_000 });
  await expect(section.getByTestId('recovery-key')).toHaveCount(0);

  // The right one: the new key is shown once, and must be confirmed.
  await password.fill(PASSWORD);
  await section.getByRole('button', { name: 'Make new key' }).click();
  const shown = section.getByTestId('recovery-key');
  await expect(shown).toHaveText(/^([0-9A-Z]{4}-){13}[0-9A-Z]{4}$/, { timeout: 30_000 });
  const newKey = (await shown.textContent()) ?? '';
  expect(newKey).not.toBe(oldKey);
  await expect(section.getByText('Your old recovery key no longer works.')).toBeVisible();
  const done = section.getByRole('button', { name: 'Done' });
  await expect(done).toBeDisabled();
  // Leaving inside the app before it is saved asks first; staying keeps the key on screen.
  const asked: string[] = [];
  page.once('dialog', (d) => {
    asked.push(d.message());
    void d.dismiss();
  });
  await page.getByRole('link', { name: '← Conversations' }).click();
  await expect.poll(() => asked).toEqual(['Your recovery key is shown only this once. Leave without saving it?']);
  await expect(shown).toHaveText(newKey);
  await expect(page.getByRole('heading', { name: 'Settings', level: 1 })).toBeVisible();
  await section.getByLabel('I saved my recovery key somewhere safe').check();
  await done.click();
  await expect(shown).toHaveCount(0);
  await expect(section.getByRole('button', { name: 'Make a new recovery key' })).toBeVisible();

  await page.goto(appUrl('/'));
  await signOutViaUi(page);

  // The old key is refused by the server; the new one recovers the account.
  await fillRecovery(page, username, oldKey);
  await expect(page.getByRole('alert')).toContainText('does not belong to this account', { timeout: 30_000 });
  await fillRecovery(page, username, newKey);
  await expect(page.getByRole('heading', { name: 'Your new recovery key' })).toBeVisible({ timeout: 30_000 });
  await confirmRecoveryKey(page);
  watch.expectClean();
});

/**
 * Accounts in a real browser against the real server: register (recovery key shown once and confirmed),
 * sign out and in (KDF progress in a worker), wrong password, recovery with the recovery key, password
 * change, the devices list, and resuming the session after a reload.
 *
 * The server allows 10 registrations per IP per hour, so tests register only where they must.
 */
import { expect, test } from '@playwright/test';
import { AccountClient, isClientError } from '@parley/shared/client';
import {
  appUrl,
  confirmRecoveryKey,
  expectSignedIn,
  NEW_PASSWORD,
  PASSWORD,
  registerAndEnter,
  registerHeadless,
  registerViaUi,
  signOutViaUi,
  startDirectChat,
  submitSignIn,
  uniqueUsername,
  watchPage,
} from '../support/app.ts';

test('register: weak passwords are refused, the recovery key is shown once with copy/download and must be confirmed', async ({
  page,
  context,
}) => {
  const watch = watchPage(page);
  await context.grantPermissions(['clipboard-read', 'clipboard-write']);
  const username = uniqueUsername('reg');
  await page.goto(appUrl('/register'));

  // Username rules from the shared schema, shown after leaving the field.
  const user = page.getByLabel('Username', { exact: true });
  await user.fill('a!');
  await user.blur();
  await expect(page.getByText('Username must be at least 3 characters.')).toBeVisible();
  await expect(user).toHaveAttribute('aria-invalid', 'true');
  await user.fill(username);
  await expect(user).not.toHaveAttribute('aria-invalid', 'true');

  // Weak password: meter says so, submit stays disabled.
  const submit = page.getByRole('button', { name: 'Create account' });
  await page.getByLabel('Password', { exact: true }).fill('password123');
  await page.getByLabel('Confirm password', { exact: true }).fill('password123');
  await expect(page.getByText(/^Too weak\.|^Weak\./)).toBeVisible();
  await expect(submit).toBeDisabled();
  // Mismatched confirmation.
  await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
  await expect(page.getByText('The passwords do not match.')).toBeVisible();
  await expect(submit).toBeDisabled();

  const key = await registerViaUi(page, username);
  await page.getByRole('button', { name: 'Copy key' }).click();
  expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(key);
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Download .txt' }).click()]);
  expect(download.suggestedFilename()).toBe(`parley-recovery-key-${username}.txt`);
  const path = await download.path();
  const { readFileSync } = await import('node:fs');
  expect(readFileSync(path, 'utf8')).toContain(key);

  await confirmRecoveryKey(page);
  await expect(page.getByRole('heading', { name: `Welcome, ${username}` })).toBeVisible();
  // The keys are never in localStorage; only the theme may be.
  const stored = await page.evaluate(() => Object.keys(localStorage));
  expect(stored.filter((k) => k !== 'parley.theme')).toEqual([]);
  watch.expectClean();
});

test('sign out, wrong password, sign in with KDF progress, and a reload keeps the session', async ({ page }) => {
  const watch = watchPage(page, ['401']);
  const username = uniqueUsername('sio');
  await registerAndEnter(page, username);

  // A reload resumes from the wrapped keys + refresh cookie, without the password.
  await page.reload();
  await expectSignedIn(page);
  await page.goto(appUrl('/settings'));
  await expect(page.getByText(`Signed in as ${username}.`)).toBeVisible();

  await page.goto(appUrl('/'));
  await signOutViaUi(page);
  // Signed-out: the guarded routes send you to sign in, and nothing resumes after a reload.
  await page.goto(appUrl('/settings'));
  await expect(page.getByRole('heading', { name: 'Sign in' })).toBeVisible();
  const dbs = await page.evaluate(async () => (await indexedDB.databases()).map((d) => d.name));
  expect(dbs.filter((n) => n?.startsWith('parley'))).toEqual([]);

  await submitSignIn(page, username, 'not the right password at all');
  await expect(page.getByRole('status').filter({ hasText: 'Unlocking your keys' })).toBeVisible();
  await expect(page.getByRole('alert')).toHaveText('That username and password do not match. Check both and try again.', {
    timeout: 30_000,
  });

  await submitSignIn(page, username, PASSWORD);
  const progress = page.locator('progress');
  await expect(progress).toBeVisible();
  // Progress moves while the worker derives (the UI thread stays responsive enough to paint it).
  await expect.poll(async () => Number(await progress.getAttribute('value')), { timeout: 15_000 }).toBeGreaterThan(0);
  await expectSignedIn(page);
  watch.expectClean();
});

test('recover with the recovery key: new password, rotated key, old key refused', async ({ page }) => {
  const watch = watchPage(page, ['401']);
  const username = uniqueUsername('rec');
  const key = await registerAndEnter(page, username);
  await signOutViaUi(page);

  await page.getByRole('link', { name: 'Forgot your password?' }).click();
  await expect(page.getByRole('heading', { name: 'Recover your account' })).toBeVisible();
  await page.getByLabel('Username', { exact: true }).fill(username);
  const keyField = page.getByLabel('Recovery key', { exact: true });
  // A typo is caught by the checksum before anything is sent.
  const typo = `${key.slice(0, -1)}${key.endsWith('0') ? '1' : '0'}`;
  await keyField.fill(typo);
  await page.getByLabel('New password', { exact: true }).fill(NEW_PASSWORD);
  await page.getByLabel('Confirm new password', { exact: true }).fill(NEW_PASSWORD);
  const submit = page.getByRole('button', { name: 'Recover account' });
  await expect(submit).toBeEnabled();
  await submit.click();
  await expect(page.getByRole('alert')).toContainText('That recovery key has a typo');

  // Lower case without dashes parses too.
  await keyField.fill(key.replaceAll('-', ' ').toLowerCase());
  await submit.click();
  await expect(page.getByRole('heading', { name: 'Your new recovery key' })).toBeVisible({ timeout: 30_000 });
  const rotated = (await page.getByTestId('recovery-key').textContent()) ?? '';
  expect(rotated).not.toBe(key);
  await confirmRecoveryKey(page);

  await signOutViaUi(page);
  // The used key was rotated away: the server refuses it.
  await page.goto(appUrl('/recover'));
  await page.getByLabel('Username', { exact: true }).fill(username);
  await page.getByLabel('Recovery key', { exact: true }).fill(key);
  await page.getByLabel('New password', { exact: true }).fill(PASSWORD);
  await page.getByLabel('Confirm new password', { exact: true }).fill(PASSWORD);
  await page.getByRole('button', { name: 'Recover account' }).click();
  await expect(page.getByRole('alert')).toContainText('does not belong to this account', { timeout: 30_000 });

  await submitSignIn(page, username, NEW_PASSWORD);
  await expectSignedIn(page);
  watch.expectClean();
});

test('change password and the devices list: another device is listed, signed out, and the new password works', async ({ page }) => {
  const watch = watchPage(page, ['401']);
  const username = uniqueUsername('pwd');
  await registerAndEnter(page, username);

  // A second device signs in (Node, the same client core).
  const other = new AccountClient({ baseUrl: appUrl('/') });
  await other.login({ username, password: PASSWORD, deviceName: 'Test phone' });

  await page.getByRole('link', { name: 'Settings' }).click();
  const devices = page.getByRole('list', { name: 'Signed-in devices' });
  await expect(devices.getByRole('listitem')).toHaveCount(2);
  await expect(devices.getByText('This device')).toBeVisible();
  await expect(devices.getByText('Test phone')).toBeVisible();
  await expect(devices.getByRole('listitem').first()).toContainText('This device'); // always listed first
  await expect(page.getByText('Your other devices will be signed out')).toBeVisible(); // said before, not only after
  await page.getByRole('button', { name: 'Sign out all other devices' }).click();
  await expect(devices.getByRole('listitem')).toHaveCount(1);
  await expect(page.getByRole('status').filter({ hasText: 'All other devices signed out.' })).toBeVisible();
  const revoked = await other.me().then(
    () => null,
    (e: unknown) => e,
  );
  expect(isClientError(revoked, 'not_signed_in')).toBe(true);

  // Storage on this device: the usage and the persistence the browser reports; asking for persistent storage
  // shows the browser's answer, and the section then says what the browser says.
  const storage = page.getByRole('region', { name: 'Storage on this device' });
  const reported = await page.evaluate(async () => ({ usage: (await navigator.storage.estimate()).usage ?? 0, persisted: await navigator.storage.persisted() }));
  expect(reported.usage).toBeGreaterThan(0);
  await expect(storage.getByTestId('storage-usage')).toContainText(/about \d[\d,.]* MB here/);
  await expect(storage.getByTestId('storage-persisted')).toHaveAttribute('data-persisted', String(reported.persisted));
  if (!reported.persisted) {
    await storage.getByRole('button', { name: "Keep Parley's data on this device" }).click();
    const granted = await page.evaluate(() => navigator.storage.persisted());
    await expect(storage.getByRole('status')).toHaveText(granted ? "Done: Parley's data stays on this device." : /^The browser declined for now\./);
    await expect(storage.getByTestId('storage-persisted')).toHaveAttribute('data-persisted', String(granted));
  }

  // The same password again is refused at once, before any key derivation (no progress, no "Changing…").
  const change = page.getByRole('button', { name: 'Change password' });
  await page.getByLabel('Current password', { exact: true }).fill(PASSWORD);
  await page.getByLabel('New password', { exact: true }).fill(PASSWORD);
  await page.getByLabel('Confirm new password', { exact: true }).fill(PASSWORD);
  await expect(change).toBeEnabled();
  await change.click();
  await expect(page.getByRole('alert').filter({ hasText: 'The new password must differ from the current one.' })).toBeVisible();
  await expect(change).toHaveText('Change password');
  await expect(page.getByRole('status').filter({ hasText: 'Password changed.' })).toHaveCount(0);

  // Wrong current password is caught locally.
  await page.getByLabel('Current password', { exact: true }).fill('definitely not it 123');
  await page.getByLabel('New password', { exact: true }).fill(NEW_PASSWORD);
  await page.getByLabel('Confirm new password', { exact: true }).fill(NEW_PASSWORD);
  await expect(change).toBeEnabled();
  await change.click();
  await expect(page.getByRole('alert').filter({ hasText: 'The current password is not right.' })).toBeVisible({ timeout: 30_000 });

  await page.getByLabel('Current password', { exact: true }).fill(PASSWORD);
  await change.click();
  await expect(page.getByRole('status').filter({ hasText: 'Password changed.' })).toBeVisible({ timeout: 30_000 });

  // The session survives the change and a reload (the re-wrapped slot was stored).
  await page.reload();
  await expect(page.getByRole('heading', { name: 'Settings', level: 1 })).toBeVisible();
  await page.getByRole('link', { name: 'Parley home' }).click();
  await signOutViaUi(page);
  await submitSignIn(page, username, PASSWORD);
  await expect(page.getByRole('alert')).toContainText('do not match', { timeout: 30_000 });
  await submitSignIn(page, username, NEW_PASSWORD);
  await expectSignedIn(page);
  watch.expectClean();
});

test('a device signed out from another one notices within seconds and says why; one’s own sign-out says nothing', async ({ page, browser }) => {
  const watch = watchPage(page, ['401']);
  const username = uniqueUsername('gone');
  await registerAndEnter(page, username);
  // The same user on a second device (its own browser context), signed in and connected.
  const phone = await browser.newContext();
  try {
    const p2 = await phone.newPage();
    await submitSignIn(p2, username, PASSWORD);
    await expectSignedIn(p2);
    await p2.waitForTimeout(1500); // its sockets are up
    await page.getByRole('link', { name: 'Settings' }).click();
    await page.getByRole('button', { name: 'Sign out all other devices' }).click();
    await expect(page.getByRole('status').filter({ hasText: 'All other devices signed out.' })).toBeVisible();
    // Long before its access token expires (10 minutes), the phone is on the sign-in screen with the reason.
    await expect(p2).toHaveURL(appUrl('/signin'), { timeout: 15_000 });
    await expect(p2.getByRole('alert').filter({ hasText: 'This device was signed out because its session was ended elsewhere' })).toBeVisible();
    // Signing in again clears the notice.
    await submitSignIn(p2, username, PASSWORD);
    await expectSignedIn(p2);
    await expect(p2.locator('.auth-notice')).toHaveCount(0);
    // Settings has no socket: it asks the server itself (every 15 s) and also notices.
    await p2.getByRole('link', { name: 'Settings' }).click();
    await expect(p2.getByRole('heading', { name: 'Settings', level: 1 })).toBeVisible();
    await page.reload(); // its devices list lists the phone again
    await page.getByRole('button', { name: 'Sign out all other devices' }).click({ timeout: 20_000 });
    await expect(p2).toHaveURL(appUrl('/signin'), { timeout: 25_000 });
    await expect(p2.getByRole('alert').filter({ hasText: 'This device was signed out because its session was ended elsewhere' })).toBeVisible();
    await submitSignIn(p2, username, PASSWORD);
    await expectSignedIn(p2);
    await signOutViaUi(p2);
    await expect(p2.getByRole('heading', { name: 'Sign in' })).toBeVisible();
    await p2.waitForTimeout(2000); // its own sockets' "unauthorized" must not be taken for a remote sign-out
    await expect(p2.locator('.auth-notice')).toHaveCount(0);
  } finally {
    await phone.close();
  }
  watch.expectClean();
});

test('signing out with a message not sent yet asks first; keeping local data or cancelling keeps it', async ({ page, context }) => {
  const watch = watchPage(page, ['401', 'ERR_INTERNET_DISCONNECTED', 'WebSocket', 'Failed to load resource']);
  const username = uniqueUsername('unsent');
  await registerAndEnter(page, username);
  const friend = uniqueUsername('friend');
  await registerHeadless(friend);
  await startDirectChat(page, friend);
  await context.setOffline(true);
  const box = page.getByLabel('Message', { exact: true });
  await box.fill('written on the train');
  await box.press('Enter');
  await expect(page.locator('.msg.mine', { hasText: 'written on the train' })).toContainText('Sending…');
  await page.getByRole('link', { name: 'Settings' }).click();
  await page.getByRole('button', { name: 'Sign out', exact: true }).click();
  const warning = page.getByRole('alert').filter({ hasText: '1 message written on this device has not been sent yet' });
  await expect(warning).toBeVisible();
  await page.getByRole('button', { name: 'Cancel' }).click();
  await expect(warning).toHaveCount(0);
  await expect(page.getByRole('heading', { name: 'Settings', level: 1 })).toBeVisible();
  // With "Keep local data" there is nothing to warn about.
  await page.getByRole('button', { name: 'Sign out', exact: true }).click();
  await expect(warning).toBeVisible();
  await page.getByLabel('Keep local data on this device').check();
  await expect(warning).toHaveCount(0);
  await page.getByLabel('Keep local data on this device').uncheck();
  await expect(warning).toBeVisible();
  await page.getByRole('button', { name: 'Sign out anyway' }).click();
  await expect(page.getByRole('heading', { name: 'Sign in' })).toBeVisible();
  await context.setOffline(false);
  watch.expectClean();
});

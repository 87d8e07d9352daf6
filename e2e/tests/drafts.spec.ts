/**
 * Drafts belong to the account that wrote them: after a sign-out (which deletes local data) and another
 * user's sign-in in the same tab, the shared conversation's composer is empty. Drafts were once kept in a
 * module-level map keyed by conversation only, so the next user found the previous one's unsent text, one
 * Enter away from posting it under their own name.
 */
import { expect, test } from '@playwright/test';
import { AccountClient } from '@parley/shared/client';
import { KDF_MIN } from '@parley/shared/protocol';
import { appUrl, composer, PASSWORD, registerAndEnter, sendMessage, signOutViaUi, startDirectChat, submitSignIn, uniqueUsername, watchPage } from '../support/app.ts';

test('another user signing in after a sign-out in the same tab never sees the previous user’s draft', async ({ page }) => {
  const watch = watchPage(page, ['401']);
  const ann = uniqueUsername('ann');
  const cat = uniqueUsername('cat');
  await new AccountClient({ baseUrl: appUrl('/') }).register({ username: cat, password: PASSWORD, kdf: { alg: 'argon2id', v: 19, ...KDF_MIN } });
  await registerAndEnter(page, ann);
  await startDirectChat(page, cat);
  await sendMessage(page, 'hi cat');
  await expect(page.locator('.msg.mine', { hasText: 'hi cat' })).not.toContainText('Sending…', { timeout: 20_000 });
  await composer(page).fill('PRIVATE: a draft Ann never sent');
  await signOutViaUi(page);

  await submitSignIn(page, cat, PASSWORD);
  await page.locator('.conv-row', { hasText: ann }).click({ timeout: 30_000 });
  await expect(page.locator('.msg-text', { hasText: 'hi cat' })).toBeVisible({ timeout: 20_000 });
  await expect(composer(page)).toHaveValue('');
  // Cat's own draft still survives switching away and back (and a reload).
  await composer(page).fill('cat’s own draft');
  await page.waitForTimeout(700); // drafts are stored once typing pauses (400 ms)
  await page.reload();
  await page.locator('.conv-row', { hasText: ann }).click();
  await expect(composer(page)).toHaveValue('cat’s own draft', { timeout: 20_000 });
  watch.expectClean();
});

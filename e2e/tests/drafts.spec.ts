/**
 * Drafts belong to the account that wrote them: after a sign-out (which deletes local data) and another
 * user's sign-in in the same tab, the shared conversation's composer is empty. Drafts were once kept in a
 * module-level map keyed by conversation only, so the next user found the previous one's unsent text, one
 * Enter away from posting it under their own name.
 */
import { expect, test } from '@playwright/test';
import { composer, headlessDevice, PASSWORD, registerAndEnter, registerHeadless, sendMessage, signOutViaUi, startDirectChat, submitSignIn, uniqueUsername, watchPage } from '../support/app.ts';

test('another user signing in after a sign-out in the same tab never sees the previous user’s draft', async ({ page }) => {
  const watch = watchPage(page, ['401']);
  const ann = uniqueUsername('ann');
  const cat = uniqueUsername('cat');
  await registerHeadless(cat);
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

test('an edit whose message is deleted on another device gives the typed text back instead of dropping it', async ({ page }) => {
  const watch = watchPage(page, ['401']);
  const ann = uniqueUsername('ann');
  const bob = uniqueUsername('bob');
  await registerHeadless(bob);
  await registerAndEnter(page, ann);
  await startDirectChat(page, bob);
  await sendMessage(page, 'meet at 6');
  const mine = page.locator('.msg.mine', { hasText: 'meet at 6' });
  await expect(mine).not.toContainText('Sending…', { timeout: 20_000 });
  await mine.hover();
  await mine.getByRole('button', { name: /Actions for message/ }).click();
  await mine.getByRole('button', { name: 'Edit', exact: true }).click();
  await composer(page).fill('meet at 7 instead');
  // Ann's phone (the same client core, in Node) deletes the message meanwhile.
  const phone = await headlessDevice(ann);
  try {
    const convId = (await phone.conversations())[0]!.id;
    const conv = await phone.open(convId);
    await expect.poll(() => conv.messages.some((m) => m.text === 'meet at 6'), { timeout: 20_000 }).toBe(true);
    await conv.delete(conv.messages.find((m) => m.text === 'meet at 6')!.id);
    await conv.whenDelivered();
  } finally {
    await phone.stop();
  }
  await expect(page.locator('.toast', { hasText: 'The message you were editing was deleted. Your text is back in the message box.' })).toBeVisible({ timeout: 20_000 });
  await expect(page.getByRole('button', { name: 'Cancel editing' })).toHaveCount(0);
  await expect(composer(page)).toHaveValue('meet at 7 instead');
  await sendMessage(page, 'meet at 7 instead');
  await expect(page.locator('.msg.mine', { hasText: 'meet at 7 instead' })).toBeVisible();
  watch.expectClean();
});

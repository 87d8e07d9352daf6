/**
 * Helpers for driving the Parley app in a real browser: unique users, the account screens, and the
 * console/CSP watchers every test should fail on.
 */
import { expect, type Browser, type BrowserContext, type Page } from '@playwright/test';
import { AccountClient, MemoryStorage, ParleyClient } from '@parley/shared/client';
import { KDF_MIN } from '@parley/shared/protocol';

/** Base URL of the server global-setup started. */
export function appUrl(path = '/'): string {
  const u = process.env.PARLEY_URL;
  if (!u) throw new Error('PARLEY_URL not set by global setup');
  return new URL(path, u).href;
}

let counter = 0;
/** A username no other test uses (the server is fresh per run; the suffix keeps reruns apart too). */
export function uniqueUsername(prefix: string): string {
  counter += 1;
  return `${prefix}${Date.now().toString(36)}${counter}`;
}

/** Passwords zxcvbn scores 4 and that contain no username. */
export const PASSWORD = 'correct horse battery staple glacier';
export const NEW_PASSWORD = 'violet submarine orchestra tangerine';

/**
 * Collects console errors, page errors and CSP violations. Call `expectClean()` at the end of a test.
 * `allow` lists substrings of console errors that a test provokes on purpose (e.g. a 401 after a wrong
 * password, which Chromium logs as a failed resource load).
 */
export function watchPage(page: Page, allow: readonly string[] = []): { expectClean: () => void; errors: string[] } {
  const errors: string[] = [];
  page.on('console', (m) => {
    if (m.type() !== 'error') return;
    const text = m.text();
    if (allow.some((a) => text.includes(a))) return;
    errors.push(text);
  });
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  return { errors, expectClean: () => expect(errors).toEqual([]) };
}

/** Fills the register form, submits, and returns the recovery key shown afterwards (not yet confirmed). */
export async function registerViaUi(page: Page, username: string, password = PASSWORD): Promise<string> {
  await page.goto(appUrl('/register'));
  await expect(page.getByRole('heading', { name: 'Create your account' })).toBeVisible();
  await page.getByLabel('Username', { exact: true }).fill(username);
  await page.getByLabel('Password', { exact: true }).fill(password);
  await page.getByLabel('Confirm password', { exact: true }).fill(password);
  await expect(page.getByText(/^(Strong|Very strong)\./)).toBeVisible();
  const submit = page.getByRole('button', { name: 'Create account' });
  await expect(submit).toBeEnabled();
  await submit.click();
  await expect(page.getByRole('heading', { name: 'Save your recovery key' })).toBeVisible({ timeout: 30_000 });
  const key = (await page.getByTestId('recovery-key').textContent()) ?? '';
  expect(key).toMatch(/^([0-9A-Z]{4}-){13}[0-9A-Z]{4}$/);
  return key;
}

/** Confirms the recovery key was saved and waits for the signed-in home. */
export async function confirmRecoveryKey(page: Page): Promise<void> {
  const cont = page.getByRole('button', { name: 'Continue to Parley' });
  await expect(cont).toBeDisabled();
  await page.getByLabel('I saved my recovery key somewhere safe').check();
  await cont.click();
  await expectSignedIn(page);
}

/** Registers and enters the app; returns the recovery key. */
export async function registerAndEnter(page: Page, username: string, password = PASSWORD): Promise<string> {
  const key = await registerViaUi(page, username, password);
  await confirmRecoveryKey(page);
  return key;
}

/** The signed-in home (chat placeholder) is showing. */
export async function expectSignedIn(page: Page): Promise<void> {
  await expect(page.getByText('Your conversations will appear here')).toBeVisible({ timeout: 30_000 });
  await expect(page).toHaveURL(appUrl('/'));
}

/** Fills and submits the sign-in form (does not wait for the outcome). */
export async function submitSignIn(page: Page, username: string, password: string): Promise<void> {
  if (!page.url().endsWith('/signin')) await page.goto(appUrl('/signin'));
  await expect(page.getByRole('heading', { name: 'Sign in' })).toBeVisible();
  await page.getByLabel('Username', { exact: true }).fill(username);
  await page.getByLabel('Password', { exact: true }).fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

/** Opens settings and signs out, optionally keeping local data. */
export async function signOutViaUi(page: Page, keepLocalData = false): Promise<void> {
  await page.getByRole('link', { name: 'Settings' }).click();
  await expect(page.getByRole('heading', { name: 'Settings', level: 1 })).toBeVisible();
  if (keepLocalData) await page.getByLabel('Keep local data on this device').check();
  await page.getByRole('button', { name: 'Sign out', exact: true }).click();
  await expect(page.getByRole('heading', { name: 'Sign in' })).toBeVisible();
}

/** A user of a test: a fresh browser context (desktop size) with its page and console watcher. */
export interface BrowserUser {
  name: string;
  context: BrowserContext;
  page: Page;
  watch: ReturnType<typeof watchPage>;
}

/** A new browser context and page for a user not registered yet; `allow` as in `watchPage`. */
export async function newBrowserUser(browser: Browser, prefix: string, allow: readonly string[] = []): Promise<BrowserUser> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  return { name: uniqueUsername(prefix), context, page, watch: watchPage(page, allow) };
}

/** The message composer of the open conversation. */
export const composer = (page: Page) => page.getByLabel('Message', { exact: true });

/** Sends `text` from the composer and waits until the composer is empty again. */
export async function sendMessage(page: Page, text: string): Promise<void> {
  await composer(page).fill(text);
  await composer(page).press('Enter');
  await expect(composer(page)).toHaveValue('');
}

/** Starts (or finds) the direct chat with `username` from the New chat dialog and waits until it is open. */
export async function startDirectChat(page: Page, username: string): Promise<void> {
  await page.getByRole('button', { name: 'New chat' }).click();
  const dlg = page.getByRole('dialog', { name: 'New chat' });
  await dlg.getByLabel('Username').fill(username);
  await dlg.getByRole('button', { name: 'Start chat' }).click();
  await expect(dlg).toBeHidden({ timeout: 20_000 });
  await expect(page.locator('.chat-title')).toHaveText(username);
}

/** Registers `username` through the client core in Node (minimum KDF): a contact for a browser user. */
export async function registerHeadless(username: string, password = PASSWORD): Promise<AccountClient> {
  const account = new AccountClient({ baseUrl: appUrl('/') });
  await account.register({ username, password, kdf: { alg: 'argon2id', v: 19, ...KDF_MIN } });
  return account;
}

/** A new user whose only device is the client core in Node, started (a peer that writes or reads). */
export async function headlessUser(prefix: string, password = PASSWORD): Promise<{ username: string; client: ParleyClient }> {
  const username = uniqueUsername(prefix);
  const account = await registerHeadless(username, password);
  const client = new ParleyClient({ baseUrl: appUrl('/'), storage: new MemoryStorage(), account });
  await client.start();
  return { username, client };
}

/** Another device of an existing user: the client core in Node, signed in and started. Stop it when done. */
export async function headlessDevice(username: string, password = PASSWORD): Promise<ParleyClient> {
  const account = new AccountClient({ baseUrl: appUrl('/') });
  await account.login({ username, password });
  const client = new ParleyClient({ baseUrl: appUrl('/'), storage: new MemoryStorage(), account });
  await client.start();
  return client;
}

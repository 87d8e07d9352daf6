/**
 * The session store: one `AccountClient` for the app, and signals for the signed-in account. The unlocked
 * keys live in memory (inside the client and this store) and, wrapped by the device key, in the keystore;
 * never in localStorage. The access token stays inside the client's transport; the refresh token is an
 * HttpOnly cookie the page cannot read.
 */
import { createSignal } from 'solid-js';
import {
  AccountClient,
  assertKeysMatch,
  isClientError,
  type AccountKeys,
  type KdfProgress,
  type RecoverResult,
  type RegisterResult,
  type Session,
} from '@parley/shared/client';
import { workerDerive } from './kdf/worker-deriver.ts';
import { forgetResumeState, loadResumeState, saveResumeState, wipeLocalData } from './keystore.ts';
import { THEME_STORAGE_KEY } from './theme.ts';

/** A signed-in account as the screens see it. `offline` is true when it was resumed without the server. */
export interface SignedIn {
  client: AccountClient;
  session: Session;
  keys: AccountKeys;
}

/** Where the app is: still reading the keystore, signed out, or signed in. */
export type SessionState = { status: 'loading' } | { status: 'signed-out' } | ({ status: 'signed-in' } & SignedIn);

/** A short, non-identifying device label for the sessions list ("Chrome on Linux"). */
export function deviceName(ua: string = navigator.userAgent): string {
  const browser = /Edg\//.test(ua)
    ? 'Edge'
    : /Firefox\//.test(ua)
      ? 'Firefox'
      : /Chrom(e|ium)\//.test(ua)
        ? 'Chrome'
        : /Safari\//.test(ua)
          ? 'Safari'
          : 'Browser';
  const os = /Android/.test(ua)
    ? 'Android'
    : /iPhone|iPad/.test(ua)
      ? 'iOS'
      : /Mac OS X/.test(ua)
        ? 'macOS'
        : /Windows/.test(ua)
          ? 'Windows'
          : /Linux/.test(ua)
            ? 'Linux'
            : 'a device';
  return `${browser} on ${os}`;
}

const client = new AccountClient({ baseUrl: location.origin, derive: workerDerive, credentials: 'same-origin' });
const [state, setState] = createSignal<SessionState>({ status: 'loading' });
const [endedNotice, setEndedNotice] = createSignal<string | null>(null);
/** This device is signing out (its sockets' `unauthorized` then is no news). */
let signingOut = false;

/** Why this device was signed out without the user asking (the sign-in screen says it), or null (reactive). */
export const signedOutNotice = endedNotice;

const ENDED_ELSEWHERE =
  'This device was signed out because its session was ended elsewhere: a sign-out from another device, a password change or an account recovery. ' +
  'What it stored was deleted, including anything not sent yet. Sign in again to continue.';

/**
 * The session is over on the server (noticed by a token refresh: the socket was closed as `unauthorized`, or
 * a request found the token refused): sign out here at once, wiping local data as a remote sign-out intends
 * (a lost or stolen device), and say why on the sign-in screen.
 */
async function endedElsewhere(): Promise<void> {
  if (!signedIn() || signingOut) return; // this device's own sign-out ends the session too
  setEndedNotice(ENDED_ELSEWHERE);
  await endLocally(true);
}
client.transport.onSessionEnded(() => void endedElsewhere());

/** The current session state (reactive). */
export const sessionState = state;

/** The signed-in account, or null (reactive). */
export function signedIn(): SignedIn | null {
  const s = state();
  return s.status === 'signed-in' ? s : null;
}

async function adoptHeld(): Promise<void> {
  setEndedNotice(null);
  const resume = client.resumeState();
  if (!resume) throw new Error('the client holds no session');
  try {
    await saveResumeState(resume);
  } catch {
    // IndexedDB unavailable (private mode): the session works, it just will not survive a reload.
  }
  setState({ status: 'signed-in', client, session: resume.session, keys: resume.keys });
}

/**
 * Reads the keystore at startup. A stored session is adopted at once (so an offline reload stays signed
 * in), then checked with the server: a revoked session signs out locally, a network failure is ignored.
 */
export async function restoreSession(): Promise<void> {
  let stored = null;
  try {
    stored = await loadResumeState();
  } catch {
    stored = null;
  }
  if (!stored) {
    setState({ status: 'signed-out' });
    return;
  }
  try {
    client.resume(stored);
  } catch {
    await forgetResumeState().catch(() => undefined);
    setState({ status: 'signed-out' });
    return;
  }
  setState({ status: 'signed-in', client, session: stored.session, keys: stored.keys });
  void verifyWithServer();
}

/** Confirms the resumed session with `me()`; ends it locally when the server says it is over. */
export async function verifyWithServer(): Promise<void> {
  const current = signedIn();
  if (!current) return;
  try {
    const me = await client.me();
    assertKeysMatch(current.keys, me.publicKeys);
  } catch (e) {
    if (isClientError(e, 'network', 'unavailable', 'internal', 'rate_limited')) return;
    await endedElsewhere(); // (nothing when the refused refresh already did it, or while signing out)
  }
}

/** Signs in (argon2id runs in a worker; `onProgress` gets 0..1). */
export async function signIn(username: string, password: string, onProgress: KdfProgress): Promise<void> {
  await client.login({ username, password, deviceName: deviceName(), onKdfProgress: onProgress });
  await adoptHeld();
}

/** Registers; the caller shows `recoveryKey` before calling `finishRegistration`. */
export async function register(username: string, password: string, onProgress: KdfProgress): Promise<RegisterResult> {
  return client.register({ username, password, deviceName: deviceName(), onKdfProgress: onProgress });
}

/** Recovers with the recovery key; the caller shows the rotated key before `finishRegistration`. */
export async function recover(
  username: string,
  recoveryKey: string,
  newPassword: string,
  onProgress: KdfProgress,
): Promise<RecoverResult> {
  return client.recover({
    username,
    recoveryKey,
    newPassword,
    rotateRecoveryKey: true,
    deviceName: deviceName(),
    onKdfProgress: onProgress,
  });
}

/** Enters the app after the recovery key was confirmed (register and recover hold the session already). */
export function finishRegistration(): Promise<void> {
  return adoptHeld();
}

/** Changes the password and stores the re-wrapped slot for the next resume. */
export async function changePassword(currentPassword: string, newPassword: string, onProgress: KdfProgress): Promise<void> {
  await client.changePassword({ currentPassword, newPassword, onKdfProgress: onProgress });
  await adoptHeld();
}

/**
 * Makes a new recovery key after re-checking `password` (the KDF runs in the worker, reporting progress);
 * the old key stops working. Returns the new key to show once.
 */
export async function newRecoveryKey(password: string, onProgress: KdfProgress): Promise<string> {
  return client.newRecoveryKey({ password, onKdfProgress: onProgress });
}

async function endLocally(wipe: boolean): Promise<void> {
  try {
    if (wipe) await wipeLocalData([THEME_STORAGE_KEY]);
    else await forgetResumeState();
  } finally {
    setState({ status: 'signed-out' });
  }
}

/**
 * Signs out: ends the session on the server (if reachable), forgets the keys in memory, and deletes the
 * wrapped keys. Unless `keepLocalData`, every local database of the app is deleted too. Returns false when
 * the server could not be told (the device is signed out anyway).
 */
export async function signOut(keepLocalData: boolean): Promise<boolean> {
  let reached = true;
  signingOut = true;
  try {
    await client.logout();
  } catch (e) {
    reached = !isClientError(e, 'network');
  }
  try {
    await endLocally(!keepLocalData);
  } finally {
    signingOut = false;
  }
  return reached;
}

/** /settings: profile (opens "Your profile" in the chat), appearance, password, recovery key, devices, storage, sign out. */
import { createSignal, For, onCleanup, onMount, type JSX } from 'solid-js';
import { A } from '@solidjs/router';
import { signedIn, verifyWithServer } from '../session.ts';
import { setTheme, themeChoice, type ThemeChoice } from '../theme.ts';
import { ChangePassword } from './ChangePassword.tsx';
import { RecoveryKeySection } from './RecoveryKeySection.tsx';
import { Sessions } from './Sessions.tsx';
import { SignOutSection } from './SignOut.tsx';
import { StorageSection } from './StorageSection.tsx';

const THEMES: ReadonlyArray<readonly [ThemeChoice, string]> = [
  ['system', 'System'],
  ['light', 'Light'],
  ['dark', 'Dark'],
];

function Appearance(): JSX.Element {
  return (
    <section class="card settings-section" aria-labelledby="appearance-title">
      <h2 id="appearance-title">Appearance</h2>
      <fieldset class="segmented">
        <legend class="visually-hidden">Theme</legend>
        <For each={THEMES}>
          {([value, label]) => (
            <label class="segment">
              <input type="radio" name="theme" value={value} checked={themeChoice() === value} onChange={() => setTheme(value)} />
              <span>{label}</span>
            </label>
          )}
        </For>
      </fieldset>
    </section>
  );
}

/** The /settings screen (signed in only; the router guards it). */
export function Settings(): JSX.Element {
  // Settings has no socket (the chat's sockets tell within seconds when the session was ended elsewhere), so it
  // asks the server itself while it is shown: every 15 s, and when the page becomes visible again.
  onMount(() => {
    const check = () => {
      if (document.visibilityState === 'visible') void verifyWithServer();
    };
    const timer = setInterval(check, 15_000);
    document.addEventListener('visibilitychange', check);
    onCleanup(() => {
      clearInterval(timer);
      document.removeEventListener('visibilitychange', check);
    });
  });
  const [version, setVersion] = createSignal(0);
  return (
    <div class="page settings">
      <div class="page-head">
        <A href="/" class="btn btn-ghost back-link">
          ← Conversations
        </A>
        <h1>Settings</h1>
      </div>
      <section class="card settings-section" aria-labelledby="profile-title">
        <h2 id="profile-title">Profile</h2>
        <p>
          Signed in as <strong>{signedIn()?.session.username}</strong>.
        </p>
        <A href="/?dialog=profile" class="btn">
          Edit profile
        </A>
      </section>
      <Appearance />
      <ChangePassword onChanged={() => setVersion((v) => v + 1)} />
      <RecoveryKeySection />
      <Sessions version={version()} />
      <StorageSection />
      <SignOutSection />
    </div>
  );
}

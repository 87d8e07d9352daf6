/**
 * Settings → Recovery key: replaces a lost or unsaved recovery key. Asks for the password again (the KDF
 * runs in the worker with progress), then shows the new key once in the recovery-key panel; the old key
 * stops working the moment the server accepts the new one.
 */
import { createSignal, Match, Switch, type JSX } from 'solid-js';
import { newRecoveryKey, signedIn } from '../session.ts';
import { FormError } from '../ui/FormError.tsx';
import { KdfProgress } from '../ui/KdfProgress.tsx';
import { PasswordField } from '../ui/PasswordField.tsx';
import { toast } from '../ui/toasts.tsx';
import { RecoveryKeyPanel } from '../auth/RecoveryKeyPanel.tsx';
import { createSubmit } from '../auth/useBusy.ts';

const WRONG_PASSWORD = 'The password is not right.';

/** The recovery-key section of settings. */
export function RecoveryKeySection(): JSX.Element {
  const [step, setStep] = createSignal<'idle' | 'confirm'>('idle');
  const [password, setPassword] = createSignal('');
  const [newKey, setNewKey] = createSignal<string | null>(null);
  const username = () => signedIn()?.session.username ?? '';
  const submit = createSubmit({ wrong_password: WRONG_PASSWORD, invalid_credentials: WRONG_PASSWORD });

  let form: HTMLFormElement | undefined;
  const start = () => {
    setStep('confirm');
    form?.querySelector<HTMLInputElement>('input[name="recovery-key-password"]')?.focus();
  };

  const cancel = () => {
    setPassword('');
    submit.setError(null);
    setStep('idle');
  };

  const onSubmit = async (e: SubmitEvent) => {
    e.preventDefault();
    if (password().length === 0) return;
    await submit.run(async (onProgress) => {
      const key = await newRecoveryKey(password(), onProgress);
      setPassword('');
      setStep('idle');
      setNewKey(key);
    });
  };

  const done = () => {
    setNewKey(null);
    toast('New recovery key saved. The old one no longer works.', 'success');
  };

  return (
    <section class="card settings-section" aria-labelledby="rk-title">
      <h2 id="rk-title">Recovery key</h2>
      <Switch>
        <Match when={newKey()}>
          {(k) => (
            <>
              <p role="status">
                <strong>Your old recovery key no longer works.</strong> Save this new one now.
              </p>
              <RecoveryKeyPanel recoveryKey={k()} username={username()} onContinue={done} continueLabel="Done" />
            </>
          )}
        </Match>
        <Match when={step() === 'idle'}>
          <p class="muted small">
            Lost your recovery key, or did not save it? Make a new one. The old key stops working at once.
          </p>
          <button class="btn" type="button" onClick={start}>
            Make a new recovery key
          </button>
        </Match>
        <Match when={step() === 'confirm'}>
          <form ref={form} class="form" onSubmit={onSubmit} novalidate aria-busy={submit.busy()}>
            <input type="text" name="username" autocomplete="username" value={username()} hidden readOnly />
            <p class="muted small">Enter your password to make a new recovery key. The old key will stop working.</p>
            <PasswordField
              label="Password"
              name="recovery-key-password"
              autocomplete="current-password"
              required
              value={password()}
              onInput={(e) => setPassword(e.currentTarget.value)}
            />
            <FormError message={submit.error()} />
            <KdfProgress fraction={submit.progress()} label="Checking your password…" />
            <div class="button-row">
              <button class="btn btn-primary" type="submit" disabled={password().length === 0 || submit.busy()}>
                {submit.busy() ? 'Making…' : 'Make new key'}
              </button>
              <button class="btn" type="button" onClick={cancel} disabled={submit.busy()}>
                Cancel
              </button>
            </div>
          </form>
        </Match>
      </Switch>
    </section>
  );
}

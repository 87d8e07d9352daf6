/**
 * Change password: current + new (strength meter) + confirm. Other devices are signed out by the server.
 * A new password equal to the current one is refused here, before the key derivation runs.
 */
import { createSignal, type JSX } from 'solid-js';
import { changePassword, signedIn } from '../session.ts';
import { FormError } from '../ui/FormError.tsx';
import { KdfProgress } from '../ui/KdfProgress.tsx';
import { PasswordField } from '../ui/PasswordField.tsx';
import { createPasswordStrength } from '../ui/StrengthMeter.tsx';
import { toast } from '../ui/toasts.tsx';
import { NewPasswordFields, newPasswordReady } from '../auth/NewPasswordFields.tsx';
import { createSubmit } from '../auth/useBusy.ts';

const SAME_PASSWORD = 'The new password must differ from the current one.';

/** The change-password section of settings; `onChanged` lets the page refresh its sessions list. */
export function ChangePassword(props: { onChanged?: () => void }): JSX.Element {
  const [current, setCurrent] = createSignal('');
  const [password, setPassword] = createSignal('');
  const [confirm, setConfirm] = createSignal('');
  const username = () => signedIn()?.session.username ?? '';
  const strength = createPasswordStrength(password, username);
  const submit = createSubmit();
  const ready = () => current().length > 0 && newPasswordReady(strength, password(), confirm());

  const onSubmit = async (e: SubmitEvent) => {
    e.preventDefault();
    if (!ready()) return;
    if (password() === current()) {
      submit.setError(SAME_PASSWORD);
      return;
    }
    const ok = await submit.run((onProgress) => changePassword(current(), password(), onProgress));
    if (ok) {
      setCurrent('');
      setPassword('');
      setConfirm('');
      toast('Password changed. Your other devices were signed out.', 'success');
      props.onChanged?.();
    }
  };

  return (
    <section class="card settings-section" aria-labelledby="pw-title">
      <h2 id="pw-title">Change password</h2>
      <form class="form" onSubmit={onSubmit} novalidate aria-busy={submit.busy()}>
        <input type="text" name="username" autocomplete="username" value={username()} hidden readOnly />
        <PasswordField
          label="Current password"
          name="current-password"
          autocomplete="current-password"
          required
          value={current()}
          onInput={(e) => setCurrent(e.currentTarget.value)}
        />
        <NewPasswordFields
          label="New password"
          password={password()}
          confirm={confirm()}
          onPassword={setPassword}
          onConfirm={setConfirm}
          strength={strength()}
        />
        <FormError message={submit.error()} />
        <KdfProgress fraction={submit.progress()} label="Re-encrypting your keys…" />
        <p class="muted small">Your other devices will be signed out; sign in there again with the new password.</p>
        <button class="btn btn-primary" type="submit" disabled={!ready() || submit.busy()}>
          {submit.busy() ? 'Changing…' : 'Change password'}
        </button>
      </form>
    </section>
  );
}

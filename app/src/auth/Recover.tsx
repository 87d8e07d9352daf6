/**
 * Recover an account with the recovery key: username, key, a new password. The recovery key is rotated
 * (the used one stops working), so the new one is shown and must be confirmed as saved.
 */
import { createSignal, Match, Switch, type JSX } from 'solid-js';
import { A, useNavigate } from '@solidjs/router';
import { normalizeUsername } from '@parley/shared/protocol';
import { finishRegistration, recover } from '../session.ts';
import { Field } from '../ui/Field.tsx';
import { FormError } from '../ui/FormError.tsx';
import { KdfProgress } from '../ui/KdfProgress.tsx';
import { createPasswordStrength } from '../ui/StrengthMeter.tsx';
import { AuthLayout } from './AuthLayout.tsx';
import { NewPasswordFields, newPasswordReady } from './NewPasswordFields.tsx';
import { RecoveryKeyPanel } from './RecoveryKeyPanel.tsx';
import { createSubmit } from './useBusy.ts';

/** The /recover screen. */
export function Recover(): JSX.Element {
  const navigate = useNavigate();
  const [username, setUsername] = createSignal('');
  const [key, setKey] = createSignal('');
  const [password, setPassword] = createSignal('');
  const [confirm, setConfirm] = createSignal('');
  const [newKey, setNewKey] = createSignal<string | null>(null);
  const strength = createPasswordStrength(password, username);
  const submit = createSubmit({
    invalid_credentials: 'That recovery key does not belong to this account, or it was replaced by a newer one.',
  });
  const ready = () => username().trim().length > 0 && key().trim().length > 0 && newPasswordReady(strength, password(), confirm());

  const enter = async () => {
    await finishRegistration();
    navigate('/', { replace: true });
  };

  const onSubmit = async (e: SubmitEvent) => {
    e.preventDefault();
    if (!ready()) return;
    await submit.run(async (onProgress) => {
      const result = await recover(username(), key(), password(), onProgress);
      setPassword('');
      setConfirm('');
      setKey('');
      if (result.recoveryKey) setNewKey(result.recoveryKey);
      else await enter();
    });
  };

  return (
    <Switch>
      <Match when={newKey()}>
        {(k) => (
          <AuthLayout title="Your new recovery key" lead="Your password is reset and your other devices were signed out. The old recovery key no longer works.">
            <RecoveryKeyPanel recoveryKey={k()} username={normalizeUsername(username())} onContinue={() => void enter()} />
          </AuthLayout>
        )}
      </Match>
      <Match when={!newKey()}>
        <AuthLayout
          title="Recover your account"
          lead="Use the recovery key you saved when you created your account, and choose a new password. Other devices will be signed out."
          footer={<A href="/signin">Back to sign in</A>}
        >
          <form class="form" onSubmit={onSubmit} novalidate aria-busy={submit.busy()}>
            <Field
              label="Username"
              name="username"
              autocomplete="username"
              autocapitalize="off"
              spellcheck={false}
              required
              value={username()}
              onInput={(e) => setUsername(e.currentTarget.value)}
            />
            <Field
              label="Recovery key"
              name="recovery-key"
              class="field-mono"
              autocomplete="off"
              autocapitalize="characters"
              spellcheck={false}
              required
              hint="56 characters in groups of four; dashes and spaces are optional."
              value={key()}
              onInput={(e) => setKey(e.currentTarget.value)}
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
            <KdfProgress fraction={submit.progress()} label="Securing your keys…" />
            <button class="btn btn-primary btn-block" type="submit" disabled={!ready() || submit.busy()}>
              {submit.busy() ? 'Recovering…' : 'Recover account'}
            </button>
          </form>
        </AuthLayout>
      </Match>
    </Switch>
  );
}

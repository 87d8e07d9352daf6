/**
 * Create an account: username (live rule feedback), password with strength meter and confirmation; then
 * the recovery key, which must be confirmed as saved before entering the app.
 */
import { createSignal, Match, Switch, type JSX } from 'solid-js';
import { A, useNavigate } from '@solidjs/router';
import { normalizeUsername, usernameProblem, usernameProblemText } from '@parley/shared/protocol';
import { finishRegistration, register } from '../session.ts';
import { Field } from '../ui/Field.tsx';
import { FormError } from '../ui/FormError.tsx';
import { KdfProgress } from '../ui/KdfProgress.tsx';
import { createPasswordStrength } from '../ui/StrengthMeter.tsx';
import { AuthLayout } from './AuthLayout.tsx';
import { NewPasswordFields, newPasswordReady } from './NewPasswordFields.tsx';
import { RecoveryKeyPanel } from './RecoveryKeyPanel.tsx';
import { createSubmit } from './useBusy.ts';

/** The username rule broken by `value`, as text, or null (nothing typed yet counts as fine). */
export function usernameError(value: string): string | null {
  if (value.trim().length === 0) return null;
  const problem = usernameProblem(normalizeUsername(value));
  return problem ? `${usernameProblemText(problem)}.` : null;
}

/** The /register screen. */
export function Register(): JSX.Element {
  const navigate = useNavigate();
  const [username, setUsername] = createSignal('');
  const [touched, setTouched] = createSignal(false);
  const [password, setPassword] = createSignal('');
  const [confirm, setConfirm] = createSignal('');
  const [recoveryKey, setRecoveryKey] = createSignal<string | null>(null);
  const strength = createPasswordStrength(password, username);
  const submit = createSubmit();

  const usernameOk = () => username().trim().length > 0 && usernameError(username()) === null;
  const ready = () => usernameOk() && newPasswordReady(strength, password(), confirm());

  const onSubmit = async (e: SubmitEvent) => {
    e.preventDefault();
    setTouched(true);
    if (!ready()) return;
    await submit.run(async (onProgress) => {
      const result = await register(username(), password(), onProgress);
      setPassword('');
      setConfirm('');
      setRecoveryKey(result.recoveryKey);
    });
  };

  const enter = async () => {
    await finishRegistration();
    setRecoveryKey(null);
    navigate('/', { replace: true });
  };

  return (
    <Switch>
      <Match when={recoveryKey()}>
        {(key) => (
          <AuthLayout title="Save your recovery key" lead="One more step before you start chatting.">
            <RecoveryKeyPanel recoveryKey={key()} username={normalizeUsername(username())} onContinue={() => void enter()} />
          </AuthLayout>
        )}
      </Match>
      <Match when={!recoveryKey()}>
        <AuthLayout
          title="Create your account"
          lead="Pick a username people can find you by, and a password only you know."
          footer={
            <>
              <span>Already have an account?</span> <A href="/signin">Sign in</A>
            </>
          }
        >
          <form class="form" onSubmit={onSubmit} novalidate aria-busy={submit.busy()}>
            <Field
              label="Username"
              name="username"
              autocomplete="username"
              autocapitalize="off"
              spellcheck={false}
              required
              hint="3–32 letters, digits, “_”, “.” or “-”."
              error={touched() ? usernameError(username()) : null}
              value={username()}
              onInput={(e) => {
                setUsername(e.currentTarget.value);
                if (usernameError(e.currentTarget.value) === null) setTouched(false);
              }}
              onBlur={() => setTouched(true)}
            />
            <NewPasswordFields
              password={password()}
              confirm={confirm()}
              onPassword={setPassword}
              onConfirm={setConfirm}
              strength={strength()}
            />
            <FormError message={submit.error()} />
            <KdfProgress fraction={submit.progress()} label="Creating your keys…" />
            <button class="btn btn-primary btn-block" type="submit" disabled={!ready() || submit.busy()}>
              {submit.busy() ? 'Creating account…' : 'Create account'}
            </button>
          </form>
        </AuthLayout>
      </Match>
    </Switch>
  );
}

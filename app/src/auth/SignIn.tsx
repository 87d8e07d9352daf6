/** Sign in: username + password; argon2id runs in a worker with a progress bar. */
import { createSignal, Show, type JSX } from 'solid-js';
import { A, useNavigate } from '@solidjs/router';
import { signIn, signedOutNotice } from '../session.ts';
import { Field } from '../ui/Field.tsx';
import { PasswordField } from '../ui/PasswordField.tsx';
import { FormError } from '../ui/FormError.tsx';
import { KdfProgress } from '../ui/KdfProgress.tsx';
import { AuthLayout } from './AuthLayout.tsx';
import { createSubmit } from './useBusy.ts';

/** The /signin screen. */
export function SignIn(): JSX.Element {
  const navigate = useNavigate();
  const [username, setUsername] = createSignal('');
  const [password, setPassword] = createSignal('');
  const submit = createSubmit();

  const onSubmit = async (e: SubmitEvent) => {
    e.preventDefault();
    const ok = await submit.run((onProgress) => signIn(username(), password(), onProgress));
    if (ok) {
      setPassword('');
      navigate('/', { replace: true });
    }
  };

  return (
    <AuthLayout
      title="Sign in"
      lead="Your messages are encrypted on this device. Your password never leaves it."
      footer={
        <>
          <A href="/register">Create an account</A>
          <A href="/recover">Forgot your password?</A>
        </>
      }
    >
      <Show when={signedOutNotice()}>
        {(text) => (
          <p class="auth-notice" role="alert">
            {text()}
          </p>
        )}
      </Show>
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
        <PasswordField
          label="Password"
          name="password"
          autocomplete="current-password"
          required
          value={password()}
          onInput={(e) => setPassword(e.currentTarget.value)}
        />
        <FormError message={submit.error()} />
        <KdfProgress fraction={submit.progress()} label="Unlocking your keys…" />
        <button class="btn btn-primary btn-block" type="submit" disabled={submit.busy() || !username() || !password()}>
          {submit.busy() ? 'Signing in…' : 'Sign in'}
        </button>
      </form>
    </AuthLayout>
  );
}

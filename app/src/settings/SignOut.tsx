/** Sign out, with the choice to keep this device's local data (wiped by default). */
import { createSignal, createUniqueId, Show, type JSX } from 'solid-js';
import { useNavigate } from '@solidjs/router';
import { signedIn, signOut } from '../session.ts';
import { toast } from '../ui/toasts.tsx';
import { unsentMessages } from './unsent.ts';

/** The sign-out section of settings. */
export function SignOutSection(): JSX.Element {
  const navigate = useNavigate();
  const [keep, setKeep] = createSignal(false);
  const [busy, setBusy] = createSignal(false);
  const keepId = createUniqueId();
  const hintId = createUniqueId();

  /** Messages that a wiping sign-out would lose; set when the user has to confirm. */
  const [unsent, setUnsent] = createSignal(0);

  const onClick = async (confirmed = false) => {
    setBusy(true);
    try {
      const account = signedIn();
      if (!confirmed && !keep() && account) {
        const n = await unsentMessages(account);
        if (n > 0) {
          setUnsent(n);
          return;
        }
      }
      const reached = await signOut(keep());
      toast(reached ? 'Signed out.' : 'Signed out on this device. The server could not be reached.', reached ? 'success' : 'info');
      navigate('/signin', { replace: true });
    } finally {
      setBusy(false);
    }
  };

  return (
    <section class="card settings-section" aria-labelledby="signout-title">
      <h2 id="signout-title">Sign out</h2>
      <div class="check">
        <input id={keepId} type="checkbox" checked={keep()} aria-describedby={hintId} onChange={(e) => setKeep(e.currentTarget.checked)} />
        <label for={keepId}>Keep local data on this device</label>
      </div>
      <p id={hintId} class="muted small">
        Your encrypted messages stay cached here for a faster next sign-in. Leave unchecked on a shared or public device:
        everything Parley stored here is deleted.
      </p>
      <Show
        when={unsent() > 0 && !keep()}
        fallback={
          <button type="button" class="btn btn-danger" disabled={busy()} onClick={() => void onClick()}>
            Sign out
          </button>
        }
      >
        <p class="auth-notice" role="alert">
          {unsent() === 1 ? '1 message' : `${unsent()} messages`} written on this device {unsent() === 1 ? 'has' : 'have'} not been sent yet.
          Signing out deletes {unsent() === 1 ? 'it' : 'them'}. Check “Keep local data” to send {unsent() === 1 ? 'it' : 'them'} after you sign in
          again, or go online first.
        </p>
        <div class="button-row">
          <button type="button" class="btn btn-danger" disabled={busy()} onClick={() => void onClick(true)}>
            Sign out anyway
          </button>
          <button type="button" class="btn" disabled={busy()} onClick={() => setUnsent(0)}>
            Cancel
          </button>
        </div>
      </Show>
    </section>
  );
}

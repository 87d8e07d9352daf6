/** Sign out, with the choice to keep this device's local data (wiped by default). */
import { createSignal, createUniqueId, type JSX } from 'solid-js';
import { useNavigate } from '@solidjs/router';
import { signOut } from '../session.ts';
import { toast } from '../ui/toasts.tsx';

/** The sign-out section of settings. */
export function SignOutSection(): JSX.Element {
  const navigate = useNavigate();
  const [keep, setKeep] = createSignal(false);
  const [busy, setBusy] = createSignal(false);
  const keepId = createUniqueId();
  const hintId = createUniqueId();

  const onClick = async () => {
    setBusy(true);
    try {
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
      <button type="button" class="btn btn-danger" disabled={busy()} onClick={() => void onClick()}>
        Sign out
      </button>
    </section>
  );
}

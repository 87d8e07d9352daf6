/** Signed-in devices: this one marked, others can be signed out one by one or all at once. */
import { createResource, createSignal, For, Show, type JSX } from 'solid-js';
import type { SessionInfo } from '@parley/shared/client';
import { errorText } from '../errors.ts';
import { signedIn } from '../session.ts';
import { isOnline } from '../shell/online.ts';
import { toast } from '../ui/toasts.tsx';

const dateFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });

function when(iso: string | null | undefined): string {
  if (!iso) return 'unknown';
  const t = Date.parse(iso);
  return Number.isNaN(t) ? 'unknown' : dateFormat.format(t);
}

/** The sessions section of settings. `version` changes to force a reload (e.g. after a password change). */
export function Sessions(props: { version: number }): JSX.Element {
  const [busy, setBusy] = createSignal(false);
  const [sessions, { refetch }] = createResource(
    // Refetch after a password change and when the device comes back online.
    () => (isOnline() ? props.version : false),
    async (): Promise<SessionInfo[]> => {
      const s = signedIn();
      return s ? s.client.listSessions() : [];
    },
  );
  const others = () => (sessions() ?? []).filter((s) => !s.current);

  const revoke = async (ids: string[], done: string) => {
    const s = signedIn();
    if (!s || busy()) return;
    setBusy(true);
    try {
      for (const id of ids) await s.client.revokeSession(id);
      toast(done, 'success');
    } catch (e) {
      toast(errorText(e), 'error');
    } finally {
      setBusy(false);
      void refetch();
    }
  };

  return (
    <section class="card settings-section" aria-labelledby="sessions-title">
      <h2 id="sessions-title">Devices</h2>
      <p class="muted">Devices signed in to your account. Sign out any you do not recognise.</p>
      <Show when={isOnline()} fallback={<p class="muted">Connect to the internet to see and manage your devices.</p>}>
      <Show when={!sessions.error} fallback={<p class="form-error">{errorText(sessions.error)}</p>}>
        <Show when={sessions()} fallback={<p class="muted" role="status">Loading devices…</p>}>
          <ul class="session-list" aria-label="Signed-in devices">
            <For each={[...(sessions() ?? [])].sort((x, y) => Number(y.current) - Number(x.current))}>
              {(s) => (
                <li class="session-item">
                  <div class="session-info">
                    <span class="session-name">
                      {s.deviceName ?? 'Unnamed device'}
                      <Show when={s.current}>
                        <span class="badge">This device</span>
                      </Show>
                    </span>
                    <span class="muted small">
                      Signed in {when(s.createdAt)} · last active {when(s.lastUsedAt)}
                    </span>
                  </div>
                  <Show when={!s.current}>
                    <button
                      type="button"
                      class="btn btn-small"
                      disabled={busy()}
                      aria-label={`Sign out ${s.deviceName ?? 'unnamed device'}, signed in ${when(s.createdAt)}`}
                      onClick={() => void revoke([s.id], 'Device signed out.')}
                    >
                      Sign out
                    </button>
                  </Show>
                </li>
              )}
            </For>
          </ul>
          <button
            type="button"
            class="btn btn-danger"
            disabled={busy() || others().length === 0}
            onClick={() => void revoke(others().map((s) => s.id), 'All other devices signed out.')}
          >
            Sign out all other devices
          </button>
        </Show>
      </Show>
      </Show>
    </section>
  );
}

/**
 * "Storage on this device": how much the app keeps in this browser, and whether the browser may clear it when
 * space runs low. Cleared storage costs the device its keys (sign in again) and, worse, messages written offline
 * that have not reached the server yet, so the section offers to ask for persistent storage
 * (`navigator.storage.persist()`; Chromium decides by itself, from engagement such as an installed app or allowed
 * notifications; Firefox asks the user).
 */
import { createResource, createSignal, Show, type JSX } from 'solid-js';
import { z } from 'zod';

/** The part of `navigator.storage.estimate()` the section shows (browsers add more fields). */
const Estimate = z.object({ usage: z.number().nonnegative().optional() }).passthrough();

/** Megabytes, with one decimal below 10 ("0.4 MB", "12 MB"). */
export function megabytes(bytes: number): string {
  const mb = bytes / 1_000_000;
  return `${mb < 10 ? mb.toFixed(1) : Math.round(mb).toLocaleString('en-US')} MB`;
}

interface StorageState {
  usage: number | undefined;
  persisted: boolean;
}

async function readState(): Promise<StorageState | undefined> {
  const storage = typeof navigator !== 'undefined' ? navigator.storage : undefined;
  if (typeof storage?.estimate !== 'function' || typeof storage.persisted !== 'function') return undefined;
  const [estimate, persisted] = await Promise.all([storage.estimate().catch(() => ({})), storage.persisted().catch(() => false)]);
  const e = Estimate.safeParse(estimate);
  return { usage: e.success ? e.data.usage : undefined, persisted: persisted === true };
}

/** See the module comment. */
export function StorageSection(): JSX.Element {
  const [state, { refetch }] = createResource(readState);
  const [asked, setAsked] = createSignal<'granted' | 'declined' | undefined>();
  const [busy, setBusy] = createSignal(false);

  const ask = async () => {
    if (busy()) return;
    setBusy(true);
    try {
      const granted = typeof navigator.storage.persist === 'function' ? await navigator.storage.persist().catch(() => false) : false;
      setAsked(granted ? 'granted' : 'declined');
      await refetch();
    } finally {
      setBusy(false);
    }
  };

  return (
    <section class="card settings-section" aria-labelledby="storage-title">
      <h2 id="storage-title">Storage on this device</h2>
      <Show when={!state.loading} fallback={<p class="muted" role="status">Reading storage…</p>}>
        <Show when={state()} fallback={<p class="muted">This browser does not report its storage.</p>}>
          {(s) => (
            <>
              <Show when={s().usage !== undefined}>
                <p data-testid="storage-usage">
                  Parley keeps about <strong>{megabytes(s().usage ?? 0)}</strong> here: your conversations, keys and search index (all
                  encrypted) and the app itself.
                </p>
              </Show>
              <Show
                when={s().persisted}
                fallback={
                  <>
                    <p data-testid="storage-persisted" data-persisted="false">
                      The browser may clear it when space runs low. You would then sign in again, and messages you wrote offline that have not
                      been sent yet would be lost.
                    </p>
                    <button type="button" class="btn" disabled={busy()} onClick={() => void ask()}>
                      Keep Parley's data on this device
                    </button>
                    <Show when={asked() === 'declined'}>
                      <p class="muted" role="status">
                        The browser declined for now. Installing Parley as an app, or allowing its notifications, usually lets it keep the data.
                      </p>
                    </Show>
                  </>
                }
              >
                <p data-testid="storage-persisted" data-persisted="true">
                  The browser keeps it until you sign out or clear the site's data.
                </p>
                <Show when={asked() === 'granted'}>
                  <p class="muted" role="status">
                    Done: Parley's data stays on this device.
                  </p>
                </Show>
              </Show>
            </>
          )}
        </Show>
      </Show>
    </section>
  );
}

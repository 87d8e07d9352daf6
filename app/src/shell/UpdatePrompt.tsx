/**
 * Registers the service worker (vite-plugin-pwa, registerType "prompt") and offers a reload when a new
 * version is waiting. The new worker takes over only when the user agrees, so a half-typed message is
 * never lost to a surprise reload.
 */
import { Show, type JSX } from 'solid-js';
import { useRegisterSW } from 'virtual:pwa-register/solid';
import { toast } from '../ui/toasts.tsx';

/** See module doc. */
export function UpdatePrompt(): JSX.Element {
  const {
    needRefresh: [needRefresh, setNeedRefresh],
    updateServiceWorker,
  } = useRegisterSW({
    immediate: true,
    onOfflineReady() {
      toast('Parley is ready to work offline.', 'success');
    },
    onRegisteredSW(_url, registration) {
      // Check for a new version hourly while the app stays open.
      if (registration) setInterval(() => void registration.update(), 60 * 60 * 1000);
    },
  });
  return (
    <Show when={needRefresh()}>
      <div class="banner banner-update" role="alert">
        <span>A new version of Parley is available.</span>
        <div class="button-row">
          <button type="button" class="btn btn-small btn-primary" onClick={() => void updateServiceWorker(true)}>
            Reload
          </button>
          <button type="button" class="btn btn-small btn-ghost" onClick={() => setNeedRefresh(false)}>
            Later
          </button>
        </div>
      </div>
    </Show>
  );
}

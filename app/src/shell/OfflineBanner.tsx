/** A banner while the device is offline; announced politely when it appears. */
import { Show, type JSX } from 'solid-js';
import { isOnline } from './online.ts';

/** See module doc. */
export function OfflineBanner(): JSX.Element {
  return (
    <div role="status" aria-live="polite" class="banner-slot">
      <Show when={!isOnline()}>
        <p class="banner banner-offline">
          <span class="banner-dot" aria-hidden="true" />
          You are offline. Parley keeps working with what is on this device and catches up when you reconnect.
        </p>
      </Show>
    </div>
  );
}

/**
 * PLACEHOLDER, to be replaced by the chat screens (app/src/chat/**).
 *
 * Contract with the shell (keep it, or change both sides together):
 * - Export `ChatApp(props: ChatAppProps)`; the shell lazy-loads this module on route `/` only when signed
 *   in, so everything imported from here (ParleyClient, Yjs, search) stays out of the initial bundle.
 * - `props.session` is the signed-in account (`SignedIn` from ../session.ts): `client` (the app's one
 *   `AccountClient`: `accessToken()` for the WebSocket's in-band auth, `keys`, `session`), `session`
 *   (`sessionId`, `userId`, `username`, `publicKeys`) and `keys` (unlocked `AccountKeys`, memory only;
 *   never copy them to localStorage or component state as strings).
 * - The component is unmounted on sign-out; dispose sockets/timers with `onCleanup`.
 * - Local data: name every IndexedDB database `parley-…` (see `LOCAL_DB_PREFIX` in ../keystore.ts) so the
 *   sign-out wipe deletes it. The shell provides the header (with the settings link), the offline banner,
 *   the update prompt and toasts (`toast` from ../ui/toasts.tsx); render inside the main outlet.
 * - Layout: the outlet is a full-height flex column (`.chat-root`); below 768 px show the list and a
 *   conversation as separate screens, side by side above.
 */
import type { JSX } from 'solid-js';
import type { SignedIn } from '../session.ts';

/** Props the shell passes to the chat screens. */
export interface ChatAppProps {
  session: SignedIn;
}

/** Placeholder chat home. */
export function ChatApp(props: ChatAppProps): JSX.Element {
  return (
    <div class="chat-root">
      <section class="empty-state" aria-labelledby="chat-empty-title">
        <h1 id="chat-empty-title">Welcome, {props.session.session.username}</h1>
        <p>Your conversations will appear here.</p>
      </section>
    </div>
  );
}

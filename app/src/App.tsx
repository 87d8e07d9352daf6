import type { JSX } from 'solid-js';

/** Placeholder shell until the app issue lands: proves the build, the CSP and the service worker. */
export function App(): JSX.Element {
  return (
    <main class="placeholder">
      <h1>Parley</h1>
      <p>End-to-end-encrypted chat. The app is being built; the server is up.</p>
    </main>
  );
}

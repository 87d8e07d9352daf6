/* @refresh reload */
import './zod-config.ts';
import { render } from 'solid-js/web';
import { App } from './App.tsx';
import { restoreSession } from './session.ts';
import { claimTab } from './shell/tab-lock.ts';
import { TabGate } from './shell/TabGate.tsx';
import { initTheme } from './theme.ts';
import './styles.css';

initTheme();
// Nothing reads the device's storage before this tab holds it (one running tab per device, tab-lock.ts).
void claimTab().then(() => restoreSession());
const root = document.getElementById('root');
if (root) {
  // Remove the static first-paint markup from index.html; Solid appends rather than replaces.
  root.textContent = '';
  render(
    () => (
      <TabGate>
        <App />
      </TabGate>
    ),
    root,
  );
}

/* @refresh reload */
import './zod-config.ts';
import { render } from 'solid-js/web';
import { App } from './App.tsx';
import { restoreSession } from './session.ts';
import { initTheme } from './theme.ts';
import './styles.css';

initTheme();
void restoreSession();
const root = document.getElementById('root');
if (root) {
  // Remove the static first-paint markup from index.html; Solid appends rather than replaces.
  root.textContent = '';
  render(() => <App />, root);
}

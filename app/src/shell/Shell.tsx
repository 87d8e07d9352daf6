/**
 * The app frame around every route: skip link, header, offline banner, update prompt, toasts and the
 * main outlet.
 */
import { Show, type JSX } from 'solid-js';
import { A } from '@solidjs/router';
import { signedIn } from '../session.ts';
import { ToastRegion } from '../ui/toasts.tsx';
import { OfflineBanner } from './OfflineBanner.tsx';
import { ThemeToggle } from './ThemeToggle.tsx';
import { UpdatePrompt } from './UpdatePrompt.tsx';

/** Props: the routed content. */
export function Shell(props: { children?: JSX.Element }): JSX.Element {
  return (
    <div class="shell">
      <a
        class="skip-link"
        href="#main"
        onClick={(e) => {
          e.preventDefault();
          document.getElementById('main')?.focus();
        }}
      >
        Skip to content
      </a>
      <header class="app-header">
        <A href="/" class="brand" aria-label="Parley home">
          <img src="/icon.svg" alt="" width="28" height="28" />
          <span class="brand-name">Parley</span>
        </A>
        <nav class="header-actions" aria-label="App">
          <ThemeToggle />
          <Show when={signedIn()}>
            <A href="/settings" class="btn btn-ghost" activeClass="is-active" end>
              Settings
            </A>
          </Show>
        </nav>
      </header>
      <OfflineBanner />
      <UpdatePrompt />
      <main id="main" class="app-main" tabindex="-1">
        {props.children}
      </main>
      <ToastRegion />
    </div>
  );
}

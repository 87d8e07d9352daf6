/**
 * Light/dark theme: follows the system (prefers-color-scheme) unless the user picks one; the choice (and
 * nothing else) is kept in localStorage. Applied as `data-theme` on <html>; CSS does the rest.
 */
import { createSignal } from 'solid-js';

/** The user's choice. */
export type ThemeChoice = 'system' | 'light' | 'dark';
/** The only localStorage key the app writes. */
export const THEME_STORAGE_KEY = 'parley.theme';

function read(): ThemeChoice {
  try {
    const v = localStorage.getItem(THEME_STORAGE_KEY);
    return v === 'light' || v === 'dark' ? v : 'system';
  } catch {
    return 'system';
  }
}

const [theme, setThemeSignal] = createSignal<ThemeChoice>(read());

function apply(choice: ThemeChoice): void {
  const root = document.documentElement;
  if (choice === 'system') delete root.dataset.theme;
  else root.dataset.theme = choice;
  const dark = choice === 'dark' || (choice === 'system' && matchMedia('(prefers-color-scheme: dark)').matches);
  document.querySelector('meta[name="theme-color"]')?.setAttribute('content', dark ? '#111827' : '#2c4f7c');
}

/** The current choice (reactive). */
export const themeChoice = theme;

/** Sets, persists and applies a theme choice. */
export function setTheme(choice: ThemeChoice): void {
  setThemeSignal(choice);
  try {
    if (choice === 'system') localStorage.removeItem(THEME_STORAGE_KEY);
    else localStorage.setItem(THEME_STORAGE_KEY, choice);
  } catch {
    // storage disabled: the choice lasts for this page only
  }
  apply(choice);
}

/** Applies the stored choice at startup and follows system changes while on "system". */
export function initTheme(): void {
  apply(theme());
  matchMedia('(prefers-color-scheme: dark)').addEventListener('change', () => apply(theme()));
}

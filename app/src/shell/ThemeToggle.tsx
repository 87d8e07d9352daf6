/** Header button cycling System → Light → Dark; its label says what it switches to. */
import type { JSX } from 'solid-js';
import { setTheme, themeChoice, type ThemeChoice } from '../theme.ts';

const NEXT: Record<ThemeChoice, ThemeChoice> = { system: 'light', light: 'dark', dark: 'system' };
const ICON: Record<ThemeChoice, string> = { system: '◐', light: '☀', dark: '☾' };

/** See module doc. */
export function ThemeToggle(): JSX.Element {
  return (
    <button
      type="button"
      class="btn btn-icon"
      aria-label={`Theme: ${themeChoice()}. Switch to ${NEXT[themeChoice()]}`}
      title={`Theme: ${themeChoice()}`}
      onClick={() => setTheme(NEXT[themeChoice()])}
    >
      <span aria-hidden="true">{ICON[themeChoice()]}</span>
    </button>
  );
}

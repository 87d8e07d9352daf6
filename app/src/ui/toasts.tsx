/**
 * Toasts: short confirmations ("Copied", "Signed out") announced politely by screen readers. The region
 * is always in the DOM so assistive tech registers it before the first message.
 */
import { createSignal, For, type JSX } from 'solid-js';

/** A toast's tone. */
export type ToastKind = 'info' | 'success' | 'error';
interface Toast {
  id: number;
  text: string;
  kind: ToastKind;
}

const [toasts, setToasts] = createSignal<readonly Toast[]>([]);
let nextId = 1;

/** Shows `text` for a few seconds (errors stay longer). */
export function toast(text: string, kind: ToastKind = 'info'): void {
  const id = nextId++;
  setToasts((list) => [...list.slice(-2), { id, text, kind }]);
  setTimeout(() => dismiss(id), kind === 'error' ? 8000 : 4000);
}

function dismiss(id: number): void {
  setToasts((list) => list.filter((t) => t.id !== id));
}

/** The live region that renders toasts. Mount once, in the shell. */
export function ToastRegion(): JSX.Element {
  return (
    <div class="toasts" role="status" aria-live="polite" aria-relevant="additions">
      <For each={toasts()}>
        {(t) => (
          <div class={`toast toast-${t.kind}`}>
            <span>{t.text}</span>
            <button type="button" class="toast-close" aria-label="Dismiss notification" onClick={() => dismiss(t.id)}>
              ×
            </button>
          </div>
        )}
      </For>
    </div>
  );
}

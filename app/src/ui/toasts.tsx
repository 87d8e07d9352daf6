/**
 * Toasts: short confirmations ("Copied", "Signed out") announced politely by screen readers. The region
 * is always in the DOM so assistive tech registers it before the first message. At most three show at once,
 * at the top of the window (at the bottom they covered the composer on phones). A toast given a `key`
 * replaces the one showing under that key (e.g. one toast per conversation for new messages, not one per
 * message) and `dismissToasts(key)` takes it away (e.g. when that conversation is opened).
 */
import { createSignal, For, type JSX } from 'solid-js';

/** A toast's tone. */
export type ToastKind = 'info' | 'success' | 'error';
interface Toast {
  id: number;
  text: string;
  kind: ToastKind;
  key?: string;
}

const [toasts, setToasts] = createSignal<readonly Toast[]>([]);
let nextId = 1;

/** Shows `text` for a few seconds (errors stay longer); with `key`, in place of the toast showing under it. */
export function toast(text: string, kind: ToastKind = 'info', key?: string): void {
  const id = nextId++;
  const t: Toast = key === undefined ? { id, text, kind } : { id, text, kind, key };
  setToasts((list) => [...list.filter((o) => key === undefined || o.key !== key).slice(-2), t]);
  setTimeout(() => dismiss(id), kind === 'error' ? 8000 : 4000);
}

/** Whether a toast under `key` is showing. */
export function hasToast(key: string): boolean {
  return toasts().some((t) => t.key === key);
}

/** Takes away the toast showing under `key`, if any. */
export function dismissToasts(key: string): void {
  setToasts((list) => list.filter((t) => t.key !== key));
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

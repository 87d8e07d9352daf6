/** `navigator.onLine` as a signal, kept current by the online/offline events. */
import { createSignal } from 'solid-js';

const [online, setOnline] = createSignal(typeof navigator === 'undefined' ? true : navigator.onLine);
if (typeof window !== 'undefined') {
  window.addEventListener('online', () => setOnline(true));
  window.addEventListener('offline', () => setOnline(false));
}

/** True while the browser believes it is online (reactive). */
export const isOnline = online;

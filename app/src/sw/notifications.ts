/**
 * The service-worker half of system notifications, compiled to `sw-notifications.js` by the build (see
 * vite.config.ts) and loaded into the generated worker with `importScripts`. It is a classic script, so
 * it has no imports or exports and keeps its names inside a block.
 *
 * A click on a notification focuses an open Parley window and asks it to open the conversation (the page
 * checks the message with zod before acting on it), or opens a new window at `/?c=<conversation id>`.
 * Android Chrome only shows notifications through the service worker, so the page uses this path wherever
 * a worker is registered.
 */
{
  const sw = self as unknown as ServiceWorkerGlobalScope;
  const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

  sw.addEventListener('notificationclick', (event) => {
    event.notification.close();
    const data: unknown = event.notification.data;
    const raw = typeof data === 'object' && data !== null && 'convId' in data ? data.convId : undefined;
    const convId = typeof raw === 'string' && UUID.test(raw) ? raw : undefined;
    event.waitUntil(
      (async () => {
        const windows = await sw.clients.matchAll({ type: 'window', includeUncontrolled: true });
        const win = windows.find((w) => new URL(w.url).origin === sw.location.origin);
        if (win) {
          await win.focus();
          if (convId) win.postMessage({ type: 'parley/open-conversation', convId });
          return;
        }
        await sw.clients.openWindow(convId ? `/?c=${convId}` : '/');
      })(),
    );
  });
}

/**
 * The service-worker half of system notifications, compiled to `sw-notifications.js` by the build (see
 * vite.config.ts) and loaded into the generated worker with `importScripts`. It is a classic script, so
 * it has no imports or exports and keeps its names inside a block.
 *
 * A click on a notification focuses the Parley window that runs the app and asks it to open the conversation
 * (the page checks the message with zod before acting on it), or opens a new window at `/?c=<conversation id>`.
 * Only one tab runs the app (src/shell/tab-lock.ts); with several windows open, the worker asks each one over a
 * MessageChannel and picks the one that answers that it runs (a waiting tab answers no; one that does not
 * answer within `ASK_MS` counts as no; if none says yes, the first window is used, as with one window).
 * Android Chrome only shows notifications through the service worker, so the page uses this path wherever
 * a worker is registered.
 */
{
  const sw = self as unknown as ServiceWorkerGlobalScope;
  const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
  const ASK_MS = 500;

  /** Whether `win` says it runs the app (tab-lock.ts answers `parley/who-runs`); false without an answer in time. */
  const runsApp = (win: WindowClient): Promise<boolean> =>
    new Promise((resolve) => {
      const ch = new MessageChannel();
      const done = (running: boolean) => {
        clearTimeout(timer);
        ch.port1.close();
        resolve(running);
      };
      const timer = setTimeout(() => done(false), ASK_MS);
      ch.port1.onmessage = (e: MessageEvent) => {
        const d: unknown = e.data;
        done(typeof d === 'object' && d !== null && 'type' in d && d.type === 'parley/runs' && 'running' in d && d.running === true);
      };
      win.postMessage({ type: 'parley/who-runs' }, [ch.port2]);
    });

  /** The window to focus: the one running the app, else the first. */
  const pickWindow = async (windows: readonly WindowClient[]): Promise<WindowClient | undefined> => {
    if (windows.length < 2) return windows[0];
    const answers = await Promise.all(windows.map(runsApp));
    return windows[answers.indexOf(true)] ?? windows[0];
  };

  sw.addEventListener('notificationclick', (event) => {
    event.notification.close();
    const data: unknown = event.notification.data;
    const raw = typeof data === 'object' && data !== null && 'convId' in data ? data.convId : undefined;
    const convId = typeof raw === 'string' && UUID.test(raw) ? raw : undefined;
    event.waitUntil(
      (async () => {
        const windows = await sw.clients.matchAll({ type: 'window', includeUncontrolled: true });
        const win = await pickWindow(windows.filter((w) => new URL(w.url).origin === sw.location.origin));
        if (win) {
          // Focusing can be refused (no user activation); the conversation still opens in that window.
          await win.focus().catch(() => undefined);
          if (convId) win.postMessage({ type: 'parley/open-conversation', convId });
          return;
        }
        await sw.clients.openWindow(convId ? `/?c=${convId}` : '/');
      })(),
    );
  });
}

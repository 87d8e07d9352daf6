/**
 * One Parley tab at a time. Every tab of an origin shares the device's IndexedDB: its device id, keys, frame and
 * message counters and cached documents, each tab with its own in-memory view of them. Two tabs sending at about
 * the same time hand out the same counters and message ids, and receivers keep only the first ([FRAME-7],
 * [INNER-9]): measured without this guard (two pages of one Chromium context, both sending at once five
 * times), the peer got 1 of the second tab's 5 messages, with no notice. They would also write over each
 * other's cached documents and race each other's token refreshes. So the app starts
 * only in the tab that holds the Web Lock `LOCK`; another tab shows "Parley is open in another tab" and offers
 * "Use here", which asks the holder (over a BroadcastChannel) to stop and hand the lock over.
 *
 * Statuses: `checking` (start-up, usually a few milliseconds), `active` (this tab holds the lock and runs the
 * app), `elsewhere` (a live tab holds it), `switching` ("Use here" was pressed; waiting for the lock),
 * `handing-over` (another tab asked for the lock; this one is stopping). A tab that finds the lock held queues a
 * request and pings: a lock held by a document going away (this very tab before a reload) comes to it by itself,
 * so a reload never shows `elsewhere`; only a holder that answers the ping (or none within `ANSWER_MS`) does.
 * A tab showing `elsewhere` does not stay in the queue (a reload of the running tab must not hand Parley to a
 * tab in the background); it checks again whenever it becomes visible, so closing the other tab and coming back
 * continues here. When a notification is clicked, the service worker asks each window whether it runs the app
 * and focuses that one (a waiting tab answers no). Without Web Locks or BroadcastChannel (an insecure origin) the app runs unguarded.
 */
import { createSignal } from 'solid-js';
import { withTimeout } from '@parley/shared/client';
import { z } from 'zod';

/** Name of the Web Lock the running tab holds. */
export const LOCK = 'parley:app';
/** BroadcastChannel name of the tabs' messages. */
export const CHANNEL = 'parley:tabs';
/** How long stopping the app may take before a tab hands the lock over anyway. */
const HAND_OVER_MS = 3000;
/** How long a tab waits for the holder's answer before it shows `elsewhere` anyway (an unresponsive holder). */
const ANSWER_MS = 1500;
/** How long "Use here" waits for the lock before it offers the button again (the holder did not hand over). */
const SWITCH_MS = HAND_OVER_MS + 3000;

const TabMessage = z.discriminatedUnion('type', [
  z.object({ type: z.literal('ping'), from: z.string().max(64) }).strict(),
  z.object({ type: z.literal('here'), from: z.string().max(64) }).strict(),
  z.object({ type: z.literal('take-over'), from: z.string().max(64) }).strict(),
]);
type TabMessage = z.infer<typeof TabMessage>;

/** The service worker asks every window which one runs the app before it focuses one (src/sw/notifications.ts). */
const WhoRuns = z.object({ type: z.literal('parley/who-runs') }).strict();

/** See the module comment. */
export type TabStatus = 'checking' | 'active' | 'elsewhere' | 'switching' | 'handing-over';

const [status, setStatus] = createSignal<TabStatus>('checking');
/** This tab's status (reactive). */
export const tabStatus = status;

const handOvers = new Set<() => Promise<void>>();

/**
 * Registers work to finish before this tab hands the lock to another one (e.g. stopping the chat client, which
 * closes its sockets and storage). Returns the unregister function.
 */
export function onHandOver(stop: () => Promise<void>): () => void {
  handOvers.add(stop);
  return () => {
    handOvers.delete(stop);
  };
}

const id = typeof crypto.randomUUID === 'function' ? crypto.randomUUID() : String(Math.random()).slice(2);
let channel: BroadcastChannel | undefined;
let queued: AbortController | undefined;
let release: (() => void) | undefined;
let activated: () => void = () => undefined;
const whenActive = new Promise<void>((resolve) => (activated = resolve));

function post(type: TabMessage['type']): void {
  channel?.postMessage({ type, from: id } satisfies TabMessage);
}

/** Holds the lock until `release` is called (or the page goes away). */
function hold(): Promise<void> {
  queued = undefined;
  setStatus('active');
  activated();
  return new Promise<void>((r) => (release = r));
}

/** Queues a request for the lock (granted when the holder releases it or goes away). */
function queue(): void {
  queued?.abort();
  const ac = new AbortController();
  queued = ac;
  navigator.locks.request(LOCK, { signal: ac.signal }, () => hold()).catch(() => undefined); // aborted: re-queued
}

async function handOver(): Promise<void> {
  setStatus('handing-over');
  await withTimeout(Promise.allSettled([...handOvers].map((stop) => stop())), HAND_OVER_MS);
  release?.();
  // This page's app state (signals, a closed client) is stale now; a fresh load shows "open in another tab".
  location.reload();
}

function onMessage(data: unknown): void {
  const m = TabMessage.safeParse(data);
  if (!m.success || m.data.from === id) return;
  switch (m.data.type) {
    case 'ping':
      if (status() === 'active') post('here');
      break;
    case 'here':
      if (status() === 'checking') {
        queued?.abort();
        queued = undefined;
        setStatus('elsewhere');
      }
      break;
    case 'take-over':
      if (status() === 'active') void handOver();
      // Another waiting tab asked: get in line behind it, so the lock goes to the tab the user chose.
      else if (queued) queue();
      break;
  }
}

/** Answers the service worker's `parley/who-runs` on the port it sent: whether this tab runs the app. */
function onWorkerMessage(event: MessageEvent): void {
  if (!WhoRuns.safeParse(event.data).success) return;
  event.ports[0]?.postMessage({ type: 'parley/runs', running: status() === 'active' });
}

/**
 * Starts the claim (once, before anything touches IndexedDB) and resolves when this tab holds the lock and may
 * start the app.
 */
export function claimTab(): Promise<void> {
  if (channel || status() !== 'checking') return whenActive;
  navigator.serviceWorker?.addEventListener('message', onWorkerMessage);
  if (typeof navigator.locks?.request !== 'function' || typeof BroadcastChannel !== 'function') {
    setStatus('active');
    activated();
    return whenActive;
  }
  channel = new BroadcastChannel(CHANNEL);
  channel.onmessage = (e: MessageEvent) => onMessage(e.data);
  void navigator.locks.request(LOCK, { ifAvailable: true }, (lock) => {
    if (lock) return hold();
    // Held: by a live tab (it answers the ping) or by a document going away, whose lock then comes to us.
    queue();
    post('ping');
    setTimeout(() => {
      if (status() === 'checking') setStatus('elsewhere'); // no answer: stays queued for that holder's lock
    }, ANSWER_MS);
    return undefined;
  });
  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState === 'visible') retry();
  });
  return whenActive;
}

/** In `elsewhere`, out of the queue: takes the lock if the other tab has gone meanwhile. */
function retry(): void {
  if (status() !== 'elsewhere' || queued) return;
  void navigator.locks.request(LOCK, { ifAvailable: true }, (lock) => (lock && status() === 'elsewhere' && !queued ? hold() : undefined));
}

/** "Use here": queues for the lock and asks the running tab to hand it over (other waiting tabs step behind). */
export function useHere(): void {
  if (status() !== 'elsewhere') return;
  setStatus('switching');
  queue();
  post('take-over');
  setTimeout(() => {
    if (status() === 'switching') setStatus('elsewhere'); // still queued: the lock comes when that tab closes
  }, SWITCH_MS);
}

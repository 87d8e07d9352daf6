/**
 * Notifications: an in-app toast for a message in another conversation, the unread count in the tab title
 * and the app badge, and system notifications while the page is hidden. Permission is only ever requested
 * from a click on a visible button (`requestPermission`), never on load.
 */
import { createSignal, type Accessor } from 'solid-js';
import { z } from 'zod';
import { isClientError } from '@parley/shared/client';
import { errorText } from '../errors.ts';
import { dismissToasts, hasToast, toast } from '../ui/toasts.tsx';
import type { IncomingMessage } from './chat-store.ts';
import { contentPreview } from './message-preview.ts';

type Permission = NotificationPermission | 'unsupported';

function currentPermission(): Permission {
  return typeof Notification === 'undefined' ? 'unsupported' : Notification.permission;
}

const [permission, setPermission] = createSignal<Permission>(currentPermission());

/** The system-notification permission (reactive). */
export const notificationPermission: Accessor<Permission> = permission;

/** Asks for permission (call from a click handler only). */
export async function requestPermission(): Promise<void> {
  if (typeof Notification === 'undefined') return;
  try {
    setPermission(await Notification.requestPermission());
  } catch {
    setPermission(currentPermission());
  }
}

/** Messages counted in the toast showing for each conversation. */
const toasted = new Map<string, number>();
const toastKey = (convId: string) => `incoming:${convId}`;

/** Notifications the page made itself (no service worker), by conversation. */
const pageNotifications = new Map<string, Notification>();

/**
 * Takes away the new-message toast and the system notifications of a conversation: call when it is opened,
 * or when its messages were read on another device (its unread count fell to 0).
 */
export function dismissIncoming(convId: string): void {
  toasted.delete(convId);
  dismissToasts(toastKey(convId));
  pageNotifications.get(convId)?.close();
  pageNotifications.delete(convId);
  void navigator.serviceWorker
    ?.getRegistration()
    .then((r) => r?.getNotifications({ tag: convId }))
    .then((list) => {
      for (const n of list ?? []) n.close();
    })
    .catch(() => undefined);
}

/**
 * Reacts to a new message from someone else. `open` switches to its conversation (the system notification's
 * click does that too). A conversation has one toast at a time: the next message replaces it and counts
 * ("3 new messages from Cat: …"), so a burst does not stack toasts.
 */
export function notifyIncoming(m: IncomingMessage, activeId: string | undefined, open: (convId: string) => void): void {
  const hidden = document.visibilityState === 'hidden';
  // Text, else words for its files ("📎 report.pdf"): a file-only message must not read as an empty one.
  const body = contentPreview(m.message, 140);
  if (!hidden && m.convId !== activeId) {
    const key = toastKey(m.convId);
    const n = hasToast(key) ? (toasted.get(m.convId) ?? 1) + 1 : 1;
    toasted.set(m.convId, n);
    const short = contentPreview(m.message, 60);
    const head =
      m.kind === 'direct'
        ? n === 1
          ? `New message from ${m.sender}`
          : `${n} new messages from ${m.sender}`
        : n === 1
          ? `${m.sender} in ${m.convTitle}`
          : `${n} new messages in ${m.convTitle} · ${m.sender}`;
    toast(short ? `${head}: ${short}` : head, 'info', key);
  }
  if (hidden && currentPermission() === 'granted') {
    void showSystemNotification(m.kind === 'direct' ? m.sender : `${m.sender} in ${m.convTitle}`, body, m.convId, open);
  }
}

/**
 * Shows a system notification: through the service worker when one is registered (the only way on Android
 * Chrome; its click handler is src/sw/notifications.ts and reaches the page via `onOpenConversationRequest`),
 * otherwise with the page's `Notification` constructor. Failures are swallowed: the badge and title still
 * update.
 */
async function showSystemNotification(title: string, body: string, convId: string, open: (convId: string) => void): Promise<void> {
  const options = { body, tag: convId, icon: '/icon-192.png' };
  try {
    const registration = await navigator.serviceWorker?.getRegistration();
    if (registration?.active) {
      await registration.showNotification(title, { ...options, data: { convId } });
      return;
    }
  } catch {
    // fall through to the page's constructor
  }
  try {
    const n = new Notification(title, options);
    pageNotifications.set(convId, n);
    n.onclose = () => {
      if (pageNotifications.get(convId) === n) pageNotifications.delete(convId);
    };
    n.onclick = () => {
      window.focus();
      open(convId);
      n.close();
    };
  } catch {
    // Some platforms allow notifications only from a service worker, and there is none.
  }
}

/** What the service worker posts when a notification is clicked. */
const OpenConversationRequest = z.object({ type: z.literal('parley/open-conversation'), convId: z.uuid() }).strict();

/** Calls `open` when the service worker relays a notification click; returns a function that stops listening. */
export function onOpenConversationRequest(open: (convId: string) => void): () => void {
  const container = navigator.serviceWorker;
  if (!container) return () => undefined;
  const listener = (event: MessageEvent) => {
    const r = OpenConversationRequest.safeParse(event.data);
    if (r.success) open(r.data.convId);
  };
  container.addEventListener('message', listener);
  return () => container.removeEventListener('message', listener);
}

/** Shows the total unread count in the title ("(3) Parley") and on the app icon where supported. */
export function showUnread(total: number, baseTitle: string): void {
  document.title = total > 0 ? `(${total}) ${baseTitle}` : baseTitle;
  const nav = navigator as Navigator & { setAppBadge?: (n?: number) => Promise<void>; clearAppBadge?: () => Promise<void> };
  try {
    if (total > 0) void nav.setAppBadge?.(total)?.catch(() => undefined);
    else void nav.clearAppBadge?.()?.catch(() => undefined);
  } catch {
    // Badging is optional.
  }
}

/** A sentence for an error from a chat action. */
export function chatErrorText(e: unknown): string {
  if (isClientError(e, 'not_found', 'invalid_input')) return e.message.endsWith('.') ? e.message : `${e.message}.`;
  if (isClientError(e, 'forbidden')) return 'Only group admins can do that (or you are no longer a member).';
  if (isClientError(e, 'conflict')) return 'Someone else changed this at the same moment. Please try again.';
  return errorText(e);
}

/**
 * Time labels for the chat screens: short relative labels for lists, exact times for titles and screen
 * readers, and day names for separators. All in the user's locale.
 */
import { createSignal, onCleanup, type Accessor } from 'solid-js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

function startOfDay(ts: number): number {
  const d = new Date(ts);
  d.setHours(0, 0, 0, 0);
  return d.getTime();
}

/** A clock that ticks every 30 s (so "2 min ago" stays true); stops with the owner. */
export function useNow(intervalMs = 30_000): Accessor<number> {
  const [now, setNow] = createSignal(Date.now());
  const t = setInterval(() => setNow(Date.now()), intervalMs);
  onCleanup(() => clearInterval(t));
  return now;
}

/** "14:32". */
export function clockTime(ts: number): string {
  return new Date(ts).toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit' });
}

/** "Monday 3 March 2025 at 14:32:05": the exact time for titles and long-press. */
export function exactTime(ts: number): string {
  return new Date(ts).toLocaleString(undefined, {
    weekday: 'long',
    year: 'numeric',
    month: 'long',
    day: 'numeric',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
  });
}

/** Relative label for a message: "just now", "5 min ago", then the clock time (today) or day + time. */
export function messageTime(ts: number, now: number): string {
  const diff = now - ts;
  if (diff < MINUTE) return 'just now';
  if (diff < HOUR) return `${Math.floor(diff / MINUTE)} min ago`;
  return clockTime(ts);
}

/** Compact label for the conversation list: "now", "5 min", "14:32", "Yesterday", "Mon", "3 Mar". */
export function listTime(ts: number, now: number): string {
  const diff = now - ts;
  if (diff < MINUTE) return 'now';
  if (diff < HOUR) return `${Math.floor(diff / MINUTE)} min`;
  const today = startOfDay(now);
  if (ts >= today) return clockTime(ts);
  if (ts >= today - DAY) return 'Yesterday';
  if (ts >= today - 6 * DAY) return new Date(ts).toLocaleDateString(undefined, { weekday: 'short' });
  const sameYear = new Date(ts).getFullYear() === new Date(now).getFullYear();
  return new Date(ts).toLocaleDateString(undefined, sameYear ? { day: 'numeric', month: 'short' } : { day: 'numeric', month: 'short', year: 'numeric' });
}

/** Day separator label: "Today", "Yesterday", or "Monday, 3 March 2025". */
export function dayLabel(ts: number, now: number): string {
  const day = startOfDay(ts);
  const today = startOfDay(now);
  if (day === today) return 'Today';
  if (day === today - DAY || (day < today && today - day < DAY + HOUR)) return 'Yesterday';
  return new Date(ts).toLocaleDateString(undefined, { weekday: 'long', year: 'numeric', month: 'long', day: 'numeric' });
}

/** True when two timestamps fall on the same local day. */
export function sameDay(a: number, b: number): boolean {
  return startOfDay(a) === startOfDay(b);
}

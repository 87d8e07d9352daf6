/**
 * Time labels for the chat screens: short relative labels for lists, exact times for titles and screen
 * readers, and day names for separators. All in the user's locale: the relative words ("today", "yesterday",
 * "now", "5 min ago") come from `Intl.RelativeTimeFormat`, so they match the dates around them; English keeps
 * its short forms ("just now", "5 min ago", "5 min"). Clock times use `hour: 'numeric'` where the locale uses a
 * 12-hour clock ("9:05 AM", not "09:05 AM") and two digits for a 24-hour clock ("09:05").
 * Every formatter takes an optional `locale` (tests); the default is the browser's.
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

/** The next local midnight after `ts` (a DST day may be 23 or 25 hours long). */
export function nextMidnight(ts: number): number {
  const d = new Date(ts);
  d.setHours(24, 0, 0, 0);
  return d.getTime();
}

/**
 * A clock for time labels; stops with the owner. It ticks every `intervalMs` (so "2 min ago" stays true),
 * exactly at local midnight (so day labels never say "Today" for yesterday), and when the page becomes
 * visible, gets focus or is shown again (after a laptop wakes, a tab comes back, a page leaves the bfcache).
 */
export function useNow(intervalMs = 30_000): Accessor<number> {
  const [now, setNow] = createSignal(Date.now());
  let midnight: ReturnType<typeof setTimeout> | undefined;
  let target = 0;
  const armMidnight = () => {
    clearTimeout(midnight);
    const t = Date.now();
    target = nextMidnight(t);
    midnight = setTimeout(onMidnight, target - t);
  };
  function onMidnight(): void {
    const t = Date.now();
    if (t < target) {
      midnight = setTimeout(onMidnight, target - t); // fired early (clock changed): wait for the rest
      return;
    }
    setNow(t);
    armMidnight();
  }
  /** After sleep or a clock change, timers may be late: read the clock now and re-arm midnight. */
  const wake = () => {
    if (typeof document !== 'undefined' && document.visibilityState === 'hidden') return;
    setNow(Date.now());
    armMidnight();
  };
  const interval = setInterval(() => setNow(Date.now()), intervalMs);
  armMidnight();
  const hasWindow = typeof window !== 'undefined';
  if (hasWindow) {
    document.addEventListener('visibilitychange', wake);
    window.addEventListener('focus', wake);
    window.addEventListener('pageshow', wake);
  }
  onCleanup(() => {
    clearInterval(interval);
    clearTimeout(midnight);
    if (hasWindow) {
      document.removeEventListener('visibilitychange', wake);
      window.removeEventListener('focus', wake);
      window.removeEventListener('pageshow', wake);
    }
  });
  return now;
}

interface Formats {
  english: boolean;
  locale: string;
  rel: Intl.RelativeTimeFormat;
  minutes: Intl.NumberFormat;
  hour: 'numeric' | '2-digit';
}
const formats = new Map<string, Formats>();

/** Formatters for `locale` (undefined: the browser's), made once per locale. */
function fmt(locale?: string): Formats {
  const key = locale ?? '';
  let f = formats.get(key);
  if (!f) {
    const rel = new Intl.RelativeTimeFormat(locale, { numeric: 'auto', style: 'short' });
    const resolved = rel.resolvedOptions().locale;
    const cycle = new Intl.DateTimeFormat(locale, { hour: 'numeric' }).resolvedOptions().hourCycle;
    f = {
      english: /^en\b/i.test(resolved),
      locale: resolved,
      rel,
      minutes: new Intl.NumberFormat(locale, { style: 'unit', unit: 'minute', unitDisplay: 'short' }),
      hour: cycle === 'h11' || cycle === 'h12' ? 'numeric' : '2-digit',
    };
    formats.set(key, f);
  }
  return f;
}

/** `s` with its first letter upper-cased (for a word that starts a label: "today" -> "Today"). */
function capitalised(s: string, locale: string): string {
  const first = s.codePointAt(0);
  if (first === undefined) return s;
  const ch = String.fromCodePoint(first);
  return ch.toLocaleUpperCase(locale) + s.slice(ch.length);
}

/** "14:32", "9:05 AM". */
export function clockTime(ts: number, locale?: string): string {
  return new Date(ts).toLocaleTimeString(locale, { hour: fmt(locale).hour, minute: '2-digit' });
}

/** "Monday 3 March 2025 at 14:32:05": the exact time for titles and long-press. */
export function exactTime(ts: number, locale?: string): string {
  return new Date(ts).toLocaleString(locale, {
    weekday: 'long',
    year: 'numeric',
    month: 'long',
    day: 'numeric',
    hour: fmt(locale).hour,
    minute: '2-digit',
    second: '2-digit',
  });
}

/** Relative label for a message: "just now", "5 min ago", then the clock time. */
export function messageTime(ts: number, now: number, locale?: string): string {
  const diff = now - ts;
  const f = fmt(locale);
  if (diff < MINUTE) return f.english ? 'just now' : f.rel.format(0, 'second');
  if (diff < HOUR) {
    const min = Math.floor(diff / MINUTE);
    return f.english ? `${min} min ago` : f.rel.format(-min, 'minute');
  }
  return clockTime(ts, locale);
}

/** Compact label for the conversation list: "now", "5 min", "14:32", "Yesterday", "Mon", "3 Mar". */
export function listTime(ts: number, now: number, locale?: string): string {
  const diff = now - ts;
  const f = fmt(locale);
  if (diff < MINUTE) return f.english ? 'now' : f.rel.format(0, 'second');
  if (diff < HOUR) {
    const min = Math.floor(diff / MINUTE);
    return f.english ? `${min} min` : f.minutes.format(min);
  }
  const today = startOfDay(now);
  if (ts >= today) return clockTime(ts, locale);
  if (ts >= today - DAY) return capitalised(f.rel.format(-1, 'day'), f.locale);
  if (ts >= today - 6 * DAY) return new Date(ts).toLocaleDateString(locale, { weekday: 'short' });
  const sameYear = new Date(ts).getFullYear() === new Date(now).getFullYear();
  return new Date(ts).toLocaleDateString(locale, sameYear ? { day: 'numeric', month: 'short' } : { day: 'numeric', month: 'short', year: 'numeric' });
}

/** Day separator label: "Today", "Yesterday", or "Monday, 3 March 2025". */
export function dayLabel(ts: number, now: number, locale?: string): string {
  const day = startOfDay(ts);
  const today = startOfDay(now);
  const f = fmt(locale);
  if (day === today) return capitalised(f.rel.format(0, 'day'), f.locale);
  if (day === today - DAY || (day < today && today - day < DAY + HOUR)) return capitalised(f.rel.format(-1, 'day'), f.locale);
  return new Date(ts).toLocaleDateString(locale, { weekday: 'long', year: 'numeric', month: 'long', day: 'numeric' });
}

/** True when two timestamps fall on the same local day. */
export function sameDay(a: number, b: number): boolean {
  return startOfDay(a) === startOfDay(b);
}

/** Initials avatar with a stable colour per name (colour classes, no inline styles), and an online dot. */
import { Show, type JSX } from 'solid-js';

/** Up to two initials from a name ("Ana Maria" -> "AM", "bob" -> "B", "team-x" -> "TX"). */
export function initials(name: string): string {
  const words = name
    .trim()
    .split(/[\s._-]+/u)
    .filter(Boolean);
  const letters = words.length > 1 ? [words[0], words[1]] : [words[0] ?? '?'];
  return letters
    .map((w) => [...(w ?? '')][0] ?? '')
    .join('')
    .toUpperCase();
}

/** One of 8 palette classes, stable for a given key. */
export function colourClass(key: string): string {
  let h = 0;
  for (const ch of key) h = (h * 31 + (ch.codePointAt(0) ?? 0)) >>> 0;
  return `av-${h % 8}`;
}

/** Decorative avatar (the name is always next to it as text). */
export function Avatar(props: { name: string; colourKey?: string; online?: boolean; size?: 'sm' | 'md' | 'lg'; group?: boolean; src?: string | undefined }): JSX.Element {
  return (
    <span class={`avatar avatar-${props.size ?? 'md'} ${colourClass(props.colourKey ?? props.name)}`} aria-hidden="true">
      <Show when={props.src} fallback={<span class="avatar-initials">{props.group && props.name === '' ? '#' : initials(props.name)}</span>}>
        {(src) => <img class="avatar-img" src={src()} alt="" decoding="async" />}
      </Show>
      <Show when={props.online}>
        <span class="presence-dot" />
      </Show>
    </span>
  );
}

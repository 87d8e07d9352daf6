/**
 * Safe rendering of message text: plain text nodes, with http(s) URLs turned into links that open in a new
 * tab without a referrer or opener. Nothing is ever parsed as HTML; any other scheme (javascript:, data:)
 * stays text.
 */
import { For, type JSX } from 'solid-js';

const URL_RE = /\bhttps?:\/\/[^\s<>"'`]+/gi;
const TRAILING = /[.,;:!?)\]}'"]+$/;

/** A run of message text: plain, or a vetted http(s) link. */
export type TextPart = { kind: 'text'; text: string } | { kind: 'link'; text: string; href: string };

/** Splits `text` into plain runs and http(s) links (validated with the URL parser). */
export function splitLinks(text: string): TextPart[] {
  const parts: TextPart[] = [];
  let last = 0;
  for (const m of text.matchAll(URL_RE)) {
    let raw = m[0];
    const trail = TRAILING.exec(raw);
    // Keep a closing parenthesis that belongs to the URL ("…/Foo_(bar)").
    if (trail && !(trail[0] === ')' && raw.includes('('))) raw = raw.slice(0, raw.length - trail[0].length);
    const start = m.index ?? 0;
    let href: string | undefined;
    try {
      const u = new URL(raw);
      if (u.protocol === 'http:' || u.protocol === 'https:') href = u.href;
    } catch {
      href = undefined;
    }
    if (!href) continue;
    if (start > last) parts.push({ kind: 'text', text: text.slice(last, start) });
    parts.push({ kind: 'link', text: raw, href });
    last = start + raw.length;
  }
  if (last < text.length) parts.push({ kind: 'text', text: text.slice(last) });
  return parts;
}

/** Renders message text with safe links. */
export function RichText(props: { text: string }): JSX.Element {
  return (
    <For each={splitLinks(props.text)}>
      {(p) =>
        p.kind === 'link' ? (
          <a href={p.href} target="_blank" rel="noopener noreferrer nofollow">
            {p.text}
          </a>
        ) : (
          p.text
        )
      }
    </For>
  );
}

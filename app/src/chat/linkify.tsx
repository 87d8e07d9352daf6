/**
 * Safe rendering of message text: plain text nodes, with http(s) URLs turned into links that open in a new
 * tab without a referrer or opener. Nothing is ever parsed as HTML; any other scheme (javascript:, data:)
 * stays text.
 */
import { For, type JSX } from 'solid-js';

const URL_RE = /\bhttps?:\/\/[^\s<>"'`]+/gi;
/** Punctuation that ends a sentence or a bracket around a URL rather than the URL itself. */
const TRAILING = new Set(['.', ',', ';', ':', '!', '?', ')', ']', '}', "'", '"']);
/** Closing bracket -> its opening one. */
const OPENING: Readonly<Record<string, string>> = { ')': '(', ']': '[', '}': '{' };

function count(s: string, ch: string): number {
  let n = 0;
  for (const c of s) if (c === ch) n++;
  return n;
}

/**
 * Length of `raw` without its trailing punctuation. A closing bracket stays when the URL opened it
 * ("…/Foo_(bar)", "…/Foo_(bar)." and "(see …/Foo_(bar))" all keep the ")" of "(bar)"): trailing characters
 * are dropped from the end one by one, and a closing bracket only while the URL has more closing brackets
 * of its kind than opening ones.
 */
function urlEnd(raw: string): number {
  let end = raw.length;
  while (end > 0) {
    const ch = raw[end - 1]!;
    if (!TRAILING.has(ch)) break;
    const open = OPENING[ch];
    if (open !== undefined) {
      const s = raw.slice(0, end);
      if (count(s, open) >= count(s, ch)) break;
    }
    end--;
  }
  return end;
}

/** A run of message text: plain, or a vetted http(s) link. */
export type TextPart = { kind: 'text'; text: string } | { kind: 'link'; text: string; href: string };

/** Splits `text` into plain runs and http(s) links (validated with the URL parser). */
export function splitLinks(text: string): TextPart[] {
  const parts: TextPart[] = [];
  let last = 0;
  for (const m of text.matchAll(URL_RE)) {
    const raw = m[0].slice(0, urlEnd(m[0]));
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

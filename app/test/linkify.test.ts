/**
 * Links in message text (app/src/chat/linkify.tsx): trailing punctuation after a URL is not part of it,
 * except a closing bracket the URL itself opened ("…/Foo_(bar)" keeps its ")" before a full stop too).
 */
import { readFileSync } from 'node:fs';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import type { TextPart } from '../src/chat/linkify.tsx';

/**
 * `splitLinks` from the real source. The app's tsconfig keeps JSX for Solid's compiler ("jsx": "preserve"),
 * which vitest (no Solid plugin) cannot load, so the module is compiled here with TypeScript (JSX to plain
 * calls, never run: only `splitLinks` is used) and evaluated with a stub for solid-js.
 */
function loadSplitLinks(): (text: string) => TextPart[] {
  const source = readFileSync(new URL('../src/chat/linkify.tsx', import.meta.url), 'utf8');
  const js = ts.transpileModule(source, {
    compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, jsx: ts.JsxEmit.React },
  }).outputText;
  const exports: Record<string, unknown> = {};
  const require = (id: string) => {
    if (id === 'solid-js') return { For: () => null };
    throw new Error(`unexpected import ${id}`);
  };
  new Function('exports', 'require', 'React', js)(exports, require, { createElement: () => null });
  return exports.splitLinks as (text: string) => TextPart[];
}
const splitLinks = loadSplitLinks();

/** The links found in `text`, as [shown text, href]. */
const links = (text: string) => splitLinks(text).flatMap((p) => (p.kind === 'link' ? [[p.text, p.href]] : []));
const WIKI = 'https://en.wikipedia.org/wiki/Foo_(bar)';

describe('splitLinks', () => {
  it('keeps the closing parenthesis of a URL followed by punctuation', () => {
    expect(links(`${WIKI}.`)).toEqual([[WIKI, WIKI]]);
    expect(links(`(see ${WIKI})`)).toEqual([[WIKI, WIKI]]);
    expect(links('go to https://example.com/a_(b)!')).toEqual([['https://example.com/a_(b)', 'https://example.com/a_(b)']]);
    expect(links(`${WIKI}),`)).toEqual([[WIKI, WIKI]]);
    expect(links(`${WIKI}?!`)).toEqual([[WIKI, WIKI]]);
    expect(links(WIKI)).toEqual([[WIKI, WIKI]]);
    // Only unbalanced closing brackets go; a bracket pair in the URL (an IPv6 host) stays.
    expect(links('see https://example.com/path/a_(b))')).toEqual([['https://example.com/path/a_(b)', 'https://example.com/path/a_(b)']]);
    expect(links('http://[::1]:8080/x].')).toEqual([['http://[::1]:8080/x', 'http://[::1]:8080/x']]);
    const text = `Read ${WIKI}. Then (https://example.com).`;
    expect(splitLinks(text)).toEqual([
      { kind: 'text', text: 'Read ' },
      { kind: 'link', text: WIKI, href: WIKI },
      { kind: 'text', text: '. Then (' },
      { kind: 'link', text: 'https://example.com', href: 'https://example.com/' },
      { kind: 'text', text: ').' },
    ]);
  });

  it('still drops punctuation and brackets that only surround the URL', () => {
    const u = 'https://example.com/path';
    for (const [text, expected] of [
      [`${u}.`, u],
      [`${u},`, u],
      [`(${u})`, u],
      [`${u}!`, u],
      [`${u}?`, u],
      [`${u}...`, u],
      [`[x](${u})`, u],
      [`[x](${u}).`, u],
      [`<${u}>`, u],
      [`"${u}"`, u],
      [`'${u}'`, u],
      [`{${u}}`, u],
    ] as const)
      expect(links(text).map(([t]) => t), text).toEqual([expected]);
  });

  it('links upper-case and long URLs, keeps query strings, and leaves other schemes as text', () => {
    expect(links('HTTPS://EXAMPLE.COM/A')).toEqual([['HTTPS://EXAMPLE.COM/A', 'https://example.com/A']]);
    const long = `https://example.com/${'a'.repeat(400)}`;
    expect(links(`${long}.`)).toEqual([[long, long]]);
    expect(links('https://example.com/?q=1&r=(2)')).toEqual([['https://example.com/?q=1&r=(2)', 'https://example.com/?q=1&r=(2)']]);
    expect(links('javascript:alert(1) ftp://example.com mailto:a@example.com data:text/html,x')).toEqual([]);
  });
});

/**
 * Message search: a query box (prefix, typo-tolerant, accent-insensitive), filters by conversation and by
 * sender, and results that open the conversation scrolled to the message. Runs entirely on this device.
 */
import { createEffect, createMemo, createSignal, For, on, onCleanup, onMount, Show, type JSX } from 'solid-js';
import type { ChatStore } from '../chat/chat-store.ts';
import { listTime } from '../chat/time.ts';
import { textDir } from '../chat/text-dir.ts';
import { hitHeading } from './hit-heading.ts';
import type { SearchHit } from './protocol.ts';
import type { Search } from './search-client.ts';
import { markTerms } from './text.ts';

/** Props of `SearchPanel`. */
export interface SearchPanelProps {
  search: Search;
  store: ChatStore;
  now: number;
  onClose: () => void;
  onOpen: (convId: string, msgId: string) => void;
}

/** A window of `text` around the first hit, so long messages show the match. */
function snippet(text: string, terms: readonly string[], size = 160): string {
  const one = text.replace(/\s+/g, ' ');
  if (one.length <= size) return one;
  let at = 0;
  for (const p of markTerms(one, terms)) {
    if (p.hit) break;
    at += p.text.length;
  }
  // Never cut an emoji or a rare ideograph (a surrogate pair) in half.
  const low = (i: number) => i > 0 && i < one.length && (one.charCodeAt(i) & 0xfc00) === 0xdc00;
  let start = Math.max(0, Math.min(at - 40, one.length - size));
  if (low(start)) start--;
  let end = start + size;
  if (low(end)) end--;
  return `${start > 0 ? '…' : ''}${one.slice(start, end)}${end < one.length ? '…' : ''}`;
}

/** See the module comment. */
export function SearchPanel(props: SearchPanelProps): JSX.Element {
  const s = props.store;
  let input!: HTMLInputElement;
  const [q, setQ] = createSignal('');
  const [convId, setConvId] = createSignal('');
  const [author, setAuthor] = createSignal('');
  const [hits, setHits] = createSignal<SearchHit[]>([]);
  const [searched, setSearched] = createSignal(false);
  let timer: ReturnType<typeof setTimeout> | undefined;
  let seq = 0;
  onCleanup(() => clearTimeout(timer));
  onMount(() => input.focus());

  const senders = createMemo(() => {
    s.membersVersion();
    const ids = new Set<string>([s.me.userId]);
    for (const r of s.rows()) {
      if (convId() && r.id !== convId()) continue;
      for (const m of r.members) ids.add(m);
    }
    return [...ids].map((id) => ({ id, name: id === s.me.userId ? `${s.me.username} (you)` : s.nameOf(id) })).sort((a, b) => a.name.localeCompare(b.name));
  });

  createEffect(
    on([q, convId, author], ([query, c, a]) => {
      clearTimeout(timer);
      if (!query.trim()) {
        setHits([]);
        setSearched(false);
        return;
      }
      timer = setTimeout(() => {
        const mine = ++seq;
        void props.search.query(query, { ...(c ? { convId: c } : {}), ...(a ? { author: a } : {}) }).then((h) => {
          if (mine !== seq) return;
          setHits(h);
          setSearched(true);
        });
      }, 120);
    }),
  );

  const headingOf = (h: SearchHit) => {
    const row = s.rows().find((r) => r.id === h.convId);
    const title = row?.title ?? 'Conversation';
    const heading = hitHeading(row?.kind, h.author === s.me.userId, s.nameOf(h.author), title);
    // The conversation's name at the end of `where` (" in Name", " to Name") is shown in its own direction.
    const at = heading.where.endsWith(title) ? heading.where.length - title.length : heading.where.length;
    return { who: heading.who, where: heading.where.slice(0, at), whereName: heading.where.slice(at) };
  };

  return (
    <div class="search-pane" role="search">
      <div class="conv-toolbar">
        <button type="button" class="btn btn-icon" aria-label="Close search" onClick={props.onClose}>
          <span aria-hidden="true">←</span>
        </button>
        <h1 class="conv-title">Search messages</h1>
      </div>
      <div class="search-fields">
        <label for="search-q" class="visually-hidden">
          Search messages
        </label>
        <input
          id="search-q"
          ref={input}
          class="input"
          type="search"
          placeholder="Search messages"
          autocomplete="off"
          value={q()}
          onInput={(e) => setQ(e.currentTarget.value)}
          onKeyDown={(e) => {
            if (e.key === 'Escape' && !q()) props.onClose();
          }}
        />
        <div class="search-filters">
          <div class="field">
            <label for="search-conv" class="small">
              Conversation
            </label>
            <select id="search-conv" class="input" value={convId()} onChange={(e) => setConvId(e.currentTarget.value)}>
              <option value="">All conversations</option>
              <For each={s.rows()}>{(r) => <option value={r.id}>{r.title}</option>}</For>
            </select>
          </div>
          <div class="field">
            <label for="search-author" class="small">
              Sender
            </label>
            <select id="search-author" class="input" value={author()} onChange={(e) => setAuthor(e.currentTarget.value)}>
              <option value="">Anyone</option>
              <For each={senders()}>{(p) => <option value={p.id}>{p.name}</option>}</For>
            </select>
          </div>
        </div>
        <p class="muted small">Searched on this device only ({props.search.count()} messages indexed). Nothing is sent to the server.</p>
      </div>
      <p class="visually-hidden" role="status">
        {searched() ? `${hits().length} result${hits().length === 1 ? '' : 's'}` : ''}
      </p>
      <Show when={searched() && hits().length === 0}>
        <p class="muted conv-none">No messages match “{q()}”.</p>
      </Show>
      <ul class="search-results" aria-label="Search results">
        <For each={hits()}>
          {(h) => (
            <li>
              <button type="button" class="search-hit" onClick={() => props.onOpen(h.convId, h.id)}>
                <span class="conv-line">
                  {/* Names and the snippet each in their own direction (a right-to-left name or message). */}
                  <span class="conv-name">
                    <span dir={textDir(headingOf(h).who)}>{headingOf(h).who}</span>
                    <Show when={headingOf(h).where || headingOf(h).whereName}>
                      <span class="muted">
                        {headingOf(h).where}
                        <span dir={textDir(headingOf(h).whereName)}>{headingOf(h).whereName}</span>
                      </span>
                    </Show>
                  </span>
                  <time class="conv-time" datetime={new Date(h.ts).toISOString()}>
                    {listTime(h.ts, props.now)}
                  </time>
                </span>
                <span class="search-snippet" dir={textDir(h.text)}>
                  <For each={markTerms(snippet(h.text, h.terms), h.terms)}>{(p) => (p.hit ? <mark>{p.text}</mark> : p.text)}</For>
                </span>
              </button>
            </li>
          )}
        </For>
      </ul>
    </div>
  );
}

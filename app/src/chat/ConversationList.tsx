/**
 * The conversation list: most recently active first, each row with an initials avatar (online dot for
 * direct chats), name, last-message preview, time and unread count; a filter box; "New chat" / "New group";
 * and a button that asks for notification permission once there is a conversation to be notified about.
 */
import { createEffect, createMemo, createSignal, For, on, Show, type JSX } from 'solid-js';
import type { ChatRow, ChatStore } from './chat-store.ts';
import { Avatar } from './Avatar.tsx';
import { notificationPermission, requestPermission } from './notifications.ts';
import { contentPreview, listPreview, type PreviewableMessage } from './message-preview.ts';
import { listTime } from './time.ts';
import { textDir } from './text-dir.ts';

/** Props of `ConversationList`. */
export interface ConversationListProps {
  store: ChatStore;
  activeId: string | undefined;
  now: number;
  /** `how`: a keyboard activation (Enter or Space on the row) or a pointer (mouse, touch, pen). */
  onOpen: (convId: string, how: 'keyboard' | 'pointer') => void;
  onNewChat: () => void;
  onNewGroup: () => void;
  onSearch: () => void;
  onProfile: () => void;
}

/** Folds case and accents so "jose" finds "José". */
export function fold(s: string): string {
  return s.normalize('NFD').replace(/\p{M}/gu, '').toLowerCase();
}

/** See the module comment. */
export function ConversationList(props: ConversationListProps): JSX.Element {
  const s = props.store;
  const [filter, setFilter] = createSignal('');
  /** A direct chat shows the contact's display name (from their encrypted profile), else the username. */
  const titleOf = (r: ChatRow) => (r.kind === 'direct' ? s.profileOf(r.peerId)?.displayName || r.title : r.title);
  const rows = createMemo(() => {
    const q = fold(filter().trim());
    const all = s.rows();
    if (!q) return all;
    return all.filter((r) => fold(titleOf(r)).includes(q) || fold(r.title).includes(q) || fold(r.lastMessage?.text ?? '').includes(q));
  });

  /**
   * The newest message in full: the row's summary carries only its text, while its files and whether it was
   * deleted are on the open conversation (the rows are rebuilt on every change of it, so this stays current).
   */
  const fullMessage = (convId: string, last: NonNullable<ChatRow['lastMessage']>): PreviewableMessage => {
    // It is the newest there, or close to it when more arrived since the row was built: look at the tail only.
    const list = s.handle(convId)?.messages ?? [];
    for (let i = list.length - 1; i >= Math.max(0, list.length - 20); i--) {
      const m = list[i];
      if (m?.id === last.id) return m;
    }
    return { text: last.text, attachments: [], deleted: false };
  };
  /**
   * The preview line in parts: `who` ("You", or the member's name in a group) and the content, each shown in
   * its own direction (`textDir`), so a right-to-left message keeps its punctuation on the right side.
   */
  const previewOf = (r: ChatRow): { who?: string; body: string } => {
    const m = r.lastMessage;
    if (!m) return { body: r.kind === 'group' ? `${r.members.length} members` : 'No messages yet' };
    const full = fullMessage(r.id, m);
    const mine = m.author === s.me.userId;
    const who = mine ? 'You' : r.kind === 'group' ? s.displayNameOf(m.author) : undefined;
    if (full.deleted) return { body: listPreview(full, mine ? { kind: 'me' } : who !== undefined ? { kind: 'member', name: who } : { kind: 'peer' }, 80) };
    return { ...(who !== undefined ? { who } : {}), body: contentPreview(full, 80) };
  };
  const activityTs = (r: ChatRow) => r.lastMessage?.ts ?? Date.parse(r.updatedAt);

  /**
   * Rows are keyed by conversation id, not by the row object (rebuilt on every change): a row that turns
   * read, gets a message or is renamed keeps its element, so keyboard focus and a screen reader's place stay
   * on it. Moving a row (new activity puts it first) re-inserts its element, which drops focus: the row that
   * had focus just before the list changed gets it back.
   */
  const byId = createMemo(() => new Map(rows().map((r) => [r.id, r])));
  let focusedRow: string | undefined;
  const ids = createMemo(
    () => {
      const a = document.activeElement;
      focusedRow = a instanceof HTMLElement && a.classList.contains('conv-row') ? a.dataset['convId'] : undefined;
      return rows().map((r) => r.id);
    },
    [],
    { equals: (x, y) => x.length === y.length && x.every((v, i) => v === y[i]) },
  );
  let nav!: HTMLElement;
  createEffect(
    on(ids, () => {
      const a = document.activeElement;
      if (focusedRow === undefined || (a && a !== document.body)) return;
      nav.querySelector<HTMLElement>(`.conv-row[data-conv-id="${CSS.escape(focusedRow)}"]`)?.focus({ preventScroll: true });
    }),
  );

  return (
    <div class="conv-pane">
      <div class="conv-toolbar">
        <h1 class="conv-title">Chats</h1>
        <button type="button" class="btn btn-ghost btn-small" onClick={props.onProfile}>
          Profile
        </button>
        <button type="button" class="btn btn-ghost btn-small conv-search" onClick={props.onSearch}>
          Search
        </button>
      </div>
      <div class="conv-actions">
        <button type="button" class="btn btn-primary btn-small" onClick={props.onNewChat}>
          New chat
        </button>
        <button type="button" class="btn btn-small" onClick={props.onNewGroup}>
          New group
        </button>
      </div>
      <div class="conv-filter">
        <label for="conv-filter" class="visually-hidden">
          Filter conversations
        </label>
        <input
          id="conv-filter"
          class="input"
          type="search"
          placeholder="Filter conversations"
          value={filter()}
          onInput={(e) => setFilter(e.currentTarget.value)}
        />
      </div>
      <Show when={notificationPermission() === 'default' && s.rows().length > 0}>
        <div class="notify-prompt">
          <span class="small">Get notified about new messages while Parley is in the background.</span>
          <button type="button" class="btn btn-small" onClick={() => void requestPermission()}>
            Turn on notifications
          </button>
        </div>
      </Show>
      <Show when={s.state().status === 'starting'}>
        <div class="loading" role="status">
          <span class="spinner" aria-hidden="true" />
          <span>Opening your conversations…</span>
        </div>
      </Show>
      <Show when={s.state().status === 'error'}>
        <p class="form-error" role="alert">
          Your conversations could not be opened on this device. Reload to try again.
        </p>
      </Show>
      <Show when={s.state().status === 'ready' && s.rows().length === 0}>
        <section class="empty-state" aria-labelledby="chat-empty-title">
          <h2 id="chat-empty-title">Welcome, {s.me.username}</h2>
          <p>Your conversations will appear here. Start one with “New chat”, using a friend’s username.</p>
        </section>
      </Show>
      <Show when={s.rows().length > 0 && rows().length === 0}>
        <p class="muted conv-none">No conversation matches “{filter()}”.</p>
      </Show>
      <nav class="conv-nav" aria-label="Conversations" ref={nav}>
        <ul class="conv-list">
          <For each={ids()}>
            {(id) => (
              <Show when={byId().get(id)}>
                {(r) => {
                  const online = () => r().kind === 'direct' && s.isOnline(r().peerId);
                  const preview = () => previewOf(r());
                  return (
                    <li>
                      <button
                        type="button"
                        class="conv-row"
                        classList={{ active: props.activeId === id, unread: r().unread > 0, archived: r().archived === true }}
                        aria-current={props.activeId === id ? 'true' : undefined}
                        data-conv-id={id}
                        onClick={(e) => props.onOpen(id, e.detail === 0 ? 'keyboard' : 'pointer')}
                      >
                        <Avatar name={titleOf(r())} colourKey={r().peerId ?? id} online={online()} group={r().kind === 'group'} src={r().kind === 'direct' ? s.avatarUrl(r().peerId) : undefined} />
                        <span class="conv-text">
                          <span class="conv-line">
                            <span class="conv-name" dir={textDir(titleOf(r()))}>
                              {titleOf(r())}
                            </span>
                            <time class="conv-time" datetime={new Date(activityTs(r())).toISOString()}>
                              {listTime(activityTs(r()), props.now)}
                            </time>
                          </span>
                          <span class="conv-line">
                            <Show
                              when={preview().who}
                              fallback={
                                <span class="conv-preview" dir={textDir(preview().body)}>
                                  {preview().body}
                                </span>
                              }
                            >
                              {(who) => (
                                <span class="conv-preview conv-preview-split">
                                  <span class="conv-preview-who">
                                    <span dir={textDir(who())}>{who()}</span>:
                                  </span>{' '}
                                  <span class="conv-preview-body" dir={textDir(preview().body)}>
                                    {preview().body}
                                  </span>
                                </span>
                              )}
                            </Show>
                            <Show when={r().archived}>
                              <span class="conv-tag">Not a member</span>
                            </Show>
                            <Show when={r().unread > 0}>
                              <span class="unread-badge">
                                {r().unread}
                                <span class="visually-hidden"> unread</span>
                              </span>
                            </Show>
                          </span>
                          <Show when={online()}>
                            <span class="visually-hidden">, online</span>
                          </Show>
                        </span>
                      </button>
                    </li>
                  );
                }}
              </Show>
            )}
          </For>
        </ul>
      </nav>
    </div>
  );
}

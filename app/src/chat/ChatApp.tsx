/**
 * The chat screens: conversation list (or message search) beside the open conversation; below 768 px they
 * are separate screens with a back button. The open conversation is the `?c=` search parameter, so the
 * browser's back button returns to the list on phones.
 *
 * Contract with the shell (keep it, or change both sides together):
 * - Export `ChatApp(props: ChatAppProps)`; the shell lazy-loads this module on route `/` only when signed
 *   in, so everything imported from here (ParleyClient, Yjs, search) stays out of the initial bundle.
 * - `props.session` is the signed-in account (`SignedIn` from ../session.ts): `client` (the app's one
 *   `AccountClient`: `accessToken()` for the WebSocket's in-band auth, `keys`, `session`), `session`
 *   (`sessionId`, `userId`, `username`, `publicKeys`) and `keys` (unlocked `AccountKeys`, memory only;
 *   never copy them to localStorage or component state as strings).
 * - The component is unmounted on sign-out; dispose sockets/timers with `onCleanup`.
 * - Local data: name every IndexedDB database `parley-…` (see `LOCAL_DB_PREFIX` in ../keystore.ts) so the
 *   sign-out wipe deletes it. The shell provides the header (with the settings link), the offline banner,
 *   the update prompt and toasts (`toast` from ../ui/toasts.tsx); render inside the main outlet.
 * - Layout: the outlet is a full-height flex column (`.chat-root`); below 768 px show the list and a
 *   conversation as separate screens, side by side above.
 * - The signed-in home with no conversations shows the heading "Welcome, <username>" and the text "Your
 *   conversations will appear here" (the account e2e tests wait for them).
 */
import { createEffect, createSignal, ErrorBoundary, Match, onCleanup, onMount, Show, Switch, type JSX } from 'solid-js';
import { useSearchParams } from '@solidjs/router';
import type { Conversation } from '@parley/shared/client';
import type { SignedIn } from '../session.ts';
import { toast } from '../ui/toasts.tsx';
import { ChatStore } from './chat-store.ts';
import { ConversationList } from './ConversationList.tsx';
import { ConversationView, type FocusRequest } from './ConversationView.tsx';
import { ContactDialog, GroupInfoDialog, NewChatDialog, NewGroupDialog } from './dialogs.tsx';
import { ProfileDialog } from './ProfileDialog.tsx';
import { dismissIncoming, notifyIncoming, onOpenConversationRequest, showUnread } from './notifications.ts';
import { useNow } from './time.ts';
import { onHandOver } from '../shell/tab-lock.ts';
import { SearchPanel } from '../search/SearchPanel.tsx';
import { createSearch } from '../search/search-client.ts';
import './chat.css';

/** Props the shell passes to the chat screens. */
export interface ChatAppProps {
  session: SignedIn;
}

type Dialog =
  | { kind: 'new-chat' }
  | { kind: 'new-group' }
  | { kind: 'group'; conv: Conversation }
  | { kind: 'contact'; userId: string }
  | { kind: 'profile' };

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** See the module comment. */
export function ChatApp(props: ChatAppProps): JSX.Element {
  const store = new ChatStore(props.session);
  const search = createSearch(props.session.session.userId);
  const [params, setParams] = useSearchParams<{ c?: string; dialog?: string }>();
  const active = () => (typeof params.c === 'string' && UUID.test(params.c) ? params.c : undefined);
  const now = useNow();
  const [dialog, setDialog] = createSignal<Dialog | null>(null);
  // `/?dialog=profile` (Settings' "Edit profile", the old /profile route) opens "Your profile" once.
  createEffect(() => {
    if (params.dialog === undefined) return;
    if (params.dialog === 'profile') setDialog({ kind: 'profile' });
    setParams({ dialog: undefined }, { replace: true });
  });
  const [pane, setPane] = createSignal<'list' | 'search'>('list');
  const [jump, setJump] = createSignal<{ id: string; seq: number } | undefined>();
  /** Where focus goes once the conversation just opened is on screen (see `ConversationView`'s `focus`). */
  const [focusReq, setFocusReq] = createSignal<FocusRequest | undefined>();
  let root!: HTMLDivElement;
  let pushedFromList = false;
  let jumpSeq = 0;
  let focusSeq = 0;

  createEffect(() => {
    const id = active();
    store.setActiveId(id);
    if (id !== undefined) dismissIncoming(id); // its new-message toast has done its job
  });

  /** `how`: how it was opened, for where focus goes (see `FocusRequest`); none leaves focus alone. */
  function openConv(convId: string, jumpTo?: string, how?: FocusRequest['how']): void {
    setJump(jumpTo ? { id: jumpTo, seq: ++jumpSeq } : undefined);
    setFocusReq(how ? { convId, how, seq: ++focusSeq } : undefined);
    if (convId === active()) return;
    const fromList = active() === undefined;
    setParams({ c: convId }, { replace: !fromList });
    if (fromList) pushedFromList = true;
  }

  // The conversation closed (Back, the browser's back button, leaving the group, deleting it from the
  // device): when focus was in it (now on <body>), it returns to the conversation's row in the list, found by
  // id, or to the first row when that one is gone. Focus that is somewhere else on purpose stays there.
  let shownConv: string | undefined;
  createEffect(() => {
    const id = active();
    const prev = shownConv;
    shownConv = id;
    if (id !== undefined || prev === undefined) return;
    const a = document.activeElement;
    if (a && a !== document.body && !root.querySelector('.chat-main')?.contains(a)) return;
    const row = root.querySelector<HTMLElement>(`.conv-row[data-conv-id="${CSS.escape(prev)}"]`) ?? root.querySelector<HTMLElement>('.conv-row');
    row?.focus();
  });

  function back(): void {
    if (pushedFromList) {
      pushedFromList = false;
      history.back();
    } else setParams({ c: undefined }, { replace: true });
  }

  store.hooks.onIncoming = (m) => notifyIncoming(m, store.activeId(), (id) => openConv(id));
  onCleanup(onOpenConversationRequest((id) => openConv(id)));
  store.hooks.onMessages = (convId, messages) => search.update(convId, messages);
  store.hooks.onForgotten = (convId) => search.forget(convId);
  store.hooks.onAddedToGroup = (convId, groupName) => {
    const name = groupName ?? store.handle(convId)?.name;
    toast(name ? `You were added to the group “${name}”` : 'You were added to a group');
  };
  store.hooks.onRemovedFromGroup = (_convId, name) =>
    toast(name ? `You were removed from the group “${name}”.` : 'You were removed from a group.', 'error');
  store.hooks.onKeyChanged = (username) => toast(`${username}’s security key changed. Check their safety number.`, 'error');
  void store.start();

  // A conversation read elsewhere (another device of mine) loses its toast and system notifications here.
  const unreadBefore = new Map<string, number>();
  createEffect(() => {
    for (const r of store.rows()) {
      if (r.unread === 0 && (unreadBefore.get(r.id) ?? 0) > 0) dismissIncoming(r.id);
      unreadBefore.set(r.id, r.unread);
    }
  });

  // Unread count in the title and on the app badge.
  const baseTitle = document.title.replace(/^\(\d+\)\s*/, '') || 'Parley';
  createEffect(() => showUnread(store.rows().reduce((n, r) => n + r.unread, 0), baseTitle));

  // Size the chat to the visual viewport, so the composer stays above an on-screen keyboard.
  onMount(() => {
    const vv = window.visualViewport;
    const fit = () => {
      const top = root.getBoundingClientRect().top + window.scrollY;
      const height = (vv?.height ?? window.innerHeight) - Math.max(0, top - (vv?.offsetTop ?? 0) - window.scrollY);
      root.style.setProperty('--chat-height', `${Math.max(240, Math.round(height))}px`);
    };
    fit();
    vv?.addEventListener('resize', fit);
    vv?.addEventListener('scroll', fit);
    window.addEventListener('resize', fit);
    const ro = new ResizeObserver(fit);
    const header = document.querySelector('.app-header');
    if (header) ro.observe(header);
    const banners = document.querySelector('.banner-slot');
    if (banners) ro.observe(banners);
    onCleanup(() => {
      vv?.removeEventListener('resize', fit);
      vv?.removeEventListener('scroll', fit);
      window.removeEventListener('resize', fit);
      ro.disconnect();
    });
  });

  // Another tab takes over (tab-lock.ts): the client stops (sockets, storage) before the lock moves.
  onCleanup(onHandOver(() => store.dispose()));

  onCleanup(() => {
    showUnread(0, baseTitle);
    search.dispose();
    void store.dispose();
  });

  return (
    <div class="chat-root chat-layout" classList={{ 'has-active': active() !== undefined }} ref={root}>
      <aside class="chat-sidebar" aria-label="Conversations and search">
        <Switch>
          <Match when={pane() === 'list'}>
            <ConversationList
              store={store}
              activeId={active()}
              now={now()}
              onOpen={(id, how) => openConv(id, undefined, how)}
              onNewChat={() => setDialog({ kind: 'new-chat' })}
              onNewGroup={() => setDialog({ kind: 'new-group' })}
              onSearch={() => setPane('search')}
              onProfile={() => setDialog({ kind: 'profile' })}
            />
          </Match>
          <Match when={pane() === 'search'}>
            <SearchPanel
              search={search}
              store={store}
              now={now()}
              onClose={() => {
                // The list comes back (a new one): focus goes to its Search button, not to <body>.
                setPane('list');
                root.querySelector<HTMLElement>('.conv-search')?.focus();
              }}
              onOpen={(convId, msgId) => openConv(convId, msgId)}
            />
          </Match>
        </Switch>
      </aside>
      <section class="chat-main" aria-label="Conversation">
        <Show
          when={active()}
          keyed
          fallback={
            <div class="chat-placeholder">
              <p class="muted">Pick a conversation, or start a new one.</p>
              <p class="muted small">Messages are end-to-end encrypted: only the people in a conversation can read them.</p>
            </div>
          }
        >
          {(convId) => (
            <ErrorBoundary
              fallback={(_e, reset) => (
                <div class="chat-error">
                  <p role="alert">This conversation could not be shown.</p>
                  <button type="button" class="btn" onClick={reset}>
                    Try again
                  </button>
                </div>
              )}
            >
            <ConversationView
              store={store}
              convId={convId}
              now={now()}
              jump={jump()}
              focus={focusReq()}
              onFocusDone={() => setFocusReq(undefined)}
              onBack={back}
              onInfo={(conv) => setDialog({ kind: 'group', conv })}
              onContact={(userId) => setDialog({ kind: 'contact', userId })}
            />
            </ErrorBoundary>
          )}
        </Show>
      </section>
      <Show when={dialog()} keyed>
        {(d) => (
          <Switch>
            <Match when={d.kind === 'new-chat'}>
              <NewChatDialog
                store={store}
                onClose={() => setDialog(null)}
                onOpened={(id) => {
                  setDialog(null);
                  openConv(id);
                }}
              />
            </Match>
            <Match when={d.kind === 'new-group'}>
              <NewGroupDialog
                store={store}
                onClose={() => setDialog(null)}
                onOpened={(id) => {
                  setDialog(null);
                  openConv(id);
                }}
              />
            </Match>
            <Match when={d.kind === 'group' && d}>
              {(g) => (
                <GroupInfoDialog
                  store={store}
                  conv={(g() as { conv: Conversation }).conv}
                  onClose={() => setDialog(null)}
                  onLeft={() => {
                    setDialog(null);
                    back();
                  }}
                  onContact={(userId) => setDialog({ kind: 'contact', userId })}
                />
              )}
            </Match>
            <Match when={d.kind === 'profile'}>
              <ProfileDialog store={store} onClose={() => setDialog(null)} />
            </Match>
            <Match when={d.kind === 'contact' && d}>
              {(c) => <ContactDialog store={store} userId={(c() as { userId: string }).userId} onClose={() => setDialog(null)} />}
            </Match>
          </Switch>
        )}
      </Show>
    </div>
  );
}

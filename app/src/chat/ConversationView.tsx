/**
 * One conversation on screen: header (back on phones, name, presence or member count, info), warnings
 * (changed key, unverified members, removed, missing or rejected updates), the message list, who is typing,
 * and the composer.
 */
import { createEffect, createMemo, createSignal, Match, on, onCleanup, Show, Switch, untrack, type JSX } from 'solid-js';
import type { Conversation, ConversationMessage } from '@parley/shared/client';
import type { ChatStore } from './chat-store.ts';
import { Avatar } from './Avatar.tsx';
import { Composer, type ComposerMode } from './Composer.tsx';
import { textDir } from './text-dir.ts';
import { IntegrityNotice } from './IntegrityNotice.tsx';
import { MessageList } from './MessageList.tsx';
import { createMessageStore } from './message-store.ts';
import { chatErrorText } from './notifications.ts';
import { toast } from '../ui/toasts.tsx';
import { fileDropTarget } from './files/Attachments.tsx';

/**
 * Where focus goes when a conversation opens. 'keyboard' (Enter or Space on its row): into it, the composer
 * when it is writable, else its heading. 'pointer' (mouse or touch): it stays on the row when the row is
 * still on screen (beside the conversation), and goes to the heading when it is not (phones show one screen
 * at a time), so no on-screen keyboard pops up.
 */
export interface FocusRequest {
  convId: string;
  how: 'keyboard' | 'pointer';
  seq: number;
}

/** Props of `ConversationView`. */
export interface ConversationViewProps {
  store: ChatStore;
  convId: string;
  now: number;
  jump: { id: string; seq: number } | undefined;
  /** Move focus into this conversation once it is shown (see `FocusRequest`); `onFocusDone` when handled. */
  focus?: FocusRequest | undefined;
  onFocusDone?: () => void;
  onBack: () => void;
  onInfo: (conv: Conversation) => void;
  onContact: (userId: string) => void;
}

/** See the module comment. Mount one per conversation (keyed by `convId`). */
export function ConversationView(props: ConversationViewProps): JSX.Element {
  const s = props.store;
  // Not a resource: reading a pending resource would suspend the shell's <Suspense> around the whole chat.
  const [conv, setConv] = createSignal<Conversation | undefined>(s.handle(props.convId));
  const [error, setError] = createSignal<unknown>();
  const id = props.convId;
  const open = () =>
    s.open(id).then(
      (c) => setConv(() => c),
      (e: unknown) => setError(() => e ?? new Error('open failed')),
    );
  if (!conv()) open();
  // [ARCHIVE-1] Re-added while this read-only view is open: the store dropped its handle; open the live one.
  createEffect(
    on(
      s.reopen,
      () => {
        const c = conv();
        const row = s.rows().find((r) => r.id === id);
        if (!c || s.handle(id) === c || !row || row.archived) return;
        setConv(undefined);
        open();
      },
      { defer: true },
    ),
  );
  return (
    <Switch
      fallback={
        <div class="loading" role="status">
          <span class="spinner" aria-hidden="true" />
          <span>Opening conversation…</span>
        </div>
      }
    >
      <Match when={error() !== undefined}>
        <div class="chat-error">
          <p role="alert">{chatErrorText(error())}</p>
          <button type="button" class="btn" onClick={props.onBack}>
            Back to conversations
          </button>
        </div>
      </Match>
      <Match when={conv()} keyed>
        {(c) => <Loaded {...props} conv={c} />}
      </Match>
    </Switch>
  );
}

function Loaded(props: ConversationViewProps & { conv: Conversation }): JSX.Element {
  const s = props.store;
  const c = props.conv;
  const state = createMessageStore();
  state.sync(c.messages);
  onCleanup(c.on('change', ({ messages }) => state.sync(messages)));
  const index = createMemo(() => new Map(state.list.map((m, i) => [m.id, i])));

  // The new-messages divider: the first unread message from others when the conversation was opened.
  // When more messages are unread than are loaded yet (older segments load lazily, and only the newest
  // ones are verified before the first screen), the divider goes above the oldest loaded unread one.
  // Decided once, from the first non-empty list: a conversation whose newest segment was still syncing
  // when this view mounted delivers its first screen in a later change event.
  const unreadDivider = (): string | undefined => {
    let n = c.unread;
    if (n <= 0) return undefined;
    let oldest: string | undefined;
    for (let i = c.messages.length - 1; i >= 0; i--) {
      const m = c.messages[i];
      if (!m || m.mine || m.deleted) continue;
      oldest = m.id;
      if (--n === 0) return m.id;
    }
    return oldest;
  };
  const [firstUnreadId, setFirstUnreadId] = createSignal<string | undefined>(unreadDivider());
  if (c.messages.length === 0) {
    const stop = c.on('change', ({ messages }) => {
      if (messages.length === 0) return;
      stop();
      setFirstUnreadId(unreadDivider());
    });
    onCleanup(stop);
  }

  const [mode, setMode] = createSignal<ComposerMode>({ kind: 'new' });
  let composer: { focus: () => void } | undefined;
  let list: { toLatest: () => void } | undefined;
  let heading!: HTMLHeadingElement;

  const meta = createMemo(() => {
    s.membersVersion();
    s.rows();
    const kind = c.info.kind;
    const peerId = kind === 'direct' ? c.info.members.find((m) => m.userId !== s.me.userId)?.userId : undefined;
    return {
      kind,
      peerId,
      title: (kind === 'direct' ? s.profileOf(peerId)?.displayName : undefined) || (c.name ?? (kind === 'group' ? 'Unnamed group' : 'Direct chat')),
      memberCount: c.membership.created ? c.membership.members.size : c.info.members.length,
      unverified: c.unverifiedMembers,
    };
  });
  const removed = () => s.removed().has(c.id);
  const typingText = () => {
    const ids = s.typing[c.id] ?? [];
    if (ids.length === 0) return '';
    const names = ids.map((u) => s.displayNameOf(u));
    if (names.length === 1) return `${names[0]} is typing…`;
    if (names.length === 2) return `${names[0]} and ${names[1]} are typing…`;
    return 'Several people are typing…';
  };
  const onError = (e: unknown) => toast(chatErrorText(e), 'error');

  // Focus on opening (`FocusRequest`): runs once this view is on screen (also when the request comes for the
  // conversation already open, e.g. Enter on its row).
  createEffect(() => {
    const req = props.focus;
    if (!req || req.convId !== c.id) return;
    untrack(() => {
      const a = document.activeElement;
      const lost = !(a instanceof HTMLElement) || a === document.body || a.getClientRects().length === 0;
      if (req.how === 'keyboard') {
        if (!removed()) composer?.focus();
        if (document.activeElement?.id !== 'composer-input') heading.focus();
      } else if (lost) heading.focus({ preventScroll: true });
      props.onFocusDone?.();
    });
  });
  const [confirmForget, setConfirmForget] = createSignal(false);
  const [forgetting, setForgetting] = createSignal(false);
  const forget = () => {
    setForgetting(true);
    s.forget(c.id).then(
      () => {
        toast('Deleted from this device');
        props.onBack();
      },
      (e: unknown) => {
        setForgetting(false);
        onError(e);
      },
    );
  };

  return (
    <div class="chat-view" ref={(el) => fileDropTarget(el, c, () => !removed())}>
      <header class="chat-header">
        <button type="button" class="btn btn-icon chat-back" aria-label="Back to conversations" onClick={props.onBack}>
          <span aria-hidden="true">←</span>
        </button>
        {/* Focusable from script only: where focus goes on opening a conversation that cannot be written to. */}
        <h2 class="visually-hidden chat-heading" tabindex="-1" dir={textDir(meta().title)} ref={heading}>
          {meta().title}
        </h2>
        <button
          type="button"
          class="chat-peer"
          onClick={() => {
            const peer = meta().peerId;
            if (meta().kind === 'direct' && peer) props.onContact(peer);
            else props.onInfo(c);
          }}
        >
          <Avatar
            name={meta().title}
            colourKey={meta().peerId ?? c.id}
            online={meta().kind === 'direct' && s.isOnline(meta().peerId)}
            group={meta().kind === 'group'}
            src={meta().kind === 'direct' ? s.avatarUrl(meta().peerId) : undefined}
          />
          <span class="chat-peer-text">
            <span class="chat-title" dir={textDir(meta().title)}>
              {meta().title}
            </span>
            <span class="chat-subtitle">
              <Show when={typingText()} fallback={meta().kind === 'direct' ? (s.isOnline(meta().peerId) ? 'Online' : 'Offline') : `${meta().memberCount} members`}>
                {typingText()}
              </Show>
            </span>
          </span>
          <span class="visually-hidden">{meta().kind === 'group' ? ', group info' : ', contact info and safety number'}</span>
        </button>
        <Show when={meta().kind === 'group'}>
          <button type="button" class="btn btn-ghost btn-small" onClick={() => props.onInfo(c)}>
            Members
          </button>
        </Show>
      </header>
      <Show when={meta().peerId && s.keyChanged().has(meta().peerId ?? '')}>
        <div class="chat-banner banner-danger" role="alert">
          <span>
            <strong>{meta().title}’s security key changed.</strong> Verify their safety number before trusting new messages.
          </span>
          <button type="button" class="btn btn-small" onClick={() => props.onContact(meta().peerId ?? '')}>
            View safety number
          </button>
        </div>
      </Show>
      <Show when={meta().unverified.length > 0}>
        <div class="chat-banner banner-warning" role="alert">
          <span>
            <strong>Unverified member{meta().unverified.length === 1 ? '' : 's'}:</strong> {meta().unverified.map((u) => s.nameOf(u)).join(', ')}.
            The server lists {meta().unverified.length === 1 ? 'this person' : 'these people'} but no admin added them, so they get no key and
            cannot read messages.
          </span>
          <button type="button" class="btn btn-small" onClick={() => props.onInfo(c)}>
            Details
          </button>
        </div>
      </Show>
      <Show when={removed()}>
        <div class="chat-banner banner-warning" role="status">
          <Show
            when={confirmForget()}
            fallback={
              <>
                <span>You are no longer a member of this conversation. You can read what you had, but new messages are not shared with you.</span>
                <button type="button" class="btn btn-small" onClick={() => setConfirmForget(true)}>
                  Delete from this device
                </button>
              </>
            }
          >
            <span>Delete this conversation’s messages and files from this device? This cannot be undone. Nobody else is affected.</span>
            <span class="button-row">
              <button type="button" class="btn btn-small btn-danger" disabled={forgetting()} onClick={forget}>
                {forgetting() ? 'Deleting…' : 'Delete'}
              </button>
              <button type="button" class="btn btn-small" disabled={forgetting()} onClick={() => setConfirmForget(false)}>
                Keep
              </button>
            </span>
          </Show>
        </div>
      </Show>
      <IntegrityNotice store={s} convId={c.id} />
      <MessageList
        conv={c}
        meId={s.me.userId}
        messages={state.list}
        index={index()}
        kind={meta().kind}
        removed={removed()}
        label={`Messages with ${meta().title}`}
        now={props.now}
        nameOf={(u) => s.displayNameOf(u)}
        avatarOf={(u) => s.avatarUrl(u)}
        firstUnreadId={firstUnreadId()}
        jump={props.jump}
        onReply={(m) => setMode({ kind: 'reply', to: m })}
        onEdit={(m) => setMode({ kind: 'edit', of: m })}
        onError={onError}
        onReadBottom={() => {
          if (!removed() && c.unread > 0) void c.markRead().catch(() => undefined);
        }}
        ref={(api) => (list = api)}
      />
      <p class="typing-line" aria-live="polite">
        {typingText()}
      </p>
      <Composer
        conv={c}
        store={s.client.context.store}
        mode={mode()}
        nameOf={(u) => s.nameOf(u)}
        disabled={removed()}
        onModeDone={() => {
          setMode({ kind: 'new' });
          composer?.focus();
        }}
        onSent={() => list?.toLatest()}
        onError={onError}
        ref={(api) => (composer = api)}
      />
    </div>
  );
}

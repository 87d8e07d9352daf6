/**
 * The message list: a windowed `role="log"` over the conversation's messages. Only a contiguous slice
 * (about 80, at most 200 messages) is in the DOM; the slice slides when the reader nears its top or bottom,
 * keeping the message under the reader's eyes in place (manual anchoring: works without CSS scroll
 * anchoring, e.g. Safari). Following the bottom keeps the newest messages in view; scrolled up, new
 * messages show a "jump to latest" count instead of moving the page.
 *
 * Day separators, runs by the same sender (name and time shown once per run; screen readers hear the
 * time once per run too), the new-messages divider, reply quotes, reactions, delivery state, and per-message
 * actions (button, or long-press on touch).
 *
 * Keyboard: the list is one tab stop (roving tabindex on the messages). Up/Down move between messages,
 * Home/End go to the oldest loaded and the newest; Enter, Space, the context-menu key or Shift+F10 open the
 * focused message's actions, Escape closes them (focus back on that message's actions button). Tab from a
 * message goes through that message's own controls and then leaves the list.
 *
 * Screen readers: the log itself is not a live region (opening actions, reactions, edits and history sliding
 * into the window are not news). Messages from others that arrive while the list is open are announced by a
 * separate polite status, a burst coalesced into one "3 new messages".
 */
import { createEffect, createMemo, createSignal, For, on, onCleanup, onMount, Show, type JSX } from 'solid-js';
import type { Conversation, ConversationMessage } from '@parley/shared/client';
import { RichText } from './linkify.tsx';
import { contentPreview, preview } from './message-preview.ts';
import { clockTime, dayLabel, exactTime, messageTime, sameDay } from './time.ts';
import { Avatar } from './Avatar.tsx';
import { MessageAttachments } from './files/Attachments.tsx';
import { membershipLines, placeLines } from './membership-lines.ts';
import { textDir } from './text-dir.ts';

const WINDOW = 80;
const STEP = 40;
const MAX = 200;
const EDGE = 400;
const RUN_GAP_MS = 5 * 60_000;
/** New messages arriving within this long of each other are announced together. */
const ANNOUNCE_GAP_MS = 700;
/** A steady stream is still announced at least this often. */
const ANNOUNCE_MAX_WAIT_MS = 2500;
/** An announcement is cleared after this long (so it is not found later as stale text). */
const ANNOUNCE_KEEP_MS = 8000;
/** Elements Tab can reach (filtered further by `tabIndex` and rendering in `tabbables`). */
const TABBABLE =
  'a[href], button:not([disabled]), input:not([disabled]):not([type="hidden"]), select:not([disabled]), textarea:not([disabled]), audio[controls], video[controls], [tabindex], [contenteditable="true"]';

/** The elements under `root` that Tab reaches, in document order. */
function tabbables(root: ParentNode): HTMLElement[] {
  return [...root.querySelectorAll<HTMLElement>(TABBABLE)].filter((el) => el.tabIndex >= 0 && !el.closest('[inert]') && el.getClientRects().length > 0);
}

/** Quick reactions offered in the actions row. */
export const QUICK_REACTIONS = ['👍', '❤️', '😂', '😮', '😢', '🎉'] as const;

/** Props of `MessageList`. */
export interface MessageListProps {
  conv: Conversation;
  meId: string;
  messages: readonly ConversationMessage[];
  index: ReadonlyMap<string, number>;
  kind: 'direct' | 'group';
  /** This user is no longer a member: what is still unsent never will be ("Not sent"). */
  removed?: boolean;
  label: string;
  now: number;
  nameOf: (userId: string) => string;
  /** An avatar image URL for a user (their profile picture), if any. */
  avatarOf?: (userId: string) => string | undefined;
  /** First unread message when the conversation was opened (divider), frozen for this view. */
  firstUnreadId: string | undefined;
  /** A message to scroll to and highlight (search results, reply quotes); `seq` repeats a jump. */
  jump: { id: string; seq: number } | undefined;
  onReply: (m: ConversationMessage) => void;
  onEdit: (m: ConversationMessage) => void;
  onError: (e: unknown) => void;
  /** Called (debounced) when the newest message is on screen and the page is visible. */
  onReadBottom: () => void;
  /** Set by the list: scrolls to the newest message. */
  ref?: (api: { toLatest: () => void }) => void;
}

/** See the module comment. */
export function MessageList(props: MessageListProps): JSX.Element {
  let scroller!: HTMLDivElement;
  const [range, setRange] = createSignal({ start: 0, end: 0 });
  const [atBottom, setAtBottom] = createSignal(true);
  const [unseen, setUnseen] = createSignal(0);
  const [actionsFor, setActionsFor] = createSignal<string | undefined>();
  const [confirmDelete, setConfirmDelete] = createSignal<string | undefined>();
  const [highlight, setHighlight] = createSignal<string | undefined>();
  const [loadingOlder, setLoadingOlder] = createSignal(false);
  /** The message that is the list's tab stop (roving tabindex); the newest on screen until one is focused. */
  const [current, setCurrent] = createSignal<string | undefined>();
  /** What the new-messages status says now (a new object per announcement, so the same words repeat). */
  const [announcement, setAnnouncement] = createSignal<{ text: string } | undefined>();
  let itemsEl!: HTMLOListElement;
  let follow = true;
  /** Opened at the new-messages divider: keep it in place while history streams in, until the user scrolls. */
  let pinned: string | undefined;
  /**
   * Pinned, the reader has had everything down to the newest message on screen (and it was reported read): the
   * divider has done its job, so messages arriving from now on are followed like at the bottom.
   */
  let pinnedSawNewest = false;
  /** The newest message is on screen (it may be read). */
  let newestVisible = false;
  /** Id of the newest message at the last change (tells new messages from older history loading in front). */
  let newestId: string | undefined;
  /** A jump to a message that is not loaded yet: older history loads until it is (or there is no more). */
  let seeking: string | undefined;
  let winFirst: string | undefined;
  let winLast: string | undefined;
  let highlightTimer: ReturnType<typeof setTimeout> | undefined;
  let readTimer: ReturnType<typeof setTimeout> | undefined;
  let announceTimer: ReturnType<typeof setTimeout> | undefined;
  let announceClear: ReturnType<typeof setTimeout> | undefined;
  onCleanup(() => {
    clearTimeout(highlightTimer);
    clearTimeout(readTimer);
    clearTimeout(announceTimer);
    clearTimeout(announceClear);
  });

  // A group's verified membership changes as lines among the messages ("Ann added Dan"): members learn who
  // joined (a new member reads the earlier history) and who left. Recomputed on membership changes and as
  // messages load (lines older than the loaded history wait for it).
  const [membersTick, setMembersTick] = createSignal(0);
  onCleanup(props.conv.on('members', () => setMembersTick((n) => n + 1)));
  const texts = createMemo(() => {
    membersTick();
    return props.kind === 'group' ? membershipLines(props.conv.membership.events, props.nameOf, props.meId) : [];
  });
  // Placing is all a new message costs (a binary search per line); the texts change only with the membership.
  const lines = createMemo(() => placeLines(texts(), props.messages, props.conv.hasOlder));

  const visible = createMemo(() => {
    const r = range();
    return props.messages.slice(r.start, r.end);
  });

  /** The tab stop: the focused (or last focused) message while it is in the window, else the newest in it. */
  const tabStop = createMemo(() => {
    const c = current();
    const v = visible();
    if (c !== undefined && v.some((m) => m.id === c)) return c;
    return v[v.length - 1]?.id;
  });

  // New messages from others, announced through the status below the log (see the module comment).
  /** Ids the list has had (to tell arrivals from history loading in front). */
  const known = new Set<string>();
  /** The oldest message at the last change: ids new since then that sort before it are older history. */
  let oldestKnown: string | undefined;
  const mountedAt = Date.now();
  let toAnnounce: ConversationMessage[] = [];
  let announceFirst = 0;

  function noteArrivals(initial: boolean): void {
    const msgs = props.messages;
    const from = oldestKnown === undefined ? undefined : props.index.get(oldestKnown);
    const fresh: ConversationMessage[] = [];
    for (let i = 0; i < msgs.length; i++) {
      const m = msgs[i];
      if (!m || known.has(m.id)) continue;
      known.add(m.id);
      if (initial || m.mine || m.deleted) continue;
      // The first screen of a conversation that was still loading when the list opened: only what was just sent.
      if (from === undefined ? m.ts >= mountedAt - 2000 : i > from) fresh.push(m);
    }
    oldestKnown = msgs[0]?.id;
    if (fresh.length === 0) return;
    const now = Date.now();
    if (announceTimer === undefined) announceFirst = now;
    toAnnounce.push(...fresh);
    clearTimeout(announceTimer);
    announceTimer = setTimeout(flushAnnouncement, now - announceFirst >= ANNOUNCE_MAX_WAIT_MS ? 0 : ANNOUNCE_GAP_MS);
  }

  function flushAnnouncement(): void {
    announceTimer = undefined;
    const ms = toAnnounce;
    toAnnounce = [];
    const [first] = ms;
    if (!first) return;
    const name = props.nameOf(first.author);
    let text: string;
    if (ms.length === 1) {
      const content = contentPreview(first, 140);
      text = content ? `New message from ${name}: ${content}` : `New message from ${name}`;
    } else text = ms.every((m) => m.author === first.author) ? `${ms.length} new messages from ${name}` : `${ms.length} new messages`;
    setAnnouncement({ text });
    clearTimeout(announceClear);
    announceClear = setTimeout(() => setAnnouncement(undefined), ANNOUNCE_KEEP_MS);
  }

  function setWindow(start: number, end: number): void {
    const len = props.messages.length;
    start = Math.max(0, Math.min(start, len));
    end = Math.max(start, Math.min(end, len));
    winFirst = props.messages[start]?.id;
    winLast = props.messages[end - 1]?.id;
    setRange({ start, end });
  }

  function itemEl(id: string): HTMLElement | null {
    return scroller.querySelector<HTMLElement>(`[data-msg-id="${CSS.escape(id)}"]`);
  }

  /** The first item at least partly on screen, and where it is now. */
  function captureAnchor(): { id: string; top: number } | undefined {
    const box = scroller.getBoundingClientRect();
    for (const el of scroller.querySelectorAll<HTMLElement>('[data-msg-id]')) {
      const r = el.getBoundingClientRect();
      if (r.bottom > box.top) return { id: el.dataset.msgId ?? '', top: r.top };
    }
    return undefined;
  }

  function restoreAnchor(a: { id: string; top: number } | undefined): void {
    if (!a) return;
    queueMicrotask(() => {
      const el = itemEl(a.id);
      if (el) scroller.scrollTop += el.getBoundingClientRect().top - a.top;
    });
  }

  function scrollToBottom(): void {
    scroller.scrollTop = scroller.scrollHeight;
  }

  function toLatest(): void {
    pinned = undefined;
    seeking = undefined;
    const len = props.messages.length;
    follow = true;
    setAtBottom(true);
    setUnseen(0);
    setWindow(len - WINDOW, len);
    queueMicrotask(() => {
      scrollToBottom();
      scheduleRead();
    });
  }

  function jumpTo(id: string, block: ScrollLogicalPosition = 'center', flash = true): void {
    const idx = props.index.get(id);
    if (idx === undefined) return;
    follow = false;
    setWindow(idx - STEP, idx + STEP);
    queueMicrotask(() => {
      const el = itemEl(id);
      if (!el) return;
      el.scrollIntoView({ block });
      if (flash) {
        el.focus({ preventScroll: true });
        setHighlight(id);
        clearTimeout(highlightTimer);
        highlightTimer = setTimeout(() => setHighlight(undefined), 2500);
      }
      onScroll();
    });
  }

  function scheduleRead(): void {
    clearTimeout(readTimer);
    readTimer = setTimeout(() => {
      if ((follow || newestVisible) && document.visibilityState === 'visible') {
        if (pinned !== undefined && newestVisible) pinnedSawNewest = true;
        props.onReadBottom();
      }
    }, 300);
  }

  // Messages changed: keep the window on the same messages (ids), or on the newest when following.
  createEffect(
    on(
      () => props.messages.length,
      (len, prevLen) => {
        noteArrivals(prevLen === undefined);
        const previousNewest = newestId;
        newestId = props.messages[len - 1]?.id;
        const arrived = prevLen !== undefined && previousNewest !== undefined && newestId !== previousNewest;
        if (seeking !== undefined) {
          if (landSeek()) return;
          if (!loadingOlder() && props.conv.hasOlder) void seek(seeking);
        }
        if (pinned !== undefined && props.index.has(pinned)) {
          if (!(arrived && pinnedSawNewest)) {
            jumpTo(pinned, 'start', false);
            // New messages below what is on screen: count them on the jump-to-latest button.
            const before = previousNewest === undefined ? undefined : props.index.get(previousNewest);
            if (arrived && before !== undefined) setUnseen((n) => n + Math.max(0, len - 1 - before));
            return;
          }
          // The reader had reached the newest message: follow the new ones (the divider scrolls away with them).
          pinned = undefined;
          follow = true;
        }
        if (follow) {
          const size = Math.min(MAX, Math.max(WINDOW, range().end - range().start));
          setWindow(len - size, len);
          queueMicrotask(scrollToBottom);
          scheduleRead();
          return;
        }
        const s = winFirst ? props.index.get(winFirst) : undefined;
        const e = winLast ? props.index.get(winLast) : undefined;
        if (s !== undefined && e !== undefined) setWindow(s, e + 1);
        if (prevLen !== undefined && len > prevLen) {
          const lastIdx = e ?? range().end - 1;
          setUnseen(Math.max(0, len - 1 - lastIdx));
        }
      },
    ),
  );

  function onScroll(): void {
    const { scrollTop, scrollHeight, clientHeight } = scroller;
    const r = range();
    const len = props.messages.length;
    if (scrollTop < EDGE && r.start > 0) {
      const a = captureAnchor();
      const start = Math.max(0, r.start - STEP);
      setWindow(start, Math.min(r.end, start + MAX));
      restoreAnchor(a);
    } else if (scrollTop < EDGE && r.start === 0 && props.conv.hasOlder && !loadingOlder()) {
      setLoadingOlder(true);
      props.conv
        .loadOlder()
        .catch(props.onError)
        .finally(() => setLoadingOlder(false));
    }
    const fromBottom = scrollHeight - scrollTop - clientHeight;
    if (fromBottom < EDGE && r.end < len) {
      const a = captureAnchor();
      const end = Math.min(len, r.end + STEP);
      setWindow(Math.max(r.start, end - MAX), end);
      restoreAnchor(a);
    }
    const bottom = range().end === len && fromBottom < 80;
    newestVisible = bottom;
    follow = bottom && pinned === undefined;
    setAtBottom(bottom);
    if (bottom) {
      setUnseen(0);
      scheduleRead();
    }
  }

  // The divider may be decided after the list mounted (the first screen arrived in a later change event):
  // open at it then, unless the reader has already scrolled or typed.
  let interacted = false;
  createEffect(
    on(
      () => props.firstUnreadId,
      (first, prev) => {
        if (!first || prev !== undefined || interacted || !props.index.has(first)) return;
        pinned = first;
        jumpTo(first, 'start', false);
      },
      { defer: true },
    ),
  );

  /**
   * Scrolls to message `id` and highlights it. A message that is not in the list yet (a search result in older
   * history, or a conversation still loading) is sought: older segments load ("Loading older messages…") until
   * it is there, and the messages effect jumps when it appears. Scrolling, typing or jumping to the latest
   * gives up the search.
   */
  async function seek(id: string): Promise<void> {
    pinned = undefined;
    interacted = true;
    seeking = id;
    if (landSeek()) return;
    if (loadingOlder()) return; // the load under way changes the list, and the messages effect comes back here
    while (seeking === id && !props.index.has(id) && props.conv.hasOlder) {
      const before = props.messages.length;
      setLoadingOlder(true);
      try {
        await props.conv.loadOlder();
      } catch (e) {
        props.onError(e);
        return;
      } finally {
        setLoadingOlder(false);
      }
      if (props.messages.length === before) return; // nothing came (e.g. offline); a later change resumes
    }
    if (seeking === id) landSeek();
  }

  /** Jumps to the message being sought if the list has it now; whether it did. */
  function landSeek(): boolean {
    if (seeking === undefined || !props.index.has(seeking)) return false;
    const id = seeking;
    seeking = undefined;
    jumpTo(id);
    return true;
  }

  onMount(() => {
    props.ref?.({ toLatest });
    const first = props.firstUnreadId;
    const wanted = props.jump;
    if (wanted) {
      // Opened from a search result (or a link to a message): that message, not the divider or the bottom.
      if (!props.index.has(wanted.id)) toLatest();
      void seek(wanted.id);
    } else if (first && props.index.has(first)) {
      pinned = first;
      jumpTo(first, 'start', false);
    } else toLatest();
    const unpin = () => {
      interacted = true;
      seeking = undefined;
      if (pinned === undefined) return;
      pinned = undefined;
      queueMicrotask(onScroll); // at the bottom already: follow new messages from now on
    };
    for (const type of ['wheel', 'touchstart', 'keydown', 'pointerdown'] as const) scroller.addEventListener(type, unpin, { passive: true });
    const vis = () => {
      if (document.visibilityState === 'visible') scheduleRead();
    };
    document.addEventListener('visibilitychange', vis);
    onCleanup(() => document.removeEventListener('visibilitychange', vis));
    // Keep the bottom in view when the viewport shrinks (on-screen keyboard) or the composer grows.
    const ro = new ResizeObserver(() => {
      if (follow) scrollToBottom();
    });
    ro.observe(scroller);
    onCleanup(() => ro.disconnect());
  });

  createEffect(
    on(
      () => props.jump,
      (j) => {
        if (!j) return;
        void seek(j.id);
      },
      { defer: true },
    ),
  );

  // Delivery state is shown on my newest message (and on any still sending), not on every bubble.
  const lastMineIdx = createMemo(() => {
    for (let i = props.messages.length - 1; i >= 0; i--) if (props.messages[i]?.mine && !props.messages[i]?.deleted) return i;
    return -1;
  });

  const names = (ids: readonly string[]) => ids.map((u) => props.nameOf(u)).join(', ');

  function deliveryText(m: ConversationMessage): string {
    if (m.status === 'pending') return props.removed ? 'Not sent' : 'Sending…';
    if (m.readBy.length === 0) return 'Sent';
    return props.kind === 'direct' ? 'Read' : `Read by ${m.readBy.length}`;
  }

  function toggleReaction(m: ConversationMessage, emoji: string): void {
    const mine = m.reactions.find((r) => r.emoji === emoji)?.users.includes(props.meId) ?? false;
    props.conv.react(m.id, emoji, !mine).catch(props.onError);
  }

  /** Moves keyboard focus to the message at `i` in the whole list (sliding the window to it if needed). */
  function focusAt(i: number): void {
    const len = props.messages.length;
    if (len === 0) return;
    i = Math.max(0, Math.min(len - 1, i));
    const m = props.messages[i];
    if (!m) return;
    const r = range();
    if (i < r.start) {
      const start = Math.max(0, i - STEP);
      setWindow(start, Math.min(r.end, start + MAX));
    } else if (i >= r.end) {
      const end = Math.min(len, i + STEP);
      setWindow(Math.max(r.start, end - MAX), end);
    }
    setCurrent(m.id);
    queueMicrotask(() => {
      const el = itemEl(m.id);
      if (!el) return;
      el.focus({ preventScroll: true });
      el.scrollIntoView({ block: 'nearest' });
    });
  }

  function openActions(id: string, focusInside: boolean): void {
    setConfirmDelete(undefined);
    setActionsFor(id);
    if (focusInside) queueMicrotask(() => itemEl(id)?.querySelector<HTMLElement>('.msg-actions button')?.focus());
  }

  /**
   * An actions panel opened: Reply, Edit and Delete are below the bubble, so the whole panel is brought on
   * screen (the newest message's would otherwise open below the visible area).
   */
  function revealPanel(el: HTMLElement): void {
    queueMicrotask(() => {
      if (el.isConnected) el.scrollIntoView({ block: 'nearest' });
    });
  }

  /** Closes a message's actions; focus goes back to its actions button (or the message) if it was in them. */
  function closeActions(id: string): void {
    const li = itemEl(id);
    const active = document.activeElement;
    const hadFocus = !active || active === document.body || (li?.contains(active) ?? false);
    setActionsFor(undefined);
    setConfirmDelete(undefined);
    if (!hadFocus || !li) return;
    (li.querySelector<HTMLElement>('.msg-more') ?? li).focus({ preventScroll: true });
  }

  /** Tab from a message's last control (or Shift+Tab from the message) leaves the list: one tab stop. */
  function tabOut(e: KeyboardEvent, li: HTMLElement): void {
    const active = document.activeElement as HTMLElement | null;
    if (!active) return;
    if (e.shiftKey) {
      if (active !== li) return;
      const before = tabbables(document).filter((el) => !itemsEl.contains(el) && itemsEl.compareDocumentPosition(el) & Node.DOCUMENT_POSITION_PRECEDING);
      const target = before[before.length - 1];
      if (!target) return;
      e.preventDefault();
      target.focus();
      return;
    }
    const own = [li, ...tabbables(li)];
    if (own[own.length - 1] !== active && own.includes(active)) return;
    const after = tabbables(document).find((el) => !itemsEl.contains(el) && itemsEl.compareDocumentPosition(el) & Node.DOCUMENT_POSITION_FOLLOWING);
    if (!after) return;
    e.preventDefault();
    after.focus();
  }

  /** Tab was pressed just now (the focus it moves arrives before any timer runs). */
  let tabbing = false;
  onMount(() => {
    const onKey = (e: KeyboardEvent) => {
      if (e.key !== 'Tab') return;
      tabbing = true;
      setTimeout(() => (tabbing = false));
    };
    document.addEventListener('keydown', onKey, true);
    onCleanup(() => document.removeEventListener('keydown', onKey, true));
  });

  /**
   * Focus in a message makes it the tab stop. Tab from outside into another message's control (a link, a
   * file: controls the list does not render itself stay in the tab order) lands on the tab stop instead.
   */
  function onListFocusIn(e: FocusEvent): void {
    const id = (e.target as HTMLElement).closest<HTMLElement>('[data-msg-id]')?.dataset.msgId;
    if (id === undefined) return;
    const from = e.relatedTarget;
    const stop = tabStop();
    if (tabbing && !(from instanceof Node && itemsEl.contains(from)) && stop !== undefined && stop !== id) {
      const el = itemEl(stop);
      if (el) {
        el.focus();
        return;
      }
    }
    setCurrent(id);
  }

  function onListKeyDown(e: KeyboardEvent): void {
    const target = e.target as HTMLElement;
    const li = target.closest<HTMLElement>('[data-msg-id]');
    const id = li?.dataset.msgId;
    if (!li || id === undefined) return;
    if (e.key === 'Escape') {
      if (actionsFor() !== id) return;
      e.preventDefault();
      e.stopPropagation();
      closeActions(id);
      return;
    }
    if (e.key === 'Tab') {
      if (!e.altKey && !e.ctrlKey && !e.metaKey) tabOut(e, li);
      return;
    }
    if (e.altKey || e.ctrlKey || e.metaKey || e.isComposing) return;
    if (target.closest('.msg-actions') || target.matches('input, textarea, select, [contenteditable="true"]')) return;
    const idx = props.index.get(id);
    if (idx === undefined) return;
    const m = props.messages[idx];
    const canAct = m !== undefined && !m.deleted;
    if (e.key === 'ContextMenu' || (e.key === 'F10' && e.shiftKey)) {
      if (!canAct) return;
      e.preventDefault();
      openActions(id, true);
      return;
    }
    if (e.shiftKey) return;
    let to: number | undefined;
    if (e.key === 'ArrowUp') to = idx - 1;
    else if (e.key === 'ArrowDown') to = idx + 1;
    else if (e.key === 'Home' && target === li) to = 0;
    else if (e.key === 'End' && target === li) to = props.messages.length - 1;
    else if ((e.key === 'Enter' || e.key === ' ') && target === li) {
      e.preventDefault();
      if (canAct) openActions(id, true);
      return;
    }
    if (to === undefined) return;
    e.preventDefault();
    focusAt(to);
  }

  // Long-press (touch) opens a message's actions, which also show its exact time.
  let pressTimer: ReturnType<typeof setTimeout> | undefined;
  const startPress = (e: PointerEvent, id: string) => {
    if (e.pointerType !== 'touch') return;
    clearTimeout(pressTimer);
    pressTimer = setTimeout(() => setActionsFor(id), 500);
  };
  const endPress = () => clearTimeout(pressTimer);

  return (
    <div class="msg-scroller" ref={scroller} onScroll={onScroll}>
      <Show when={loadingOlder()}>
        <p class="msg-loading" role="status">
          Loading older messages…
        </p>
      </Show>
      <Show when={range().start === 0 && !props.conv.hasOlder && props.messages.length > 0}>
        <p class="msg-start muted small">This is the beginning of the conversation. Messages are end-to-end encrypted.</p>
      </Show>
      <Show when={props.messages.length === 0}>
        <p class="msg-empty muted">No messages yet. Say hello! Messages are end-to-end encrypted.</p>
      </Show>
      <div role="log" aria-live="off" aria-label={props.label} class="msg-log">
        <ol
          class="msg-items"
          ref={itemsEl}
          onKeyDown={onListKeyDown}
          onFocusIn={onListFocusIn}
          onContextMenu={(e) => {
            // The context-menu key on a focused message (a mouse right-click lands on what is under the pointer).
            const li = e.currentTarget.querySelector<HTMLElement>(':scope > li:focus');
            if (!li || e.target !== li || !li.querySelector('.msg-more')) return;
            e.preventDefault();
            openActions(li.dataset.msgId ?? '', true);
          }}
        >
          <For each={visible()}>
            {(m, i) => {
              const idx = () => range().start + i();
              const prev = () => props.messages[idx() - 1];
              const newDay = () => {
                const p = prev();
                return !p || !sameDay(p.ts, m.ts);
              };
              const firstOfRun = () => {
                const p = prev();
                // A membership line in between starts a new run too ("Ann added Cat", then Ann's message must
                // not read as a continuation that Cat could have written).
                return !p || newDay() || p.author !== m.author || m.ts - p.ts > RUN_GAP_MS || lines().before.has(m.id);
              };
              const reply = () => (m.replyTo !== undefined ? props.messages[props.index.get(m.replyTo) ?? -1] : undefined);
              const sender = () => (m.mine ? 'You' : props.nameOf(m.author));
              const idBase = () => `m-${m.id.replace(/[^A-Za-z0-9_-]/g, '')}`;
              const open = () => actionsFor() === m.id;
              /** Its controls are in the tab order only while it is the list's tab stop. */
              const tabIdx = () => (tabStop() === m.id ? 0 : -1);
              const actionsLabel = () => {
                const when = sameDay(m.ts, props.now)
                  ? clockTime(m.ts)
                  : new Date(m.ts).toLocaleString(undefined, { day: 'numeric', month: 'short', hour: 'numeric', minute: '2-digit' });
                const content = contentPreview(m, 40);
                return `Actions for message from ${sender()}, ${when}${content ? `: ${content}` : ''}`;
              };
              return (
                <li
                  class="msg"
                  classList={{
                    mine: m.mine,
                    theirs: !m.mine,
                    'run-start': firstOfRun(),
                    'run-cont': !firstOfRun(),
                    deleted: m.deleted,
                    highlighted: highlight() === m.id,
                    'actions-open': open(),
                  }}
                  data-msg-id={m.id}
                  tabindex={tabStop() === m.id ? 0 : -1}
                  aria-labelledby={firstOfRun() ? `${idBase()}-who ${idBase()}-when ${idBase()}-text` : `${idBase()}-who ${idBase()}-text`}
                  onPointerDown={(e) => startPress(e, m.id)}
                  onPointerUp={endPress}
                  onPointerCancel={endPress}
                  onPointerMove={endPress}
                >
                  <For each={(lines().before.get(m.id) ?? []).filter((l) => newDay() && !sameDay(l.ts, m.ts))}>
                    {(l) => <p class="msg-system">{l.text}</p>}
                  </For>
                  <Show when={newDay()}>
                    <div class="day-sep">
                      <span>{dayLabel(m.ts, props.now)}</span>
                    </div>
                  </Show>
                  <For each={(lines().before.get(m.id) ?? []).filter((l) => !newDay() || sameDay(l.ts, m.ts))}>
                    {(l) => <p class="msg-system">{l.text}</p>}
                  </For>
                  <Show when={m.id === props.firstUnreadId}>
                    <div class="unread-sep">
                      <span>New messages</span>
                    </div>
                  </Show>
                  <div class="msg-row">
                    <Show when={props.kind === 'group' && !m.mine}>
                      <span class="msg-avatar">
                        <Show when={firstOfRun()}>
                          <Avatar name={props.nameOf(m.author)} colourKey={m.author} size="sm" src={props.avatarOf?.(m.author)} />
                        </Show>
                      </span>
                    </Show>
                    <div class="msg-body">
                      <Show
                        when={firstOfRun()}
                        fallback={
                          <span class="visually-hidden" id={`${idBase()}-who`}>
                            {sender()}
                          </span>
                        }
                      >
                        <div class="msg-head">
                          <span class="msg-sender" id={`${idBase()}-who`} dir={textDir(sender())}>
                            {sender()}
                          </span>{' '}
                          <time class="msg-time" id={`${idBase()}-when`} datetime={new Date(m.ts).toISOString()} title={exactTime(m.ts)}>
                            {messageTime(m.ts, props.now)}
                          </time>
                        </div>
                      </Show>
                      <div class="msg-bubble">
                        <Show when={reply()}>
                          {(r) => (
                            <button type="button" class="msg-quote" tabindex={tabIdx()} onClick={() => jumpTo(r().id)}>
                              <span class="visually-hidden">In reply to </span>
                              <span class="msg-quote-who" dir={textDir(r().mine ? 'You' : props.nameOf(r().author))}>
                                {r().mine ? 'You' : props.nameOf(r().author)}
                              </span>
                              <span class="msg-quote-text" dir={textDir(r().deleted ? 'Deleted message' : r().text)}>
                                {r().deleted ? 'Deleted message' : preview(r().text, 120)}
                              </span>
                            </button>
                          )}
                        </Show>
                        <Show when={m.replyTo !== undefined && !reply()}>
                          <p class="msg-quote msg-quote-missing">In reply to an older message</p>
                        </Show>
                        <Show
                          when={!m.deleted}
                          fallback={
                            <p class="msg-text msg-deleted" id={`${idBase()}-text`}>
                              This message was deleted.
                            </p>
                          }
                        >
                          <p class="msg-text" id={`${idBase()}-text`} dir={textDir(m.text)}>
                            <RichText text={m.text} />
                          </p>
                        </Show>
                        <Show when={!m.deleted && m.attachments.length > 0}>
                          <MessageAttachments conv={props.conv} attachments={m.attachments} />
                        </Show>
                        <span class="msg-meta">
                          <Show when={m.edited && !m.deleted}>
                            <span class="msg-edited">edited</span>
                          </Show>
                          <Show when={!firstOfRun()}>
                            <time class="msg-time-inline" aria-hidden="true" datetime={new Date(m.ts).toISOString()} title={exactTime(m.ts)}>
                              {messageTime(m.ts, props.now)}
                            </time>
                          </Show>
                          <Show when={m.mine && !m.deleted && (m.status === 'pending' || idx() === lastMineIdx())}>
                            <span
                              class="msg-status"
                              classList={{ pending: m.status === 'pending', read: m.readBy.length > 0 }}
                              title={m.readBy.length > 0 ? `Read by ${names(m.readBy)}` : undefined}
                            >
                              {deliveryText(m)}
                            </span>
                          </Show>
                        </span>
                      </div>
                      <Show when={m.reactions.length > 0 && !m.deleted}>
                        <ul class="msg-reactions" aria-label="Reactions">
                          <For each={m.reactions}>
                            {(r) => (
                              <li>
                                <button
                                  type="button"
                                  class="reaction"
                                  tabindex={tabIdx()}
                                  aria-pressed={r.users.includes(props.meId) ? 'true' : 'false'}
                                  aria-label={`${r.emoji} ${r.users.length}: ${names(r.users)}`}
                                  title={names(r.users)}
                                  onClick={() => toggleReaction(m, r.emoji)}
                                >
                                  <span aria-hidden="true">{r.emoji}</span> <span aria-hidden="true">{r.users.length}</span>
                                </button>
                              </li>
                            )}
                          </For>
                        </ul>
                      </Show>
                    </div>
                    <Show when={!m.deleted}>
                      <button
                        type="button"
                        class="msg-more"
                        tabindex={tabIdx()}
                        aria-label={actionsLabel()}
                        aria-expanded={open() ? 'true' : 'false'}
                        onClick={() => {
                          setConfirmDelete(undefined);
                          setActionsFor(open() ? undefined : m.id);
                        }}
                      >
                        <span aria-hidden="true">⋯</span>
                      </button>
                    </Show>
                  </div>
                  <Show when={open()}>
                    <div
                      class="msg-actions"
                      role="group"
                      aria-label="Message actions"
                      ref={revealPanel}
                    >
                      <span class="msg-exact small muted">{exactTime(m.ts)}</span>
                      <div class="msg-actions-row">
                        <For each={QUICK_REACTIONS}>
                          {(emoji) => (
                            <button
                              type="button"
                              class="btn-emoji"
                              aria-label={`React with ${emoji}`}
                              onClick={() => {
                                toggleReaction(m, emoji);
                                closeActions(m.id);
                              }}
                            >
                              {emoji}
                            </button>
                          )}
                        </For>
                      </div>
                      <div class="msg-actions-row">
                        <button
                          type="button"
                          class="btn btn-small btn-ghost"
                          onClick={() => {
                            props.onReply(m);
                            setActionsFor(undefined);
                          }}
                        >
                          Reply
                        </button>
                        <Show when={m.mine}>
                          <button
                            type="button"
                            class="btn btn-small btn-ghost"
                            onClick={() => {
                              props.onEdit(m);
                              setActionsFor(undefined);
                            }}
                          >
                            Edit
                          </button>
                          <Show
                            when={confirmDelete() === m.id}
                            fallback={
                              <button type="button" class="btn btn-small btn-ghost btn-danger" onClick={() => setConfirmDelete(m.id)}>
                                Delete
                              </button>
                            }
                          >
                            <button
                              type="button"
                              class="btn btn-small btn-danger"
                              onClick={() => {
                                props.conv.delete(m.id).catch(props.onError);
                                // The actions button goes with the message's content: focus stays on the message.
                                itemEl(m.id)?.focus({ preventScroll: true });
                                setActionsFor(undefined);
                                setConfirmDelete(undefined);
                              }}
                            >
                              Delete for everyone
                            </button>
                          </Show>
                        </Show>
                      </div>
                    </div>
                  </Show>
                </li>
              );
            }}
          </For>
          <Show when={range().end >= props.messages.length}>
            <For each={lines().after}>
              {(l) => (
                <li class="msg-system-item">
                  <p class="msg-system">{l.text}</p>
                </li>
              )}
            </For>
          </Show>
        </ol>
      </div>
      <Show when={!atBottom()}>
        <button type="button" class="jump-latest" onClick={toLatest}>
          <span aria-hidden="true">↓</span> {unseen() > 0 ? `${unseen()} new message${unseen() === 1 ? '' : 's'}` : 'Jump to latest'}
        </button>
      </Show>
      <div class="visually-hidden msg-announce" role="status">
        <Show when={announcement()} keyed>
          {(a) => <span>{a.text}</span>}
        </Show>
      </div>
    </div>
  );
}

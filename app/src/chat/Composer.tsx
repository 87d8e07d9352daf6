/**
 * The composer: Enter sends, Shift+Enter adds a line, the box grows with its text (up to a limit), and a
 * draft per conversation survives switching conversations (memory) and reloads (the core's sealed store,
 * so drafts are encrypted at rest), and so do files finished uploading (`UploadQueue.keepIn`). Reply and
 * edit modes show what they act on, Escape cancels them.
 * An edit cannot blank a message: Save stays disabled and a hint says to delete the message instead (a
 * message with files may lose its text: the files remain).
 * Typing is announced (encrypted awareness) while the user types, and withdrawn on send or after a pause.
 * Text longer than the core accepts (`MAX_TEXT_LENGTH`, UTF-16 units, counted like the core on the text as
 * sent) is never cut (no `maxlength`, which cut pastes silently): a counter shows near the limit, and over
 * it Send is disabled and the hint says by how much. Sending keeps the first line's indentation (only blank
 * lines before it and whitespace at the end go); whitespace alone is not sent.
 */
import { createEffect, createMemo, createSignal, on, onCleanup, Show, type JSX } from 'solid-js';
import { z } from 'zod';
import type { Conversation, ConversationMessage, SealedStore } from '@parley/shared/client';
import { MAX_TEXT_LENGTH } from '@parley/shared/envelope';
import { contentPreview, preview } from './message-preview.ts';
import { draftName } from './local-names.ts';
import { AttachButton, UploadTray, pasteFiles, uploadQueueFor } from './files/Attachments.tsx';
import { toast } from '../ui/toasts.tsx';

/** Longest text the core sends, in UTF-16 code units (what `String.length` counts). */
const MAX_CHARS = MAX_TEXT_LENGTH;
/** The counter shows from here on. */
const COUNT_FROM = Math.floor(MAX_CHARS * 0.9);
/** Longest draft kept in the sealed store (a draft may be over `MAX_CHARS` while the user shortens it). */
const DRAFT_MAX = 1_000_000;
const DraftRecord = z.object({ v: z.literal(1), text: z.string().max(DRAFT_MAX) }).strict();
/**
 * Drafts in memory (switching conversations), per signed-in account's sealed store: a sign-out and the next
 * sign-in (another user, or the same one after a wipe) get a new store and so none of these drafts.
 */
const memoryDraftsByStore = new WeakMap<SealedStore, Map<string, string>>();
function memoryDraftsOf(store: SealedStore): Map<string, string> {
  let m = memoryDraftsByStore.get(store);
  if (!m) memoryDraftsByStore.set(store, (m = new Map()));
  return m;
}

/**
 * The text as sent: blank lines before the first line and whitespace at the end removed; the first line's
 * indentation kept ("    code" stays indented). Whitespace alone gives "".
 */
export function outgoingText(text: string): string {
  return text.trimEnd().replace(/^(?:[^\S\n]*\n)+/, '');
}

/** Composer mode: a new message, a reply, or an edit of one of my messages. */
export type ComposerMode = { kind: 'new' } | { kind: 'reply'; to: ConversationMessage } | { kind: 'edit'; of: ConversationMessage };

/** Props of `Composer`. */
export interface ComposerProps {
  conv: Conversation;
  store: SealedStore;
  mode: ComposerMode;
  nameOf: (userId: string) => string;
  onModeDone: () => void;
  onSent: () => void;
  onError: (e: unknown) => void;
  disabled?: boolean;
  ref?: (api: { focus: () => void }) => void;
}

/** See the module comment. */
export function Composer(props: ComposerProps): JSX.Element {
  let box!: HTMLTextAreaElement;
  const [text, setText] = createSignal('');
  let saveTimer: ReturnType<typeof setTimeout> | undefined;
  let typingStop: ReturnType<typeof setTimeout> | undefined;
  let typingSentAt = 0;
  let loadedFor = '';


  function grow(): void {
    box.style.height = 'auto';
    box.style.height = `${Math.min(box.scrollHeight, 180)}px`;
  }

  /** The draft write waiting for typing to pause (written at once when the composer goes). */
  let pendingWrite: (() => void) | undefined;

  function persist(convId: string, value: string): void {
    clearTimeout(saveTimer);
    pendingWrite = undefined;
    if (value.length > DRAFT_MAX) return; // kept in memory only; the stored draft stays the last one that fit
    const store = props.store;
    pendingWrite = () => {
      pendingWrite = undefined;
      const write = value ? store.setJson(draftName(convId), { v: 1, text: value }) : store.delete(draftName(convId));
      void write.catch(() => undefined);
    };
    saveTimer = setTimeout(() => pendingWrite?.(), 400);
  }

  function setDraft(value: string): void {
    setText(value);
    if (props.mode.kind === 'edit') return; // an edit is not a draft
    memoryDraftsOf(props.store).set(props.conv.id, value);
    persist(props.conv.id, value);
  }

  // Load the draft of the conversation on screen.
  createEffect(
    on(
      () => props.conv.id,
      (convId) => {
        loadedFor = convId;
        void uploadQueueFor(props.conv).keepIn(props.store); // finished files come back after a reload too
        const mem = memoryDraftsOf(props.store).get(convId);
        setText(mem ?? '');
        queueMicrotask(grow);
        if (mem === undefined) {
          void props.store
            .getJson(draftName(convId), DraftRecord)
            .then((d) => {
              if (d && loadedFor === convId && text() === '') {
                memoryDraftsOf(props.store).set(convId, d.text);
                setText(d.text);
                queueMicrotask(grow);
              }
            })
            .catch(() => undefined);
        }
      },
    ),
  );

  // Entering edit mode fills the box with the message; leaving it restores the draft.
  createEffect(
    on(
      () => props.mode,
      (mode) => {
        if (mode.kind === 'edit') setText(mode.of.text);
        else setText(memoryDraftsOf(props.store).get(props.conv.id) ?? '');
        queueMicrotask(() => {
          grow();
          box.focus();
        });
      },
      { defer: true },
    ),
  );

  // The message being edited was deleted (on another device, or by an admin): the edit cannot be saved. Leave
  // edit mode; text the user changed stays in the box as a draft, so nothing typed is lost.
  createEffect(() => {
    const mode = props.mode;
    if (mode.kind !== 'edit' || !mode.of.deleted) return;
    const typed = text();
    const changed = typed.trim() !== '' && typed !== mode.of.text;
    props.onModeDone();
    if (changed) queueMicrotask(() => setDraft(typed));
    toast(changed ? 'The message you were editing was deleted. Your text is back in the message box.' : 'The message you were editing was deleted.', 'info');
  });

  function stopTyping(): void {
    clearTimeout(typingStop);
    if (typingSentAt !== 0) {
      typingSentAt = 0;
      props.conv.setTyping(false);
    }
  }

  function typed(): void {
    if (props.mode.kind === 'edit') return;
    const now = Date.now();
    if (text().trim() === '') return stopTyping();
    if (now - typingSentAt > 3000) {
      typingSentAt = now;
      props.conv.setTyping(true);
    }
    clearTimeout(typingStop);
    typingStop = setTimeout(stopTyping, 4000);
  }

  onCleanup(() => {
    clearTimeout(saveTimer);
    pendingWrite?.(); // leaving the chat (Settings, another account's sign-in) must not lose the last keystrokes
    stopTyping();
  });

  /** Edit mode with nothing but whitespace: not saved (an edit never empties a message; Delete does). */
  const blankEdit = () => props.mode.kind === 'edit' && props.mode.of.attachments.length === 0 && text().trim() === '';
  /** Length of the text as sent, in the core's unit. */
  const length = createMemo(() => outgoingText(text()).length);
  const tooLong = () => length() > MAX_CHARS;
  const hint = () => {
    if (blankEdit()) return 'A message cannot be empty. To remove it, cancel editing and delete the message instead.';
    if (!tooLong()) return '';
    const over = length() - MAX_CHARS;
    return `Too long by ${over.toLocaleString()} ${over === 1 ? 'character' : 'characters'}. Shorten it to ${props.mode.kind === 'edit' ? 'save' : 'send'}.`;
  };

  async function submit(): Promise<void> {
    const value = outgoingText(text());
    const uploads = uploadQueueFor(props.conv);
    const files = props.mode.kind === 'edit' ? [] : uploads.ready();
    if (props.disabled || blankEdit() || tooLong()) return;
    if (props.mode.kind !== 'edit' && ((!value && files.length === 0) || uploads.busy())) return;
    const mode = props.mode;
    const conv = props.conv;
    stopTyping();
    try {
      if (mode.kind === 'edit') {
        if (value !== mode.of.text) await conv.edit(mode.of.id, value);
      } else if (mode.kind === 'reply') await conv.send(value, { replyTo: mode.to.id, attachments: files });
      else await conv.send(value, { attachments: files });
      uploads.clearSent(files);
    } catch (e) {
      props.onError(e);
      return;
    }
    if (mode.kind === 'edit') setText(memoryDraftsOf(props.store).get(conv.id) ?? '');
    else {
      memoryDraftsOf(props.store).delete(conv.id);
      setText('');
      persist(conv.id, '');
    }
    queueMicrotask(grow);
    if (mode.kind !== 'new') props.onModeDone();
    props.onSent();
  }

  function onKeyDown(e: KeyboardEvent): void {
    if (e.key === 'Enter' && !e.shiftKey && !e.isComposing && e.keyCode !== 229) {
      e.preventDefault();
      void submit();
    } else if (e.key === 'Escape' && props.mode.kind !== 'new') {
      e.preventDefault();
      props.onModeDone();
    }
  }

  props.ref?.({ focus: () => box.focus() });

  const modeLabel = () => {
    const m = props.mode;
    // `m.to` is the list's store object, so an edit or deletion while the bar is open shows here too.
    if (m.kind === 'reply')
      return { title: `Replying to ${m.to.mine ? 'yourself' : props.nameOf(m.to.author)}`, text: m.to.deleted ? 'Deleted message' : contentPreview(m.to, 100) };
    if (m.kind === 'edit') return { title: 'Editing your message', text: preview(m.of.text, 100) };
    return undefined;
  };

  return (
    <form
      class="composer"
      onSubmit={(e) => {
        e.preventDefault();
        void submit();
      }}
    >
      <Show when={modeLabel()}>
        {(l) => (
          <div class="composer-mode">
            <div class="composer-mode-text">
              <strong>{l().title}</strong>
              <span class="muted">{l().text}</span>
            </div>
            <button type="button" class="btn btn-icon" aria-label={props.mode.kind === 'edit' ? 'Cancel editing' : 'Cancel reply'} onClick={() => props.onModeDone()}>
              <span aria-hidden="true">×</span>
            </button>
          </div>
        )}
      </Show>
      <p id="composer-hint" class="composer-hint" classList={{ 'composer-hint-over': tooLong() }} role="status">
        {hint()}
      </p>
      <UploadTray conv={props.conv} />
      <Show when={length() >= COUNT_FROM}>
        <p id="composer-count" class="composer-count" classList={{ 'composer-count-over': tooLong() }}>
          {length().toLocaleString()} / {MAX_CHARS.toLocaleString()}
        </p>
      </Show>
      <div class="composer-row">
        <AttachButton conv={props.conv} disabled={props.disabled || props.mode.kind === 'edit'} />
        <label class="visually-hidden" for="composer-input">
          Message
        </label>
        <textarea
          id="composer-input"
          ref={box}
          class="composer-input"
          rows="1"
          dir="auto"
          placeholder={props.disabled ? 'You can no longer send messages here' : 'Write a message'}
          disabled={props.disabled}
          aria-describedby={[length() >= COUNT_FROM ? 'composer-count' : '', blankEdit() || tooLong() ? 'composer-hint' : ''].filter(Boolean).join(' ') || undefined}
          aria-invalid={tooLong() ? 'true' : undefined}
          value={text()}
          enterkeyhint="send"
          onInput={(e) => {
            setDraft(e.currentTarget.value);
            grow();
            typed();
          }}
          onKeyDown={onKeyDown}
          onBlur={stopTyping}
          onPaste={(e) => pasteFiles(e, props.conv)}
        />
        <button
          type="submit"
          class="btn btn-primary composer-send"
          disabled={
            props.disabled ||
            blankEdit() ||
            tooLong() ||
            (props.mode.kind !== 'edit' && ((text().trim() === '' && uploadQueueFor(props.conv).ready().length === 0) || uploadQueueFor(props.conv).busy()))
          }
          aria-label={props.mode.kind === 'edit' ? 'Save edit' : 'Send message'}
        >
          <span aria-hidden="true">{props.mode.kind === 'edit' ? '✓' : '➤'}</span>
        </button>
      </div>
    </form>
  );
}

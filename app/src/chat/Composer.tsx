/**
 * The composer: Enter sends, Shift+Enter adds a line, the box grows with its text (up to a limit), and a
 * draft per conversation survives switching conversations (memory) and reloads (the core's sealed store,
 * so drafts are encrypted at rest), and so do files finished uploading (`UploadQueue.keepIn`). Reply and
 * edit modes show what they act on, Escape cancels them.
 * An edit cannot blank a message: Save stays disabled and a hint says to delete the message instead (a
 * message with files may lose its text: the files remain).
 * Typing is announced (encrypted awareness) while the user types, and withdrawn on send or after a pause.
 */
import { createEffect, createSignal, on, onCleanup, Show, type JSX } from 'solid-js';
import { z } from 'zod';
import type { Conversation, ConversationMessage, SealedStore } from '@parley/shared/client';
import { preview } from './message-preview.ts';
import { draftName } from './local-names.ts';
import { AttachButton, UploadTray, pasteFiles, uploadQueueFor } from './files/Attachments.tsx';

const MAX_CHARS = 10_000;
const DraftRecord = z.object({ v: z.literal(1), text: z.string().max(MAX_CHARS) }).strict();
const memoryDrafts = new Map<string, string>();

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

  function persist(convId: string, value: string): void {
    clearTimeout(saveTimer);
    saveTimer = setTimeout(() => {
      const write = value ? props.store.setJson(draftName(convId), { v: 1, text: value }) : props.store.delete(draftName(convId));
      void write.catch(() => undefined);
    }, 400);
  }

  function setDraft(value: string): void {
    setText(value);
    if (props.mode.kind === 'edit') return; // an edit is not a draft
    memoryDrafts.set(props.conv.id, value);
    persist(props.conv.id, value);
  }

  // Load the draft of the conversation on screen.
  createEffect(
    on(
      () => props.conv.id,
      (convId) => {
        loadedFor = convId;
        void uploadQueueFor(props.conv).keepIn(props.store); // finished files come back after a reload too
        const mem = memoryDrafts.get(convId);
        setText(mem ?? '');
        queueMicrotask(grow);
        if (mem === undefined) {
          void props.store
            .getJson(draftName(convId), DraftRecord)
            .then((d) => {
              if (d && loadedFor === convId && text() === '') {
                memoryDrafts.set(convId, d.text);
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
        else setText(memoryDrafts.get(props.conv.id) ?? '');
        queueMicrotask(() => {
          grow();
          box.focus();
        });
      },
      { defer: true },
    ),
  );

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
    stopTyping();
  });

  /** Edit mode with nothing but whitespace: not saved (an edit never empties a message; Delete does). */
  const blankEdit = () => props.mode.kind === 'edit' && props.mode.of.attachments.length === 0 && text().trim() === '';

  async function submit(): Promise<void> {
    const value = text().trim();
    const uploads = uploadQueueFor(props.conv);
    const files = props.mode.kind === 'edit' ? [] : uploads.ready();
    if (props.disabled || blankEdit()) return;
    if (props.mode.kind !== 'edit' && ((!value && files.length === 0) || uploads.busy())) return;
    if (value.length > MAX_CHARS) {
      props.onError(new Error('too long'));
      return;
    }
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
    if (mode.kind === 'edit') setText(memoryDrafts.get(conv.id) ?? '');
    else {
      memoryDrafts.delete(conv.id);
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
    if (m.kind === 'reply') return { title: `Replying to ${m.to.mine ? 'yourself' : props.nameOf(m.to.author)}`, text: preview(m.to.text, 100) };
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
      <p id="composer-hint" class="composer-hint" role="status">
        {blankEdit() ? 'A message cannot be empty. To remove it, cancel editing and delete the message instead.' : ''}
      </p>
      <UploadTray conv={props.conv} />
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
          maxlength={MAX_CHARS}
          placeholder={props.disabled ? 'You can no longer send messages here' : 'Write a message'}
          disabled={props.disabled}
          aria-describedby={blankEdit() ? 'composer-hint' : undefined}
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

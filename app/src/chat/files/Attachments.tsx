/**
 * File sharing in the chat screens, hooked into the chat components with a few lines each:
 * - `AttachButton` (composer): a file picker;
 * - `UploadTray` (composer): staged files with per-file progress, cancel/remove, and refusal reasons; an
 *   upload in flight says "Waiting for connection…" while the browser is offline (it goes on once back);
 * - `pasteFiles` (composer textarea `onPaste`) and `fileDropTarget` (conversation `ref`): clipboard files
 *   and drag and drop;
 * - `MessageAttachments` (message bubble): image thumbnails (lightbox on click) and file cards.
 * Crypto and transfers stay in the client core; these components only hold display state.
 */
import { For, Show, type JSX } from 'solid-js';
import type { Conversation } from '@parley/shared/client';
import type { Attachment } from '@parley/shared/envelope';
import { isOnline } from '../../shell/online.ts';
import { toast } from '../../ui/toasts.tsx';
import { FileCard } from './FileCard.tsx';
import { FileName } from './FileName.tsx';
import { ImageAttachment } from './ImageAttachment.tsx';
import { PREVIEWABLE_TYPES, THUMB_TYPES, formatBytes } from './thumbnails.ts';
import { uploadQueueFor, type UploadItem, type UploadQueue } from './upload-queue.ts';
import './files.css';

export { uploadQueueFor, type UploadQueue } from './upload-queue.ts';

function stage(queue: UploadQueue, files: readonly File[]): void {
  if (files.length === 0) return;
  const refused = queue.add(files);
  if (refused > 0) toast(`A message can carry at most 10 files; ${refused} file${refused === 1 ? ' was' : 's were'} not added.`, 'error');
}

/** The composer's attach button: opens the file picker (several files at once). */
export function AttachButton(props: { conv: Conversation; disabled?: boolean }): JSX.Element {
  let input!: HTMLInputElement;
  return (
    <>
      <input
        ref={input}
        type="file"
        multiple
        hidden
        data-testid="attach-input"
        onChange={(e) => {
          stage(uploadQueueFor(props.conv), [...(e.currentTarget.files ?? [])]);
          e.currentTarget.value = '';
        }}
      />
      <button type="button" class="btn btn-icon composer-attach" aria-label="Attach files" disabled={props.disabled} onClick={() => input.click()}>
        <svg class="icon" aria-hidden="true" viewBox="0 0 24 24" width="20" height="20" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" stroke-linejoin="round">
          <path d="M21 11.5l-8.6 8.6a5.5 5.5 0 0 1-7.8-7.8l8.6-8.6a3.7 3.7 0 0 1 5.2 5.2l-8.6 8.6a1.8 1.8 0 0 1-2.6-2.6l7.9-7.9" />
        </svg>
      </button>
    </>
  );
}

/** The status line of a staged file. */
function uploadStatus(item: UploadItem, online: boolean): string {
  if (item.state === 'ready') return `Ready · ${formatBytes(item.size)}`;
  if (item.state === 'failed') return 'Not uploaded';
  return online ? `Encrypting and uploading… ${formatBytes(item.loaded)} of ${formatBytes(item.size)}` : 'Waiting for connection…';
}

/** Staged files of the conversation with progress, cancel and errors; nothing when empty. */
export function UploadTray(props: { conv: Conversation }): JSX.Element {
  const queue = () => uploadQueueFor(props.conv);
  return (
    <Show when={queue().items().length > 0}>
      <ul class="upload-tray" aria-label="Files to send">
        <For each={queue().items()}>
          {(item) => (
            <li class="upload-item" classList={{ 'upload-failed': item.state === 'failed', 'upload-ready': item.state === 'ready' }}>
              <span class="upload-text">
                <FileName class="upload-name" name={item.name} />
                <span class="small muted">{uploadStatus(item, isOnline())}</span>
                <Show when={item.state === 'uploading'}>
                  <progress class="file-progress" max={Math.max(1, item.size)} value={item.loaded} aria-label={`Uploading ${item.name}`} />
                </Show>
                <Show when={item.error}>
                  <span class="file-error small" role="alert">
                    {item.error}
                  </span>
                </Show>
              </span>
              <button
                type="button"
                class="btn btn-icon btn-small"
                aria-label={item.state === 'uploading' ? `Cancel upload of ${item.name}` : `Remove ${item.name}`}
                onClick={() => queue().remove(item.key)}
              >
                <span aria-hidden="true">×</span>
              </button>
            </li>
          )}
        </For>
      </ul>
    </Show>
  );
}

/** `onPaste` of the composer: stages pasted files (screenshots, copied files); text pastes as usual. */
export function pasteFiles(e: ClipboardEvent, conv: Conversation): void {
  const files = [...(e.clipboardData?.files ?? [])];
  if (files.length === 0) return;
  e.preventDefault();
  stage(uploadQueueFor(conv), files);
}

/**
 * Makes `el` (the conversation view) a drop target for files: highlighted (class `file-drop-active`)
 * while files are dragged over it. Call from a `ref`; listeners are removed with the owner.
 */
export function fileDropTarget(el: HTMLElement, conv: Conversation, enabled: () => boolean = () => true): void {
  let depth = 0;
  const hasFiles = (e: DragEvent) => e.dataTransfer?.types.includes('Files') ?? false;
  const onEnter = (e: DragEvent) => {
    if (!hasFiles(e) || !enabled()) return;
    depth++;
    el.classList.add('file-drop-active');
  };
  const onLeave = () => {
    depth = Math.max(0, depth - 1);
    if (depth === 0) el.classList.remove('file-drop-active');
  };
  const onOver = (e: DragEvent) => {
    if (!hasFiles(e) || !enabled()) return;
    e.preventDefault();
    if (e.dataTransfer) e.dataTransfer.dropEffect = 'copy';
  };
  const onDrop = (e: DragEvent) => {
    depth = 0;
    el.classList.remove('file-drop-active');
    if (!hasFiles(e) || !enabled()) return;
    e.preventDefault();
    stage(uploadQueueFor(conv), [...(e.dataTransfer?.files ?? [])]);
  };
  el.addEventListener('dragenter', onEnter);
  el.addEventListener('dragleave', onLeave);
  el.addEventListener('dragover', onOver);
  el.addEventListener('drop', onDrop);
  // Registered on the element's own lifetime: Solid disposes the view by removing it, and a removed element's
  // listeners go with it, so no explicit cleanup is needed.
}

/** True when an attachment is shown as an inline image (a thumbnail of a previewable raster type). */
export function isInlineImage(a: Attachment): boolean {
  return a.thumb !== undefined && PREVIEWABLE_TYPES.has(a.file.type) && THUMB_TYPES.has(a.thumb.type);
}

/** The attachments of a message, in the sender's order: images as thumbnails, other files as cards. */
export function MessageAttachments(props: { conv: Conversation; attachments: readonly Attachment[] }): JSX.Element {
  return (
    <ul class="msg-attachments" aria-label="Attachments">
      <For each={props.attachments}>
        {(a) => (
          <li>
            <Show when={isInlineImage(a)} fallback={<FileCard conv={props.conv} file={a.file} />}>
              <ImageAttachment conv={props.conv} attachment={a} />
            </Show>
          </li>
        )}
      </For>
    </ul>
  );
}

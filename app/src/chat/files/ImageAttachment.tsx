/**
 * An image attachment: its thumbnail, downloaded and verified first ([FILE-9]), shown from a `blob:` URL
 * made only after that (revoked when the message leaves the screen); a click opens the full image in the
 * `Lightbox`. When the thumbnail cannot be verified, the reason is shown and the file card takes over.
 */
import { createSignal, onCleanup, onMount, Show, type JSX } from 'solid-js';
import type { Conversation } from '@parley/shared/client';
import type { Attachment } from '@parley/shared/envelope';
import { verifiedThumbnail } from './download.ts';
import { FileCard } from './FileCard.tsx';
import { Lightbox } from './Lightbox.tsx';
import { THUMB_TYPES } from './thumbnails.ts';

/** Props of `ImageAttachment` (`attachment.thumb` must be set). */
export interface ImageAttachmentProps {
  conv: Conversation;
  attachment: Attachment;
}

/** See the module comment. */
export function ImageAttachment(props: ImageAttachmentProps): JSX.Element {
  const [url, setUrl] = createSignal<string | undefined>();
  const [error, setError] = createSignal('');
  const [open, setOpen] = createSignal(false);
  const ctl = new AbortController();
  let objectUrl: string | undefined;
  const a = props.attachment;
  const landscape = (a.width ?? 4) >= (a.height ?? 3);

  onMount(() => {
    const thumb = a.thumb;
    if (!thumb) return;
    void verifiedThumbnail(props.conv, thumb, ctl.signal).then((r) => {
      if (ctl.signal.aborted) return;
      if (!r.ok) return setError(r.error);
      const type = THUMB_TYPES.has(thumb.type) ? thumb.type : 'application/octet-stream';
      objectUrl = URL.createObjectURL(new Blob([r.data as Uint8Array<ArrayBuffer>], { type }));
      setUrl(objectUrl);
    });
  });
  onCleanup(() => {
    ctl.abort();
    if (objectUrl) URL.revokeObjectURL(objectUrl);
  });

  return (
    <Show
      when={!error()}
      fallback={
        <div class="image-failed">
          <p class="file-error small" role="alert">
            Preview unavailable: {error()}
          </p>
          <FileCard conv={props.conv} file={a.file} />
        </div>
      }
    >
      <button
        type="button"
        class="image-attachment"
        classList={{ 'image-landscape': landscape, 'image-portrait': !landscape, 'image-loading': !url() }}
        aria-label={`Open image ${a.file.name}`}
        aria-haspopup="dialog"
        onClick={() => setOpen(true)}
      >
        <Show when={url()} fallback={<span class="image-placeholder small muted">Loading preview…</span>}>
          {(src) => <img class="image-thumb" src={src()} alt={a.file.name} onError={() => setError('the preview could not be displayed.')} />}
        </Show>
      </button>
      <Show when={open()}>
        <Lightbox conv={props.conv} file={a.file} onClose={() => setOpen(false)} />
      </Show>
    </Show>
  );
}

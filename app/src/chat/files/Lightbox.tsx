/**
 * The full-size image viewer: a modal `<dialog>` (the page behind is inert, so focus stays inside; Escape
 * closes it) that downloads and verifies the full image, shows it from a `blob:` URL made only after the
 * verified download (revoked on close), and offers a download.
 */
import { createSignal, onCleanup, onMount, Show, type JSX } from 'solid-js';
import type { Conversation } from '@parley/shared/client';
import type { FileRef } from '@parley/shared/protocol';
import { downloadVerified, saveBytes } from './download.ts';
import { formatBytes, PREVIEWABLE_TYPES } from './thumbnails.ts';

/** Props of `Lightbox`. */
export interface LightboxProps {
  conv: Conversation;
  file: FileRef;
  onClose: () => void;
}

/** See the module comment. */
export function Lightbox(props: LightboxProps): JSX.Element {
  let dlg!: HTMLDialogElement;
  let closeBtn!: HTMLButtonElement;
  const [url, setUrl] = createSignal<string | undefined>();
  const [bytes, setBytes] = createSignal<Uint8Array | undefined>();
  const [loaded, setLoaded] = createSignal(0);
  const [error, setError] = createSignal('');
  const ctl = new AbortController();
  const titleId = `lb-${Math.random().toString(36).slice(2)}`;
  let objectUrl: string | undefined;

  onMount(() => {
    dlg.showModal();
    closeBtn.focus();
    void downloadVerified(props.conv, props.file, { signal: ctl.signal, onProgress: (p) => setLoaded(p.loaded) }).then((r) => {
      if (ctl.signal.aborted) return;
      if (!r.ok) return setError(r.error);
      setBytes(r.data);
      // Only a raster type renders inline; the verified bytes are shown under that type.
      const type = PREVIEWABLE_TYPES.has(props.file.type) ? props.file.type : 'application/octet-stream';
      objectUrl = URL.createObjectURL(new Blob([r.data as Uint8Array<ArrayBuffer>], { type }));
      setUrl(objectUrl);
    });
  });
  onCleanup(() => {
    ctl.abort();
    if (objectUrl) URL.revokeObjectURL(objectUrl);
    if (dlg.open) dlg.close();
  });

  return (
    <dialog
      ref={dlg}
      class="modal lightbox"
      aria-labelledby={titleId}
      onClose={() => props.onClose()}
      onClick={(e) => {
        if (e.target === dlg) dlg.close();
      }}
    >
      <div class="lightbox-inner">
        <div class="lightbox-head">
          <h2 id={titleId} class="lightbox-title">
            {props.file.name}
          </h2>
          <span class="small muted">{formatBytes(props.file.size)}</span>
          <button
            type="button"
            class="btn btn-small"
            disabled={!bytes()}
            onClick={() => {
              const b = bytes();
              if (b) saveBytes(b, props.file.name);
            }}
          >
            Download
          </button>
          <button type="button" ref={closeBtn} class="btn btn-icon" aria-label="Close viewer" onClick={() => dlg.close()}>
            <span aria-hidden="true">×</span>
          </button>
        </div>
        <div class="lightbox-body">
          <Show
            when={url()}
            fallback={
              <Show
                when={error()}
                fallback={
                  <p role="status" class="lightbox-loading">
                    <progress class="file-progress" max={Math.max(1, props.file.size)} value={loaded()} aria-label={`Loading ${props.file.name}`} />
                  </p>
                }
              >
                <p class="file-error" role="alert">
                  {error()}
                </p>
              </Show>
            }
          >
            {(src) => <img class="lightbox-img" src={src()} alt={props.file.name} onError={() => setError('This image could not be displayed. You can still download it.')} />}
          </Show>
        </div>
      </div>
    </dialog>
  );
}

/**
 * A non-image attachment (or an image whose preview failed): the file name as text, its size, and a
 * download button that fetches, verifies and then saves the file. Verification failures show their reason.
 */
import { createSignal, onCleanup, Show, type JSX } from 'solid-js';
import type { Conversation } from '@parley/shared/client';
import type { FileRef } from '@parley/shared/protocol';
import { downloadVerified, saveBytes } from './download.ts';
import { formatBytes } from './thumbnails.ts';

/** Props of `FileCard`. */
export interface FileCardProps {
  conv: Conversation;
  file: FileRef;
}

/** See the module comment. */
export function FileCard(props: FileCardProps): JSX.Element {
  const [loaded, setLoaded] = createSignal<number | undefined>();
  const [error, setError] = createSignal('');
  let ctl: AbortController | undefined;
  onCleanup(() => ctl?.abort());

  async function download(): Promise<void> {
    if (ctl) {
      ctl.abort(); // second click while downloading: cancel
      return;
    }
    ctl = new AbortController();
    setError('');
    setLoaded(0);
    const r = await downloadVerified(props.conv, props.file, { signal: ctl.signal, onProgress: (p) => setLoaded(p.loaded) });
    ctl = undefined;
    setLoaded(undefined);
    if (r.ok) saveBytes(r.data, props.file.name);
    else setError(r.error);
  }

  return (
    <div class="file-card" classList={{ 'file-card-failed': error() !== '' }}>
      <svg class="file-card-icon" aria-hidden="true" viewBox="0 0 24 24" width="28" height="28" fill="none" stroke="currentColor" stroke-width="1.8" stroke-linejoin="round">
        <path d="M6 2.5h8l4.5 4.5v14.5H6z" />
        <path d="M14 2.5V7h4.5" />
      </svg>
      <span class="file-card-text">
        <span class="file-card-name">{props.file.name}</span>
        <span class="file-card-size small muted">{formatBytes(props.file.size)}</span>
        <Show when={loaded() !== undefined}>
          <progress class="file-progress" max={Math.max(1, props.file.size)} value={loaded() ?? 0} aria-label={`Downloading ${props.file.name}`} />
        </Show>
        <Show when={error()}>
          <span class="file-error small" role="alert">
            {error()}
          </span>
        </Show>
      </span>
      <button type="button" class="btn btn-small" aria-label={loaded() !== undefined ? `Cancel download of ${props.file.name}` : `Download ${props.file.name}`} onClick={() => void download()}>
        {loaded() !== undefined ? 'Cancel' : 'Download'}
      </button>
    </div>
  );
}

/**
 * A non-image attachment (or an image whose preview failed): the file name as text, its size, and a
 * download button that fetches, verifies and then saves the file. Verification failures show their reason
 * as an alert; the user's own cancel is a quiet status and the card is ready to download again. While the
 * browser is offline a download in progress says it is waiting (the client core keeps retrying for a while).
 */
import { createSignal, onCleanup, Show, type JSX } from 'solid-js';
import type { Conversation } from '@parley/shared/client';
import type { FileRef } from '@parley/shared/protocol';
import { isOnline } from '../../shell/online.ts';
import { downloadVerified, saveBytes } from './download.ts';
import { FileName } from './FileName.tsx';
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
  const [note, setNote] = createSignal('');
  let ctl: AbortController | undefined;
  onCleanup(() => ctl?.abort());

  async function download(): Promise<void> {
    if (ctl) {
      ctl.abort(); // second click while downloading: cancel
      return;
    }
    ctl = new AbortController();
    setError('');
    setNote('');
    setLoaded(0);
    const r = await downloadVerified(props.conv, props.file, { signal: ctl.signal, onProgress: (p) => setLoaded(p.loaded) });
    ctl = undefined;
    setLoaded(undefined);
    if (r.ok) saveBytes(r.data, props.file.name);
    else if (r.cancelled) setNote(r.error);
    else setError(r.error);
  }

  return (
    <div class="file-card" classList={{ 'file-card-failed': error() !== '' }}>
      <svg class="file-card-icon" aria-hidden="true" viewBox="0 0 24 24" width="28" height="28" fill="none" stroke="currentColor" stroke-width="1.8" stroke-linejoin="round">
        <path d="M6 2.5h8l4.5 4.5v14.5H6z" />
        <path d="M14 2.5V7h4.5" />
      </svg>
      <span class="file-card-text">
        <FileName class="file-card-name" name={props.file.name} />
        <span class="file-card-size small muted">{formatBytes(props.file.size)}</span>
        <Show when={loaded() !== undefined}>
          <progress class="file-progress" max={Math.max(1, props.file.size)} value={loaded() ?? 0} aria-label={`Downloading ${props.file.name}`} />
        </Show>
        <span class="file-note small muted" role="status">
          {loaded() !== undefined ? (isOnline() ? '' : 'Waiting for connection…') : note()}
        </span>
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

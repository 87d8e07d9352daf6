/**
 * Shows a recovery key once: in groups of four, with copy and download, and a required "I saved it"
 * confirmation before the user may continue.
 */
import { useBeforeLeave } from '@solidjs/router';
import { createSignal, createUniqueId, For, onCleanup, onMount, type JSX } from 'solid-js';
import { toast } from '../ui/toasts.tsx';

/** Props: the formatted key (`XXXX-XXXX-…`), the account name for the file, and what to do after. */
export interface RecoveryKeyPanelProps {
  recoveryKey: string;
  username: string;
  onContinue: () => void;
  busy?: boolean;
  /** Text of the button after "I saved it" (default "Continue to Parley"). */
  continueLabel?: string;
}

/** See `RecoveryKeyPanelProps`. */
export function RecoveryKeyPanel(props: RecoveryKeyPanelProps): JSX.Element {
  const [saved, setSaved] = createSignal(false);
  const checkId = createUniqueId();
  const groups = () => props.recoveryKey.split('-');
  // The key cannot be shown again: ask before the tab is closed or reloaded until it is confirmed saved.
  const guard = (e: BeforeUnloadEvent) => {
    if (!saved()) e.preventDefault();
  };
  onMount(() => window.addEventListener('beforeunload', guard));
  onCleanup(() => window.removeEventListener('beforeunload', guard));
  // The same inside the app (a link such as "← Conversations"): the browser's own prompt covers only unloads.
  useBeforeLeave((e) => {
    if (saved() || e.defaultPrevented) return;
    e.preventDefault();
    if (window.confirm('Your recovery key is shown only this once. Leave without saving it?')) e.retry(true);
  });

  const copy = async () => {
    try {
      await navigator.clipboard.writeText(props.recoveryKey);
      toast('Recovery key copied. Paste it somewhere safe.', 'success');
    } catch {
      toast('Copying is blocked here. Select the key and copy it, or download it.', 'error');
    }
  };

  const download = () => {
    const text =
      `Parley recovery key for ${props.username}\n\n${props.recoveryKey}\n\n` +
      'Keep this somewhere safe and private. It is the only way back into your account if you forget your password.\n';
    const url = URL.createObjectURL(new Blob([text], { type: 'text/plain;charset=utf-8' }));
    const a = document.createElement('a');
    a.href = url;
    a.download = `parley-recovery-key-${props.username}.txt`;
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 1000);
  };

  return (
    <div class="recovery">
      <p>
        This key is the <strong>only way back into your account</strong> if you forget your password. We cannot
        reset it for you: we never see your password or your keys. It is shown only once.
      </p>
      <div class="recovery-key" role="group" aria-label="Your recovery key">
        <ol class="key-groups" aria-hidden="true">
          <For each={groups()}>{(g) => <li class="key-group">{g}</li>}</For>
        </ol>
        <output class="visually-hidden" data-testid="recovery-key">
          {props.recoveryKey}
        </output>
      </div>
      <div class="button-row">
        <button type="button" class="btn" onClick={() => void copy()}>
          Copy key
        </button>
        <button type="button" class="btn" onClick={download}>
          Download .txt
        </button>
      </div>
      <div class="check">
        <input id={checkId} type="checkbox" checked={saved()} onChange={(e) => setSaved(e.currentTarget.checked)} />
        <label for={checkId}>I saved my recovery key somewhere safe</label>
      </div>
      <button type="button" class="btn btn-primary btn-block" disabled={!saved() || props.busy} onClick={() => props.onContinue()}>
        {props.continueLabel ?? 'Continue to Parley'}
      </button>
    </div>
  );
}

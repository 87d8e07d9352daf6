/**
 * Progress of the password key derivation (argon2id in a worker). A native <progress> with a text label,
 * so it needs no inline style and screen readers announce the label.
 */
import { createUniqueId, Show, type JSX } from 'solid-js';

/** Props: fraction 0..1, or null when idle; `label` says what is being done. */
export interface KdfProgressProps {
  fraction: number | null;
  label: string;
}

/** See `KdfProgressProps`. */
export function KdfProgress(props: KdfProgressProps): JSX.Element {
  const id = createUniqueId();
  const percent = () => Math.round((props.fraction ?? 0) * 100);
  return (
    <Show when={props.fraction !== null}>
      <div class="kdf-progress" role="status">
        <label for={id} class="kdf-label">
          {props.label} <span class="kdf-percent">{percent()}%</span>
        </label>
        <progress id={id} max={100} value={percent()} aria-valuetext={`${percent()}%`} />
      </div>
    </Show>
  );
}

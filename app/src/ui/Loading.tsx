/** A centred spinner with its label, announced as a status. */
import type { JSX } from 'solid-js';

/** See the module comment. */
export function Loading(props: { label: string }): JSX.Element {
  return (
    <div class="loading" role="status">
      <span class="spinner" aria-hidden="true" />
      <span>{props.label}</span>
    </div>
  );
}

/**
 * A labelled text input with an optional hint and error, wired with aria-describedby / aria-invalid so
 * screen readers read the hint and the error with the field.
 */
import { createUniqueId, Show, splitProps, type JSX } from 'solid-js';

/** Props: every <input> attribute, plus a visible label, hint and error text. */
export interface FieldProps extends Omit<JSX.InputHTMLAttributes<HTMLInputElement>, 'id'> {
  label: string;
  hint?: JSX.Element;
  error?: string | null;
  /** Extra content after the input inside the same row (e.g. a show/hide button). */
  trailing?: JSX.Element;
  /** Extra ids to add to aria-describedby (e.g. a strength meter). */
  describedBy?: string;
}

/** See `FieldProps`. */
export function Field(props: FieldProps): JSX.Element {
  const [own, input] = splitProps(props, ['label', 'hint', 'error', 'trailing', 'describedBy', 'class']);
  const id = createUniqueId();
  const hintId = `${id}-hint`;
  const errorId = `${id}-error`;
  const describedBy = () =>
    [own.hint ? hintId : null, own.error ? errorId : null, own.describedBy ?? null].filter(Boolean).join(' ') || undefined;
  return (
    <div class={`field ${own.class ?? ''}`}>
      <label for={id}>{own.label}</label>
      <div class="field-row">
        <input
          id={id}
          class="input"
          aria-invalid={own.error ? 'true' : undefined}
          aria-describedby={describedBy()}
          {...input}
        />
        {own.trailing}
      </div>
      <Show when={own.hint}>
        <p id={hintId} class="field-hint">
          {own.hint}
        </p>
      </Show>
      <Show when={own.error}>
        <p id={errorId} class="field-error">
          {own.error}
        </p>
      </Show>
    </div>
  );
}

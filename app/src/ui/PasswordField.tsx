/**
 * A password input with a show/hide toggle (aria-pressed), built on `Field`.
 */
import { createSignal, type JSX } from 'solid-js';
import { Field, type FieldProps } from './Field.tsx';

/** `Field` props for a password; `type` is managed here. */
export type PasswordFieldProps = Omit<FieldProps, 'type' | 'trailing'>;

/** See `PasswordFieldProps`. */
export function PasswordField(props: PasswordFieldProps): JSX.Element {
  const [visible, setVisible] = createSignal(false);
  return (
    <Field
      {...props}
      type={visible() ? 'text' : 'password'}
      autocapitalize="off"
      spellcheck={false}
      trailing={
        <button
          type="button"
          class="btn btn-ghost field-toggle"
          aria-pressed={visible()}
          aria-label={`Show ${props.label.toLowerCase()}`}
          onClick={() => setVisible((v) => !v)}
        >
          {visible() ? 'Hide' : 'Show'}
        </button>
      }
    />
  );
}

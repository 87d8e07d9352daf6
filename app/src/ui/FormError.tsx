/** A form-level error, announced at once (role="alert"). Renders nothing without a message. */
import { Show, type JSX } from 'solid-js';

/** Props: the message (null/empty hides it) and an id for aria-describedby on the submit button. */
export function FormError(props: { message: string | null; id?: string }): JSX.Element {
  return (
    <div role="alert" class="form-error-slot" id={props.id}>
      <Show when={props.message}>
        <p class="form-error">{props.message}</p>
      </Show>
    </div>
  );
}

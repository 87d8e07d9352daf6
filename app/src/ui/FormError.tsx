/**
 * A form-level error, announced at once (role="alert"). The alert region is always in the page, so an error that
 * appears later is announced; the pink box shows only while there is a message (empty, the region takes no room:
 * `.form-error-slot:empty` in styles.css).
 */
import { For, Show, type JSX } from 'solid-js';

/** Props: the message (one, several lines, or null/empty for none) and an id for aria-describedby. */
export function FormError(props: { message: string | readonly string[] | null; id?: string }): JSX.Element {
  const lines = () => (typeof props.message === 'string' ? [props.message] : (props.message ?? [])).filter(Boolean);
  return (
    <div role="alert" class="form-error-slot" id={props.id}>
      <Show when={lines().length > 0}>
        <div class="form-error">
          <For each={lines()}>{(line) => <p>{line}</p>}</For>
        </div>
      </Show>
    </div>
  );
}

/**
 * A file name on one line that keeps its extension in view: on a narrow screen the stem ends in an ellipsis
 * and the extension stays ("quarterl….pdf"). The text content is the full name (what assistive technology
 * reads and what a copy takes), and the full name is also the tooltip.
 */
import { Show, type JSX } from 'solid-js';
import { splitFileName } from './file-name.ts';

/** `class` is added to the outer element (for example `file-card-name`). */
export function FileName(props: { name: string; class: string }): JSX.Element {
  const parts = () => splitFileName(props.name);
  return (
    <span class={`file-name ${props.class}`} title={props.name}>
      <span class="file-name-stem">{parts().stem}</span>
      <Show when={parts().ext}>
        <span class="file-name-ext">{parts().ext}</span>
      </Show>
    </span>
  );
}

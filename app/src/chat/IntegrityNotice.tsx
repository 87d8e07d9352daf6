/**
 * The integrity notice above a conversation's messages: updates that are missing (a counter gap that
 * persisted: the server may be withholding them) and updates that were rejected (forged, altered, unreadable),
 * in words, with a Details disclosure per device and frame. A polite status region: it never takes focus.
 * The sentences come from integrity.ts; the store keeps the data current.
 */
import { createMemo, For, Show, type JSX } from 'solid-js';
import type { ChatStore } from './chat-store.ts';
import { summarizeIntegrity } from './integrity.ts';

/** See the module comment. Renders nothing while the conversation has no problem to show. */
export function IntegrityNotice(props: { store: ChatStore; convId: string }): JSX.Element {
  const summary = createMemo(() => {
    const state = props.store.integrity[props.convId];
    if (!state || (state.gaps.length === 0 && state.invalid.length === 0)) return undefined;
    props.store.profileVersion();
    return summarizeIntegrity(state, (u) => props.store.knownDisplayNameOf(u));
  });
  return (
    // The region stays mounted (empty, no box) so screen readers announce what appears in it.
    <section class={summary() ? 'chat-banner banner-warning integrity-notice' : undefined} role="status" aria-label="Conversation integrity">
      <Show when={summary()}>
        {(s) => (
          <>
            <Show when={s().missing.length > 0}>
              <div class="integrity-part">
                <h3 class="integrity-heading">Missing messages</h3>
                <ul class="integrity-lines">
                  <For each={s().missing}>{(line) => <li>{line}</li>}</For>
                </ul>
                <p class="integrity-why">{s().missingWhy}</p>
              </div>
            </Show>
            <Show when={s().rejected.length > 0}>
              <div class="integrity-part">
                <h3 class="integrity-heading">Rejected updates (not shown)</h3>
                <ul class="integrity-lines">
                  <For each={s().rejected}>{(line) => <li>{line}</li>}</For>
                </ul>
              </div>
            </Show>
            <details class="integrity-details">
              <summary>Details</summary>
              <p>
                An update is one encrypted, signed batch of messages, edits, reactions or read receipts. Each device numbers its
                updates, so a missing number shows that one did not arrive.
              </p>
              <ul>
                <For each={s().details}>{(line) => <li>{line}</li>}</For>
              </ul>
            </details>
          </>
        )}
      </Show>
    </section>
  );
}

/**
 * Appending to the envelope log without walking it.
 *
 * `Y.Array.push` finds the end of the list by walking its items from the start (or from its highest search
 * marker, which Yjs moves back to the start of a run of one client's consecutive items, i.e. to the start of a
 * lone sender's frames): O(log length) per frame, ~0.1-0.2 ms at 1,000-2,000 frames, on every send. A writer
 * remembers the last item it appended and walks on from there (other devices' frames appended since then:
 * usually none or a few). The item it creates is the one `push` would create (same id, same left origin,
 * no right origin), so the update on the wire and the resulting document are identical; a test compares them.
 */
import * as Y from 'yjs';

export class LogAppender {
  #tail: Y.Item | undefined;

  constructor(readonly log: Y.Array<unknown>) {}

  /**
   * Appends `bytes` in transaction `tr` of the log's document and returns the stored bytes: `bytes` itself when it
   * owns its whole buffer (the caller must not change it afterwards), else a copy (a view would keep the larger
   * buffer alive).
   */
  append(tr: Y.Transaction, bytes: Uint8Array): Uint8Array {
    const doc = tr.doc;
    if (this.log.doc !== doc) throw new Error('LogAppender: transaction of another document');
    // A deleted item may be merged into its left neighbour at the end of a transaction and leave the list, so
    // only a live one is a safe place to start; otherwise walk once from the start.
    let left: Y.Item | null = this.#tail && !this.#tail.deleted ? this.#tail : this.log._start;
    if (left) while (left.right) left = left.right;
    const stored = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength ? bytes : bytes.slice();
    const client = doc.clientID;
    const item = new Y.Item(
      Y.createID(client, Y.getState(doc.store, client)),
      left,
      left && left.lastId,
      null,
      null,
      this.log,
      null,
      new Y.ContentBinary(stored),
    );
    item.integrate(tr, 0);
    this.#tail = item;
    return stored;
  }
}

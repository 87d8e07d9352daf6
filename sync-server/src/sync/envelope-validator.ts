/**
 * Structural validation of envelope updates, without keys (docs/protocol.md [SYNC-3]): an update may only
 * insert binary frames (under the size cap) into the root array `log`, or delete items. Anything else —
 * maps, JSON content, other roots, strings, embedded types, oversized frames — is refused.
 *
 * Correct by induction: Yjs encodes an explicit `parent` only for items without origins; items with an
 * origin inherit their parent from it. If every admitted item is in `log`, every later one is too.
 *
 * Integrity, not just shape: the server stores every update Yjs applies, so an update that decodes
 * but cannot be integrated would poison the document for good (every later load, merge, compaction and
 * SyncStep2 throws). Found by fuzzing (test/sync/envelope-validator.test.ts): an item whose origin or
 * right origin names its OWN client at a clock not below its own (Yjs assumes same-client origins are
 * already integrated, and crashes in `getItemCleanEnd`), zero-length structs, and zero-length delete-set
 * ranges (which make every later encoding of the pending delete set throw "Unexpected case").
 */
import * as Y from 'yjs';

/** Why an update was refused. */
export type EnvelopeProblem = 'undecodable' | 'bad_struct' | 'bad_root' | 'bad_content' | 'frame_too_large' | 'too_many_structs';

/** Checks one Yjs update; returns null when admissible, else the first problem. Never throws. */
export function checkEnvelopeUpdate(update: Uint8Array, frameMaxBytes: number, maxStructs = 10_000): EnvelopeProblem | null {
  let decoded: ReturnType<typeof Y.decodeUpdate>;
  try {
    decoded = Y.decodeUpdate(update);
  } catch {
    return 'undecodable';
  }
  if (decoded.structs.length > maxStructs) return 'too_many_structs';
  for (const s of decoded.structs) {
    if (!(s.length >= 1)) return 'bad_struct';
    if (s instanceof Y.GC || s instanceof Y.Skip) continue;
    if (!(s instanceof Y.Item)) return 'bad_struct';
    if (s.parentSub !== null) return 'bad_struct';
    for (const o of [s.origin, s.rightOrigin]) if (o !== null && o.client === s.id.client && o.clock >= s.id.clock) return 'bad_struct';
    // In a decoded update, `parent` is the root name (string) or the ID of a nested type.
    const parent: unknown = s.parent;
    if (parent !== null && parent !== 'log') return 'bad_root';
    const c = s.content;
    if (c instanceof Y.ContentBinary) {
      if (c.content.byteLength > frameMaxBytes) return 'frame_too_large';
      continue;
    }
    if (!(c instanceof Y.ContentDeleted)) return 'bad_content';
  }
  let ranges = 0;
  for (const list of decoded.ds.clients.values()) {
    for (const r of list) if (!(r.len >= 1)) return 'bad_struct';
    ranges += list.length;
  }
  if (ranges > maxStructs) return 'too_many_structs';
  return null;
}

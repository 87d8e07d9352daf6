/**
 * `onDocChange` against Yjs's own `update` event: a random script of transactions on a doc (map sets and
 * deletions, also of a key's current value, array inserts and deletions, empty transactions, updates from
 * another replica, again and out of order) must fire `onDocChange` on exactly the transactions that emit
 * `update`.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import * as Y from 'yjs';
import { onDocChange } from '../../src/envelope/doc-change.ts';

type Step =
  | { kind: 'set'; key: number; value: number }
  | { kind: 'unset'; key: number }
  | { kind: 'insert'; at: number; n: number }
  | { kind: 'remove'; at: number; len: number }
  | { kind: 'empty' }
  | { kind: 'remote'; key: number; value: number }
  | { kind: 'replay'; back: number };

const step: fc.Arbitrary<Step> = fc.oneof(
  fc.record({ kind: fc.constant('set' as const), key: fc.integer({ min: 0, max: 3 }), value: fc.integer({ min: 0, max: 2 }) }),
  fc.record({ kind: fc.constant('unset' as const), key: fc.integer({ min: 0, max: 3 }) }),
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), n: fc.integer({ min: 1, max: 3 }) }),
  fc.record({ kind: fc.constant('remove' as const), at: fc.nat(), len: fc.integer({ min: 1, max: 3 }) }),
  fc.record({ kind: fc.constant('empty' as const) }),
  fc.record({ kind: fc.constant('remote' as const), key: fc.integer({ min: 0, max: 3 }), value: fc.integer({ min: 0, max: 2 }) }),
  fc.record({ kind: fc.constant('replay' as const), back: fc.nat() }),
);

describe('onDocChange', () => {
  it('fires on exactly the transactions that emit update', () => {
    fc.assert(
      fc.property(fc.array(step, { maxLength: 40 }), (script) => {
        const doc = new Y.Doc();
        const other = new Y.Doc();
        const remoteUpdates: Uint8Array[] = [];
        other.on('update', (u: Uint8Array) => remoteUpdates.push(u));
        const viaUpdate: number[] = [];
        const viaChange: number[] = [];
        let i = 0;
        doc.on('update', () => viaUpdate.push(i));
        const off = onDocChange(doc, () => viaChange.push(i));
        const map = doc.getMap<number>('m');
        const arr = doc.getArray<number>('a');
        for (; i < script.length; i++) {
          const s = script[i]!;
          if (s.kind === 'set') map.set(String(s.key), s.value);
          else if (s.kind === 'unset') map.delete(String(s.key));
          else if (s.kind === 'insert') arr.insert(s.at % (arr.length + 1), Array.from({ length: s.n }, (_, k) => k));
          else if (s.kind === 'remove') {
            if (arr.length > 0) {
              const at = s.at % arr.length;
              arr.delete(at, Math.min(s.len, arr.length - at));
            }
          } else if (s.kind === 'empty') doc.transact(() => undefined);
          else if (s.kind === 'remote') {
            other.getMap<number>('m').set(String(s.key), s.value);
            Y.applyUpdate(doc, remoteUpdates.at(-1)!, 'remote');
          } else if (remoteUpdates.length > 0) Y.applyUpdate(doc, remoteUpdates[s.back % remoteUpdates.length]!, 'remote');
        }
        off();
        expect(viaChange).toEqual(viaUpdate);
      }),
      { numRuns: 300 },
    );
  });

  it('stops after the unsubscribe', () => {
    const doc = new Y.Doc();
    let n = 0;
    const off = onDocChange(doc, () => n++);
    doc.getMap('m').set('a', 1);
    off();
    doc.getMap('m').set('b', 2);
    expect(n).toBe(1);
  });
});

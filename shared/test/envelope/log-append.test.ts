/**
 * `LogAppender` (append without walking the log) against `Y.Array.push`: two replicas with the same client id
 * run the same random script of local appends, local deletions (of the remembered last item too, with garbage
 * collection merging deleted items), remote appends and remote deletions; one appends with `push`, the other
 * with the appender. Their documents, and every update they emit, must be byte-identical.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import * as Y from 'yjs';
import { LogAppender } from '../../src/envelope/log-append.ts';

type Step =
  | { kind: 'append'; n: number }
  | { kind: 'delete'; at: number; len: number }
  | { kind: 'remote-append'; n: number }
  | { kind: 'remote-delete'; at: number; len: number }
  | { kind: 'sync' };

const step: fc.Arbitrary<Step> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('append' as const), n: fc.integer({ min: 1, max: 3 }) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), len: fc.integer({ min: 1, max: 4 }) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('remote-append' as const), n: fc.integer({ min: 1, max: 2 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('remote-delete' as const), at: fc.nat(), len: fc.integer({ min: 1, max: 3 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('sync' as const) }) },
);

function replica(clientID: number) {
  const doc = new Y.Doc();
  doc.clientID = clientID;
  const updates: Uint8Array[] = [];
  doc.on('update', (u: Uint8Array) => updates.push(u));
  return { doc, log: doc.getArray<unknown>('log'), updates };
}

describe('LogAppender', () => {
  it('creates exactly the items Y.Array.push creates, through local and remote appends and deletions', () => {
    fc.assert(
      fc.property(fc.array(step, { maxLength: 60 }), (script) => {
        const viaPush = replica(7);
        const viaAppender = replica(7);
        const appender = new LogAppender(viaAppender.log);
        const remote = replica(9);
        let counter = 0;
        const frame = () => new Uint8Array([counter & 255, (counter++ >> 8) & 255, 1, 2, 3]);
        const deliverRemote = () => {
          const u = Y.encodeStateAsUpdate(remote.doc, Y.encodeStateVector(viaPush.doc));
          Y.applyUpdate(viaPush.doc, u, 'remote');
          Y.applyUpdate(viaAppender.doc, u, 'remote');
        };
        for (const s of script) {
          if (s.kind === 'append') {
            const frames = Array.from({ length: s.n }, frame);
            viaPush.doc.transact(() => viaPush.log.push(frames.map((f) => f.slice())));
            viaAppender.doc.transact((tr) => {
              for (const f of frames) appender.append(tr, f);
            });
          } else if (s.kind === 'delete') {
            if (viaPush.log.length === 0) continue;
            const at = s.at % viaPush.log.length;
            const len = Math.min(s.len, viaPush.log.length - at);
            viaPush.log.delete(at, len);
            viaAppender.log.delete(at, len);
          } else if (s.kind === 'remote-append') {
            remote.log.push(Array.from({ length: s.n }, frame));
            deliverRemote();
          } else if (s.kind === 'remote-delete') {
            if (remote.log.length === 0) continue;
            const at = s.at % remote.log.length;
            remote.log.delete(at, Math.min(s.len, remote.log.length - at));
            deliverRemote();
          } else {
            Y.applyUpdate(remote.doc, Y.encodeStateAsUpdate(viaPush.doc, Y.encodeStateVector(remote.doc)));
          }
          expect(viaAppender.updates).toEqual(viaPush.updates);
        }
        expect(viaAppender.log.toArray()).toEqual(viaPush.log.toArray());
        expect(Y.encodeStateAsUpdate(viaAppender.doc)).toEqual(Y.encodeStateAsUpdate(viaPush.doc));
      }),
      { numRuns: 300 },
    );
  });

  it('keeps a frame that owns its buffer as the same object and copies a view into a larger buffer', () => {
    const { doc, log } = replica(3);
    const appender = new LogAppender(log);
    const own = new Uint8Array([1, 2, 3]);
    const backing = new Uint8Array([9, 9, 4, 5, 6, 9]);
    const view = backing.subarray(2, 5);
    let storedOwn: Uint8Array | undefined;
    let storedView: Uint8Array | undefined;
    doc.transact((tr) => {
      storedOwn = appender.append(tr, own);
      storedView = appender.append(tr, view);
    });
    expect(storedOwn).toBe(own);
    expect(storedView).not.toBe(view);
    expect(storedView!.buffer).not.toBe(backing.buffer);
    expect(log.toArray()).toEqual([own, new Uint8Array([4, 5, 6])]);
    expect(log.get(0)).toBe(own);
    expect(log.get(1)).toBe(storedView);
  });

  it('refuses a transaction of another document', () => {
    const a = replica(1);
    const b = replica(2);
    const appender = new LogAppender(a.log);
    expect(() => b.doc.transact((tr) => appender.append(tr, new Uint8Array([1])))).toThrow(/another document/);
    expect(a.log.length).toBe(0);
  });
});

import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import * as encoding from 'lib0/encoding';
import { checkEnvelopeUpdate } from '../../src/sync/envelope-validator.ts';
import { parseAwarenessUpdate } from '../../src/sync/awareness.ts';

const MAX = 1024;

function updateOf(fn: (doc: Y.Doc) => void, base?: Y.Doc): Uint8Array {
  const doc = base ?? new Y.Doc();
  const sv = Y.encodeStateVector(doc);
  fn(doc);
  return Y.encodeStateAsUpdate(doc, sv);
}

describe('[SYNC-3] envelope validator', () => {
  it('admits binary frames pushed and inserted into log, and deletions', () => {
    const doc = new Y.Doc();
    const push = updateOf((d) => d.getArray<Uint8Array>('log').push([new Uint8Array(10), new Uint8Array(20)]), doc);
    expect(checkEnvelopeUpdate(push, MAX)).toBeNull();
    const insert = updateOf((d) => d.getArray<Uint8Array>('log').insert(1, [new Uint8Array(5)]), doc);
    expect(checkEnvelopeUpdate(insert, MAX)).toBeNull();
    const compaction = updateOf((d) => d.transact(() => { d.getArray('log').delete(0, 3); d.getArray<Uint8Array>('log').push([new Uint8Array(30)]); }), doc);
    expect(checkEnvelopeUpdate(compaction, MAX)).toBeNull();
  });

  it('refuses writes outside log', () => {
    expect(checkEnvelopeUpdate(updateOf((d) => d.getArray<Uint8Array>('other').push([new Uint8Array(1)])), MAX)).toBe('bad_root');
    expect(checkEnvelopeUpdate(updateOf((d) => d.getMap('log').set('k', new Uint8Array(1))), MAX)).toBe('bad_struct');
    expect(checkEnvelopeUpdate(updateOf((d) => d.getMap('meta').set('k', 'v')), MAX)).toBe('bad_struct');
  });

  it('refuses non-binary content in log', () => {
    expect(checkEnvelopeUpdate(updateOf((d) => d.getArray('log').push(['plaintext'])), MAX)).toBe('bad_content');
    expect(checkEnvelopeUpdate(updateOf((d) => d.getArray('log').push([{ a: 1 }])), MAX)).toBe('bad_content');
    expect(checkEnvelopeUpdate(updateOf((d) => d.getArray('log').push([new Y.Array()])), MAX)).toBe('bad_content');
    expect(checkEnvelopeUpdate(updateOf((d) => d.getText('log').insert(0, 'hello')), MAX)).toBe('bad_content');
  });

  it('refuses oversized frames', () => {
    expect(checkEnvelopeUpdate(updateOf((d) => d.getArray<Uint8Array>('log').push([new Uint8Array(MAX + 1)])), MAX)).toBe('frame_too_large');
  });

  it('refuses garbage and truncated updates without throwing', () => {
    expect(checkEnvelopeUpdate(new Uint8Array([200, 1, 2, 3, 4, 5, 6]), MAX)).toBe('undecodable');
    const good = updateOf((d) => d.getArray<Uint8Array>('log').push([new Uint8Array(10)]));
    expect(checkEnvelopeUpdate(good.subarray(0, good.length - 3), MAX)).not.toBeNull();
    for (let seed = 1; seed < 300; seed++) {
      const junk = new Uint8Array(64).map((_, i) => (seed * 31 + i * 17) & 0xff);
      expect(() => checkEnvelopeUpdate(junk, MAX)).not.toThrow();
    }
  });
});

function awarenessUpdate(entries: Array<[number, number, unknown]>): Uint8Array {
  const e = encoding.createEncoder();
  encoding.writeVarUint(e, entries.length);
  for (const [id, clock, state] of entries) {
    encoding.writeVarUint(e, id);
    encoding.writeVarUint(e, clock);
    encoding.writeVarString(e, JSON.stringify(state));
  }
  return encoding.toUint8Array(e);
}

describe('[SYNC-4] awareness admission', () => {
  it('admits encrypted states and removals', () => {
    const r = parseAwarenessUpdate(awarenessUpdate([[7, 1, { v: 1, epoch: 0, ciphertext: 'abc_-' }], [8, 2, null]]));
    expect(r).toEqual({ ok: true, entries: [{ clientId: 7, clock: 1, state: { v: 1, epoch: 0, ciphertext: 'abc_-' } }, { clientId: 8, clock: 2, state: null }] });
  });

  it('refuses plaintext presence, extra fields, oversized states and garbage', () => {
    expect(parseAwarenessUpdate(awarenessUpdate([[7, 1, { user: { name: 'alice' } }]]))).toEqual({ ok: false, problem: 'bad_state' });
    expect(parseAwarenessUpdate(awarenessUpdate([[7, 1, { v: 1, epoch: 0, ciphertext: 'x', name: 'a' }]]))).toEqual({ ok: false, problem: 'bad_state' });
    expect(parseAwarenessUpdate(awarenessUpdate([[7, 1, { v: 1, epoch: 0, ciphertext: 'a'.repeat(5000) }]]))).toEqual({ ok: false, problem: 'bad_state' });
    expect(parseAwarenessUpdate(awarenessUpdate([[7, 1, {}]]))).toEqual({ ok: false, problem: 'bad_state' });
    expect(parseAwarenessUpdate(new Uint8Array([2, 1]))).toEqual({ ok: false, problem: 'undecodable' });
    expect(parseAwarenessUpdate(awarenessUpdate([[1, 1, null], [2, 1, null], [3, 1, null], [4, 1, null], [5, 1, null]]))).toEqual({ ok: false, problem: 'too_many_entries' });
  });
});

/**
 * Integrity: the server stores an update BEFORE Yjs applies it, so everything the validator admits must
 * integrate, merge and re-encode without throwing, in any order relative to honest updates — otherwise one
 * member can poison a segment for every other member (every load/merge/SyncStep2 throws). These vectors
 * were found by the fuzzer below (before the fix, ~3% of admitted mutants poisoned a document).
 */
describe('[SYNC-3] admitted updates always integrate', () => {
  // An honest base: client 1234 pushed two frames and deleted the first.
  const BASE = Buffer.from('0102d209000101036c6f670183d20900280000000000000000000000000000000000000000000000000000000000000000000000000000000001d209010001', 'hex');
  const POISON: Record<string, string> = {
    // zero-length delete-set range: later encodings of the pending delete set throw "Unexpected case"
    'zero-length delete range': '0101630083d2090105000000000001d209010000',
    'zero-length delete range after a valid item': '0102d209000101036c6f670183d2090028000000000000000000000000000000000000000000000000000000000000000000ff00000041000001d20901540001',
    // item 1234:1 whose origin is 1234:5187 (same client, future clock): getItemCleanEnd crashes
    'same-client origin from the future': '0102d209000101036c6f670183d209c328000000000000000000000000000000000000000000000000000000000000000000000000',
  };

  it.each(Object.entries(POISON))('refuses a poisoning update: %s', (_name, hex) => {
    expect(checkEnvelopeUpdate(Buffer.from(hex, 'hex'), MAX)).toBe('bad_struct');
  });

  it('still admits honest concurrent inserts, deletions and compaction-shaped updates from several clients', () => {
    const docs = [1, 2, 3].map((c) => { const d = new Y.Doc(); d.clientID = 100 + c; return d; });
    for (let step = 0; step < 60; step++) {
      const d = docs[step % 3]!;
      const sv = Y.encodeStateVector(d);
      const log = d.getArray<Uint8Array>('log');
      d.transact(() => {
        if (log.length > 3 && step % 4 === 0) log.delete(1, 2);
        log.insert(step % (log.length + 1), [new Uint8Array(1 + (step % 7))]);
      });
      const u = Y.encodeStateAsUpdate(d, sv);
      expect(checkEnvelopeUpdate(u, MAX)).toBeNull();
      for (const o of docs) if (o !== d) Y.applyUpdate(o, u);
    }
    expect(checkEnvelopeUpdate(Y.encodeStateAsUpdate(docs[0]!), MAX)).toBeNull();
  });

  it('seeded mutation fuzz: whatever is admitted merges, applies before/after honest updates, and re-encodes', () => {
    const seed0 = Number(process.env['PARLEY_FUZZ_SEED'] ?? 20261125);
    const runs = Number(process.env['PARLEY_FUZZ_RUNS'] ?? 2500);
    let seed = seed0;
    const rand = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
    const rnd = (n: number) => Math.floor(rand() * n);
    const docs = [1, 2, 3].map((c) => { const d = new Y.Doc(); d.clientID = 1000 + c; return d; });
    const corpus: Uint8Array[] = [new Uint8Array(BASE)];
    for (let step = 0; step < 12; step++) {
      const d = docs[rnd(3)]!;
      const sv = Y.encodeStateVector(d);
      const log = d.getArray<Uint8Array>('log');
      d.transact(() => {
        if (log.length > 2 && rnd(3) === 0) log.delete(rnd(log.length - 1), 1);
        log.insert(rnd(log.length + 1), [new Uint8Array(1 + rnd(20))]);
      });
      const u = Y.encodeStateAsUpdate(d, sv);
      corpus.push(u);
      for (const o of docs) if (o !== d) Y.applyUpdate(o, u);
    }
    const quiet = console.error;
    console.error = () => {};
    let admitted = 0;
    try {
      for (let i = 0; i < runs; i++) {
        let m = new Uint8Array(corpus[rnd(corpus.length)]!);
        for (let k = 1 + rnd(4); k > 0; k--) {
          const op = rnd(5);
          const p = rnd(m.length);
          if (op === 0) m[p] = rnd(256);
          else if (op === 1) m = m.slice(0, rnd(m.length + 1));
          else if (op === 2) m = new Uint8Array([...m.slice(0, p), rnd(256), ...m.slice(p)]);
          else if (op === 3) m[p] = [0, 1, 2, 127, 128, 255][rnd(6)]!;
          else m = new Uint8Array([...m.slice(0, p), ...m.slice(p + 1)]);
        }
        if (checkEnvelopeUpdate(m, MAX) !== null) continue;
        admitted++;
        const prefix = corpus.slice(0, rnd(corpus.length));
        const hex = Buffer.from(m).toString('hex');
        expect(() => Y.mergeUpdates([...prefix, m]), `merge ${hex} (seed ${seed0})`).not.toThrow();
        expect(() => {
          const d = new Y.Doc();
          Y.applyUpdate(d, m);
          for (const u of corpus) Y.applyUpdate(d, u);
          Y.encodeStateAsUpdate(d);
        }, `apply first ${hex} (seed ${seed0})`).not.toThrow();
        expect(() => {
          const d = new Y.Doc();
          Y.applyUpdate(d, Y.mergeUpdates([m, ...prefix]));
          for (const u of corpus) Y.applyUpdate(d, u);
          Y.encodeStateAsUpdate(d);
        }, `load merged ${hex} (seed ${seed0})`).not.toThrow();
      }
    } finally {
      console.error = quiet;
    }
    expect(admitted).toBeGreaterThan(runs / 20);
  });

  it('never admits a truncation of an honest update that does not integrate', () => {
    for (const u of [BASE, updateOf((d) => d.getArray<Uint8Array>('log').push([new Uint8Array(10), new Uint8Array(3)]))]) {
      for (let n = 0; n < u.length; n++) {
        const t = u.subarray(0, n);
        if (checkEnvelopeUpdate(t, MAX) !== null) continue;
        expect(() => { const d = new Y.Doc(); Y.applyUpdate(d, t); Y.applyUpdate(d, BASE); Y.encodeStateAsUpdate(d); }).not.toThrow();
      }
    }
  });
});

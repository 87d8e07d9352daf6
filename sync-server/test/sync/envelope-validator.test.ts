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

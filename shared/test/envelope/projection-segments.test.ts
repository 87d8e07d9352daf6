/**
 * [INNER-10] `MessageProjection` over several inner docs (a conversation's segments, never merged into one doc):
 * without key collisions it equals `materialize` of the merged docs after every step of random sequences; a
 * `messages` key held by two docs counts from the lower-ranked (older) doc whatever the order of writes and
 * `addDoc` calls; and two docs that happen to share a Yjs clientID both count, where merging them into one doc
 * silently drops one side's entries. Real signatures.
 *
 * Seed: PARLEY_FC_SEED (default below); runs: PARLEY_FC_RUNS (default 30).
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import * as Y from 'yjs';
import {
  MessageProjection,
  innerRoots,
  materialize,
  signMessage,
  signOp,
  type OpBody,
} from '../../src/envelope/index.ts';
import { authenticOver, fcSettings, makeUser, newDeviceId, SCOPE } from './helpers.ts';

const { seed: SEED, numRuns: NUM_RUNS } = fcSettings(20261207, 30);

const users = [makeUser(), makeUser(), makeUser()];
const devices = users.map(() => newDeviceId());
const authorOf = (u: number) => ({ userId: users[u]!.userId, deviceId: devices[u]!, signingKey: users[u]!.secretKey });

const { verify, authentic } = authenticOver(users);

function merged(docs: readonly Y.Doc[]): Y.Doc {
  const out = new Y.Doc();
  for (const d of docs) Y.applyUpdate(out, Y.encodeStateAsUpdate(d));
  return out;
}

type Cmd =
  | { t: 'msg'; d: number; u: number; ts: number; text: string }
  | { t: 'op'; d: number; u: number; ts: number; k: number; body: OpBody }
  | { t: 'add'; d: number }
  | { t: 'member'; u: number };

const DOCS = 3;
const body: fc.Arbitrary<OpBody> = fc.oneof(
  fc.record({ type: fc.constant('edit' as const), text: fc.constantFrom('e1', 'e2') }),
  fc.constant({ type: 'delete' as const }),
  fc.record({ type: fc.constant('react' as const), emoji: fc.constantFrom('👍', '🎉'), on: fc.boolean() }),
  fc.constant({ type: 'read' as const }),
);
const d = fc.nat({ max: DOCS - 1 });
const u = fc.nat({ max: 2 });
const ts = fc.nat({ max: 6 });
const cmd: fc.Arbitrary<Cmd> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ t: fc.constant('msg' as const), d, u, ts, text: fc.constantFrom('a', 'b') }) },
  { weight: 5, arbitrary: fc.record({ t: fc.constant('op' as const), d, u, ts, k: fc.nat({ max: 20 }), body }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('add' as const), d }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('member' as const), u }) },
);

/** Random writes into three docs that join the projection at random times (ranks 2, 0, 1); keys never repeat. */
function run(cmds: Cmd[]): void {
  const docs = Array.from({ length: DOCS }, () => new Y.Doc());
  const ranks = [2, 0, 1];
  const joined = new Set<number>();
  const members = new Set(users.map((x) => x.userId));
  const isMember = (id: string) => members.has(id);
  const p = new MessageProjection(undefined, { authentic, isMember });
  const ids: string[] = ['ff'.repeat(16) + ':1'];
  let counter = 0;
  try {
    for (const c of cmds) {
      switch (c.t) {
        case 'msg': {
          const m = signMessage(SCOPE.convId, authorOf(c.u), { counter: ++counter, ts: c.ts, text: c.text });
          innerRoots(docs[c.d]!).messages.set(m.id, m);
          ids.push(m.id);
          break;
        }
        case 'op': {
          const target = ids[c.k % ids.length]!;
          innerRoots(docs[c.d]!).ops.push([signOp(SCOPE.convId, authorOf(c.u), { counter: ++counter, ts: c.ts, target, op: c.body })]);
          break;
        }
        case 'add':
          if (!joined.has(c.d)) {
            joined.add(c.d);
            p.addDoc(docs[c.d]!, ranks[c.d]!);
          }
          break;
        case 'member': {
          const id = users[c.u]!.userId;
          if (members.has(id)) members.delete(id);
          else members.add(id);
          p.invalidateAll();
          break;
        }
        default: {
          const never: never = c;
          throw new Error(String(never));
        }
      }
      const full = materialize(merged([...joined].map((i) => docs[i]!)), { convId: SCOPE.convId, verify, isMember });
      const inc = p.update();
      expect(inc.messages).toEqual(full.messages);
      expect(inc.receipts).toEqual(full.receipts);
      inc.messages.forEach((m, i) => expect(p.indexOf(m.id)).toBe(i));
    }
  } finally {
    p.destroy();
  }
}

describe('[INNER-10] projection over segment docs', () => {
  it(`equals materialize of the merged docs after every step of random sequences (seed ${SEED})`, () => {
    fc.assert(fc.property(fc.array(cmd, { minLength: 5, maxLength: 40 }), run), { seed: SEED, numRuns: NUM_RUNS, endOnFailure: true });
  });

  it('a key held by two docs counts from the older one, whatever the order of writes and joins', () => {
    const [u, m] = [authorOf(0), authorOf(1)];
    const original = signMessage(SCOPE.convId, u, { counter: 1, ts: 10, text: 'the real one' });
    // Another member's own (validly signed) entry under the same key, e.g. written into a newer segment.
    const squat = { ...signMessage(SCOPE.convId, { ...m, deviceId: u.deviceId }, { counter: 1, ts: 20, text: 'shadow' }) };
    expect(squat.id).toBe(original.id);
    for (const order of [
      ['old', 'new'],
      ['new', 'old'],
    ] as const) {
      for (const writeFirst of [true, false]) {
        const older = new Y.Doc();
        const newer = new Y.Doc();
        const p = new MessageProjection(undefined, { authentic });
        const write = () => {
          innerRoots(older).messages.set(original.id, original);
          innerRoots(newer).messages.set(squat.id, squat);
        };
        if (writeFirst) write();
        for (const which of order) p.addDoc(which === 'old' ? older : newer, which === 'old' ? 3 : 4);
        if (!writeFirst) write();
        const list = p.update().messages;
        expect(list.map((x) => [x.id, x.author, x.text])).toEqual([[original.id, u.userId, 'the real one']]);
        expect(p.hasKey(original.id)).toBe(true);
        p.destroy();
      }
    }
  });

  it('an invalid value in the older doc does not hide a valid entry in a newer one, and a key with any value is taken', () => {
    const older = new Y.Doc();
    const newer = new Y.Doc();
    const m = signMessage(SCOPE.convId, authorOf(0), { counter: 5, ts: 1, text: 'valid' });
    innerRoots(older).messages.set(m.id, { garbage: true });
    innerRoots(newer).messages.set(m.id, m);
    innerRoots(newer).messages.set('not-an-id', 'junk');
    const p = new MessageProjection(undefined, { authentic });
    p.addDoc(older, 0);
    p.addDoc(newer, 1);
    expect(p.update().messages.map((x) => x.text)).toEqual(['valid']);
    expect(p.hasKey('not-an-id')).toBe(true);
    expect(p.hasKey(m.id)).toBe(true);
    expect(p.hasKey(`${devices[2]}:1`)).toBe(false);
    // The older doc's value going away leaves the newer entry; the newer one going away empties the key.
    innerRoots(older).messages.delete(m.id);
    expect(p.update().messages.map((x) => x.text)).toEqual(['valid']);
    innerRoots(newer).messages.delete(m.id);
    expect(p.update().messages).toEqual([]);
    expect(p.hasKey(m.id)).toBe(false);
    p.destroy();
  });

  it('two segments that share a Yjs clientID both count (a merged doc would drop one side)', () => {
    const a = new Y.Doc();
    const b = new Y.Doc();
    a.clientID = 4242;
    b.clientID = 4242; // the same clientID in two segment docs: by chance (random 32-bit ids) or on purpose
    const fromU = signMessage(SCOPE.convId, authorOf(0), { counter: 1, ts: 1, text: 'from u, older segment' });
    const fromV = signMessage(SCOPE.convId, authorOf(1), { counter: 1, ts: 2, text: 'from v, newer segment' });
    innerRoots(a).messages.set(fromU.id, fromU);
    innerRoots(b).messages.set(fromV.id, fromV);
    // Merging gives both structs the id (4242, 0): the second one is taken for a duplicate and dropped.
    expect(materialize(merged([b, a]), { convId: SCOPE.convId, verify }).messages.map((x) => x.text)).toEqual(['from v, newer segment']);
    const p = new MessageProjection(undefined, { authentic });
    p.addDoc(b, 1); // newest segment first, as a fresh device opens them
    p.addDoc(a, 0);
    expect(p.update().messages.map((x) => x.text)).toEqual(['from u, older segment', 'from v, newer segment']);
    p.destroy();
  });
});

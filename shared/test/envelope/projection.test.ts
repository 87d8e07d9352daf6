/**
 * [INNER-5] `MessageProjection` (incremental materialize) equals a full `materialize` after every step of
 * random sequences: messages (some forged, some replacing an id, concurrent on two docs), edits, deletes,
 * reactions, receipts, Yjs-level deletions, syncs and membership changes. Real signatures.
 *
 * Seed: PROJECTION_SEED (or PARLEY_FC_SEED); runs: PARLEY_FC_RUNS (default 40).
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

const { seed: PROJECTION_SEED, numRuns: NUM_RUNS } = fcSettings(20261126, 40);

const users = [makeUser(), makeUser(), makeUser()];
const eve = makeUser();
const devices = users.map(() => newDeviceId());

type Cmd =
  | { t: 'msg'; d: number; u: number; c: number; ts: number; forged: boolean; text: string }
  | { t: 'op'; d: number; u: number; c: number; ts: number; forged: boolean; k: number; body: OpBody }
  | { t: 'ydel'; d: number; k: number }
  | { t: 'sync' }
  | { t: 'member'; u: number };

const body: fc.Arbitrary<OpBody> = fc.oneof(
  fc.record({ type: fc.constant('edit' as const), text: fc.constantFrom('e1', 'e2', 'e3') }),
  fc.constant({ type: 'delete' as const }),
  fc.record({ type: fc.constant('react' as const), emoji: fc.constantFrom('👍', '🎉'), on: fc.boolean() }),
  fc.constant({ type: 'read' as const }),
);
const d = fc.nat({ max: 1 });
const u = fc.nat({ max: 2 });
const ts = fc.nat({ max: 6 }); // small: ties in ts are common
const cmd: fc.Arbitrary<Cmd> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ t: fc.constant('msg' as const), d, u, c: fc.integer({ min: 1, max: 8 }), ts, forged: fc.boolean(), text: fc.constantFrom('a', 'b', 'c') }) },
  { weight: 6, arbitrary: fc.record({ t: fc.constant('op' as const), d, u, c: fc.integer({ min: 100, max: 400 }), ts, forged: fc.boolean(), k: fc.nat({ max: 20 }), body }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('ydel' as const), d, k: fc.nat({ max: 30 }) }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('sync' as const) }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('member' as const), u }) },
);

const { verify, authentic } = authenticOver(users);

function run(cmds: Cmd[]): void {
  const docs = [new Y.Doc(), new Y.Doc()];
  const members = new Set(users.map((x) => x.userId));
  const isMember = (id: string) => members.has(id);
  const p = new MessageProjection(docs[0]!, { authentic, isMember });
  const ids: string[] = ['ff'.repeat(16) + ':1']; // one target that never exists
  let before: readonly unknown[] = [];
  try {
    for (const c of cmds) {
      const doc = docs[c.t === 'msg' || c.t === 'op' || c.t === 'ydel' ? c.d : 0]!;
      const { messages, ops } = innerRoots(doc);
      switch (c.t) {
        case 'msg': {
          const key = c.forged ? eve.secretKey : users[c.u]!.secretKey;
          const m = signMessage(SCOPE.convId, { userId: users[c.u]!.userId, deviceId: devices[c.u]!, signingKey: key }, { counter: c.c, ts: c.ts, text: c.text });
          messages.set(m.id, m); // may replace an entry under the same id, or race one on the other doc
          ids.push(m.id);
          break;
        }
        case 'op': {
          const key = c.forged ? eve.secretKey : users[c.u]!.secretKey;
          const target = ids[c.k % ids.length]!;
          ops.push([signOp(SCOPE.convId, { userId: users[c.u]!.userId, deviceId: devices[c.u]!, signingKey: key }, { counter: c.c, ts: c.ts, target, op: c.body })]);
          break;
        }
        case 'ydel': {
          const keys = [...messages.keys()];
          if (c.k % 2 === 0 && keys.length > 0) messages.delete(keys[c.k % keys.length]!);
          else if (ops.length > 0) ops.delete(c.k % ops.length, 1);
          break;
        }
        case 'sync':
          Y.applyUpdate(docs[0]!, Y.encodeStateAsUpdate(docs[1]!, Y.encodeStateVector(docs[0]!)));
          Y.applyUpdate(docs[1]!, Y.encodeStateAsUpdate(docs[0]!, Y.encodeStateVector(docs[1]!)));
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
      const full = materialize(docs[0]!, { convId: SCOPE.convId, verify, isMember });
      const inc = p.update();
      expect(inc.messages).toEqual(full.messages);
      expect(inc.receipts).toEqual(full.receipts);
      inc.messages.forEach((m, i) => expect(p.indexOf(m.id)).toBe(i));
      // takeChangedFrom: every position below it holds the very object it held after the previous step.
      const from = p.takeChangedFrom();
      let firstDiff = 0;
      while (firstDiff < Math.min(before.length, inc.messages.length) && before[firstDiff] === inc.messages[firstDiff]) firstDiff++;
      if (firstDiff === before.length && firstDiff === inc.messages.length) firstDiff = Number.POSITIVE_INFINITY;
      expect(from).toBeLessThanOrEqual(firstDiff);
      before = inc.messages;
    }
  } finally {
    p.destroy();
  }
}

describe('incremental projection', () => {
  it(`[INNER-5] equals a full materialize after every step of random sequences (seed ${PROJECTION_SEED})`, () => {
    fc.assert(fc.property(fc.array(cmd, { minLength: 5, maxLength: 40 }), run), { seed: PROJECTION_SEED, numRuns: NUM_RUNS, endOnFailure: true });
  });

  it('[INNER-5] keeps unchanged messages as the same objects and recomputes only what changed', () => {
    const doc = new Y.Doc();
    const calls: object[] = [];
    const p = new MessageProjection(doc, {
      authentic: (v) => {
        calls.push(v);
        return authentic(v);
      },
    });
    const author = { userId: users[0]!.userId, deviceId: devices[0]!, signingKey: users[0]!.secretKey };
    const { messages, ops } = innerRoots(doc);
    doc.transact(() => {
      for (let i = 1; i <= 50; i++) {
        const m = signMessage(SCOPE.convId, author, { counter: i, ts: i, text: `m${i}` });
        messages.set(m.id, m);
      }
    });
    const first = p.update();
    expect(first.messages.length).toBe(50);
    calls.length = 0;
    const target = first.messages[10]!.id;
    ops.push([signOp(SCOPE.convId, author, { counter: 99, ts: 60, target, op: { type: 'edit', text: 'changed' } })]);
    const second = p.update();
    expect(second.version).toBe(first.version + 1);
    expect(second.messages[10]!.text).toBe('changed');
    expect(second.messages.filter((m, i) => m !== first.messages[i]).map((m) => m.id)).toEqual([target]);
    expect(calls.length).toBe(2); // the target message and its edit, nothing else
    const third = p.update();
    expect(third.version).toBe(second.version);
    expect(third.messages).toBe(second.messages);
    // Recomputing everything (a membership change) finds nothing changed: no new list, no new objects.
    p.invalidateAll();
    const fourth = p.update();
    expect(fourth.version).toBe(third.version);
    expect(fourth.messages).toBe(third.messages);
  });
});

/**
 * [TEST-1] Seeded convergence property: 2-5 devices (some sharing a user) send, edit, delete, react and mark
 * read; the network delivers envelope updates in random order, duplicates them and drops them while a device
 * is disconnected; devices compact concurrently. After everyone reconnects and syncs, every device must show
 * the same materialized list, containing every message ever sent, with no invalid frames and no gaps.
 *
 * Seeds: BASE_SEED (or PARLEY_FC_SEED) plus the pinned failures in property-regressions.ts.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import * as Y from 'yjs';
import { z } from 'zod';
import { innerRoots } from '../../src/envelope/index.ts';
import { makeUser, Peer, World, type TestUser } from './helpers.ts';
import { REGRESSION_SEEDS } from './property-regressions.ts';

// shared/ has no Node types; read the environment without them (tests run in Node).
const proc = z.object({ env: z.record(z.string(), z.string().optional()) }).safeParse(Reflect.get(globalThis, 'process'));
const ENV = proc.success ? proc.data.env : {};
const BASE_SEED = Number(ENV.PARLEY_FC_SEED ?? 20261125);
const NUM_RUNS = Number(ENV.PARLEY_FC_RUNS ?? 50);

type Cmd =
  | { t: 'send'; p: number }
  | { t: 'edit' | 'delete'; p: number; k: number }
  | { t: 'react'; p: number; k: number; emoji: string; on: boolean }
  | { t: 'read'; p: number; k: number }
  | { t: 'flush' | 'compact' | 'toggle'; p: number }
  | { t: 'deliver'; p: number; q: number; k: number; dup: boolean };

const cmd = (n: number): fc.Arbitrary<Cmd> => {
  const p = fc.nat({ max: n - 1 });
  const k = fc.nat({ max: 1000 });
  return fc.oneof(
    { weight: 4, arbitrary: fc.record({ t: fc.constant('send' as const), p }) },
    { weight: 2, arbitrary: fc.record({ t: fc.constant('compact' as const), p }) },
    { weight: 1, arbitrary: fc.record({ t: fc.constantFrom('edit' as const, 'delete' as const), p, k }) },
    { weight: 1, arbitrary: fc.record({ t: fc.constant('react' as const), p, k, emoji: fc.constantFrom('👍', '🎉'), on: fc.boolean() }) },
    { weight: 1, arbitrary: fc.record({ t: fc.constant('read' as const), p, k }) },
    { weight: 3, arbitrary: fc.record({ t: fc.constant('flush' as const), p }) },
    { weight: 1, arbitrary: fc.record({ t: fc.constant('compact' as const), p }) },
    { weight: 1, arbitrary: fc.record({ t: fc.constant('toggle' as const), p }) },
    { weight: 8, arbitrary: fc.record({ t: fc.constant('deliver' as const), p, q: p, k, dup: fc.boolean() }) },
  );
};

const scenario = fc
  .integer({ min: 2, max: 5 })
  .chain((n) =>
    fc.record({
      n: fc.constant(n),
      userOf: fc.array(fc.nat({ max: n - 1 }), { minLength: n, maxLength: n }),
      cmds: fc.array(cmd(n), { minLength: 10, maxLength: 60, size: 'max' }),
    }),
  );

async function run({ n, userOf, cmds }: { n: number; userOf: number[]; cmds: Cmd[] }): Promise<void> {
  const users: TestUser[] = Array.from({ length: n }, () => makeUser());
  const world = new World(users);
  const peers = userOf.map((u) => new Peer(world, users[u]!));
  const online = peers.map(() => true);
  const queues = peers.map(() => peers.map((): Uint8Array[] => []));
  const sentByPeer = peers.map((): string[] => []);
  const allSent = new Set<string>();
  peers.forEach((peer, i) =>
    peer.envelope.on('update', (u: Uint8Array, origin: unknown) => {
      if (origin === 'net' || !online[i]) return;
      peers.forEach((_, j) => j !== i && online[j] && queues[i]![j]!.push(u));
    }),
  );
  const fullSync = (i: number, j: number) => {
    const a = peers[i]!.envelope;
    const b = peers[j]!.envelope;
    Y.applyUpdate(b, Y.encodeStateAsUpdate(a, Y.encodeStateVector(b)), 'net');
    Y.applyUpdate(a, Y.encodeStateAsUpdate(b, Y.encodeStateVector(a)), 'net');
  };
  let clock = 0;
  for (const c of cmds) {
    const peer = peers[c.p]!;
    clock++;
    const known = () => [...innerRoots(peer.inner).messages.keys()].sort();
    switch (c.t) {
      case 'send': {
        const id = peer.send(`msg ${clock}`, clock);
        sentByPeer[c.p]!.push(id);
        allSent.add(id);
        break;
      }
      case 'edit':
      case 'delete': {
        const own = sentByPeer[c.p]!;
        if (own.length === 0) break;
        const target = own[c.k % own.length]!;
        peer.op(target, c.t === 'edit' ? { type: 'edit', text: `edit ${clock}` } : { type: 'delete' }, clock);
        break;
      }
      case 'react':
      case 'read': {
        const ids = known();
        if (ids.length === 0) break;
        const target = ids[c.k % ids.length]!;
        peer.op(target, c.t === 'react' ? { type: 'react', emoji: c.emoji, on: c.on } : { type: 'read' }, clock);
        break;
      }
      case 'flush':
        await peer.binding.flush();
        break;

      case 'compact':
        await peer.binding.compact({ minFrames: 1 });
        break;
      case 'toggle':
        online[c.p] = !online[c.p];
        if (online[c.p]) {
          await peer.binding.flush();
          peers.forEach((_, j) => j !== c.p && online[j] && fullSync(c.p, j));
        } else {
          peers.forEach((_, j) => {
            queues[c.p]![j] = [];
            queues[j]![c.p] = [];
          });
        }
        break;
      case 'deliver': {
        if (c.p === c.q || !online[c.p] || !online[c.q]) break;
        const q = queues[c.p]![c.q]!;
        if (q.length === 0) break;
        const idx = c.k % q.length;
        const u = q[idx]!;
        if (!c.dup) q.splice(idx, 1);
        Y.applyUpdate(peers[c.q]!.envelope, u, 'net');
        break;
      }
    }
    await Promise.all(peers.map((p) => p.binding.whenIdle()));
  }
  // Heal: everyone online, flush, full syncs until quiet.
  online.fill(true);
  for (let round = 0; round < 3; round++) {
    for (const p of peers) await p.binding.flush();
    for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) fullSync(i, j);
    await Promise.all(peers.map((p) => p.binding.whenIdle()));
  }
  const views = peers.map((p) => p.view());
  const first = JSON.stringify(views[0]);
  for (let i = 0; i < n; i++) {
    expect(peers[i]!.binding.invalid, `peer ${i} invalid frames`).toEqual([]);
    expect(peers[i]!.binding.gaps, `peer ${i} gaps`).toEqual([]);
    expect(peers[i]!.binding.pendingCount).toBe(0);
    expect(JSON.stringify(views[i]), `peer ${i} differs from peer 0`).toBe(first);
  }
  expect(new Set(views[0]!.messages.map((m) => m.id))).toEqual(allSent);
  expect(views[0]!.dropped).toEqual({ malformed: 0, badSignature: 0, unauthorized: 0 });
  for (const p of peers) p.binding.destroy();
}

describe('convergence property', () => {
  for (const r of REGRESSION_SEEDS) {
    it(`[TEST-2] pinned seed ${r.seed}: ${r.note}`, async () => {
      await fc.assert(fc.asyncProperty(scenario, run), { seed: r.seed, ...(r.path ? { path: r.path } : {}), numRuns: r.path ? 1 : 5 });
    });
  }

  it(`[TEST-1] [COMPACT-6] random ops, delivery order, duplication, disconnects and compactions converge (seed ${BASE_SEED})`, async () => {
    await fc.assert(fc.asyncProperty(scenario, run), { seed: BASE_SEED, numRuns: NUM_RUNS, endOnFailure: true });
  });
});

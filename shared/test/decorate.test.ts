/**
 * `MessageDecorator` (the rendered list, recomputed from the first position that can differ) equals
 * `decorateAll` (from scratch) after every step of random sequences: appends, inserts, replaced and removed
 * messages, read receipts appearing, moving both ways and disappearing, and delivery states flipping.
 *
 * Seed: PARLEY_FC_SEED; runs: PARLEY_FC_RUNS (default 60).
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { z } from 'zod';
import { MessageDecorator, decorateAll } from '../src/client/decorate.ts';
import type { MaterializedMessage } from '../src/envelope/index.ts';

const proc = z.object({ env: z.record(z.string(), z.string().optional()) }).safeParse(Reflect.get(globalThis, 'process'));
const ENV = proc.success ? proc.data.env : {};
const SEED = Number(ENV.PARLEY_FC_SEED ?? 20261126);
const RUNS = Number(ENV.PARLEY_FC_RUNS ?? 60);

const USERS = ['me', 'ann', 'bob', 'cy'] as const;
let made = 0;
const message = (author: string, ts: number): MaterializedMessage => ({
  id: `m${made++}`, author, ts, text: 't', replyTo: undefined, attachments: [], edited: false, deleted: false, reactions: [],
});

const step = fc.oneof(
  fc.record({ kind: fc.constant('append' as const), n: fc.integer({ min: 1, max: 4 }), author: fc.constantFrom(...USERS) }),
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), author: fc.constantFrom(...USERS) }),
  fc.record({ kind: fc.constant('replace' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('remove' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('mark' as const), user: fc.constantFrom(...USERS), at: fc.nat() }),
  fc.record({ kind: fc.constant('unmark' as const), user: fc.constantFrom(...USERS) }),
  fc.record({ kind: fc.constant('pending' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('render' as const) }),
);

describe('MessageDecorator', () => {
  it('equals decorating from scratch after every step', () => {
    fc.assert(
      fc.property(fc.array(step, { minLength: 1, maxLength: 60 }), (steps) => {
        let list: MaterializedMessage[] = [];
        // Receipts point at message ids (as in the projection); positions are looked up per render.
        const receipt = new Map<string, string>();
        const pending = new Set<string>();
        const d = new MessageDecorator('me');
        let ts = 0;
        // Half of the runs pass the first changed position, as the projection does (`listChangedFrom`).
        const hinted = steps.length % 2 === 0;
        for (const s of steps) {
          let changedFrom = Number.POSITIVE_INFINITY;
          switch (s.kind) {
            case 'append':
              changedFrom = list.length;
              list = [...list, ...Array.from({ length: s.n }, () => message(s.author, ++ts))];
              break;
            case 'insert': {
              const at = list.length === 0 ? 0 : s.at % (list.length + 1);
              changedFrom = at;
              list = [...list.slice(0, at), message(s.author, 0), ...list.slice(at)];
              break;
            }
            case 'replace':
              if (list.length > 0) {
                const at = s.at % list.length;
                changedFrom = at;
                list = list.slice();
                list[at] = { ...list[at]!, text: 'edited', edited: true };
              }
              break;
            case 'remove':
              if (list.length > 0) {
                const at = s.at % list.length;
                changedFrom = at;
                list = [...list.slice(0, at), ...list.slice(at + 1)];
              }
              break;
            case 'mark':
              if (list.length > 0) receipt.set(s.user, list[s.at % list.length]!.id);
              break;
            case 'unmark':
              receipt.delete(s.user);
              break;
            case 'pending':
              if (list.length > 0) {
                const id = list[s.at % list.length]!.id;
                if (pending.has(id)) pending.delete(id);
                else pending.add(id);
              }
              break;
            case 'render':
              break;
          }
          const marks = new Map<string, number>();
          for (const [u, id] of receipt) {
            const pos = list.findIndex((m) => m.id === id);
            if (pos >= 0) marks.set(u, pos);
          }
          const got = d.decorate(list, marks, pending, (id) => list.findIndex((m) => m.id === id), hinted ? changedFrom : undefined);
          expect(got).toEqual(decorateAll('me', list, marks, pending));
          expect(d.pendingChanged(pending)).toBe(false);
        }
      }),
      { seed: SEED, numRuns: RUNS },
    );
  });

  it('keeps the objects of unchanged messages and rebuilds only what changed', () => {
    const d = new MessageDecorator('me');
    const list = Array.from({ length: 100 }, (_, i) => message(i % 2 ? 'me' : 'ann', i));
    const first = d.decorate(list, new Map([['ann', 50]]), new Set());
    expect(first[11]!.readBy).toEqual(['ann']);
    expect(first[10]!.readBy).toEqual([]); // her own message
    expect(first[60]!.readBy).toEqual([]);
    const more = [...list, message('me', 100)];
    const second = d.decorate(more, new Map([['ann', 50]]), new Set([more[100]!.id]));
    for (let i = 0; i < 100; i++) expect(second[i]).toBe(first[i]);
    expect(second[100]).toMatchObject({ mine: true, status: 'pending', readBy: [] });
    // ann reads up to 80: messages 51..80 gain her, the rest keep their objects.
    const third = d.decorate(more, new Map([['ann', 80]]), new Set([more[100]!.id]));
    expect(third[50]).toBe(second[50]);
    expect(third[51]!.readBy).toEqual(['ann']);
    expect(third[81]).toBe(second[81]);
    expect(d.pendingChanged(new Set())).toBe(true);
  });

  it('reuses every rendered message when older history is loaded in front of the list', () => {
    const d = new MessageDecorator('me');
    const newer = Array.from({ length: 50 }, (_, i) => message('ann', 1000 + i));
    const first = d.decorate(newer, new Map([['me', 49]]), new Set());
    const older = Array.from({ length: 50 }, (_, i) => message('ann', i));
    const all = [...older, ...newer];
    const second = d.decorate(all, new Map([['me', 99]]), new Set());
    expect(second).toEqual(decorateAll('me', all, new Map([['me', 99]]), new Set()));
    for (let i = 0; i < 50; i++) expect(second[50 + i]).toBe(first[i]);
  });
});

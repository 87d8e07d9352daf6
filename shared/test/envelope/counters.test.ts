/**
 * DeviceCounters against a direct model: gaps, coverage prefix and highest counter after any sequence of
 * accepted frames and snapshot coverages (the counters above the prefix are tracked apart; they must stay
 * exactly the accepted counters the model finds above it).
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { DeviceCounters, deviceKey } from '../../src/envelope/index.ts';

const DEVICES = [
  { userId: 'u1', deviceId: 'd1' },
  { userId: 'u1', deviceId: 'd2' },
  { userId: 'u2', deviceId: 'd1' },
];

type Step = { kind: 'accept'; dev: number; counter: number } | { kind: 'cover'; dev: number; max: number };

const step: fc.Arbitrary<Step> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ kind: fc.constant('accept' as const), dev: fc.nat(2), counter: fc.integer({ min: 1, max: 30 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('cover' as const), dev: fc.nat(2), max: fc.integer({ min: 0, max: 30 }) }) },
);

describe('DeviceCounters', () => {
  it('gaps, coverage and maxSeen equal a model that scans every accepted counter', () => {
    fc.assert(
      fc.property(fc.array(step, { maxLength: 80 }), (steps) => {
        const c = new DeviceCounters();
        const accepted = DEVICES.map(() => new Set<number>());
        const covered = DEVICES.map(() => 0);
        for (const s of steps) {
          const d = DEVICES[s.dev]!;
          if (s.kind === 'accept') {
            c.accept(d.userId, d.deviceId, s.counter, `sig${s.counter}`);
            accepted[s.dev]!.add(s.counter);
          } else {
            c.cover(new Map([[deviceKey(d.userId, d.deviceId), s.max]]));
            covered[s.dev] = Math.max(covered[s.dev]!, s.max);
          }
        }
        const seen = (i: number) => accepted[i]!.size > 0 || covered[i]! > 0 || steps.some((s) => s.dev === i);
        const expectGaps = [];
        for (const [i, d] of DEVICES.entries()) {
          if (!seen(i)) continue;
          let prefix = covered[i]!;
          while (accepted[i]!.has(prefix + 1)) prefix++;
          const above = [...accepted[i]!].filter((x) => x > prefix).sort((a, b) => a - b);
          let next = prefix + 1;
          for (const x of above) {
            if (x > next) expectGaps.push({ userId: d.userId, deviceId: d.deviceId, from: next, to: x - 1 });
            next = x + 1;
          }
          expect(c.inPrefix(d.userId, d.deviceId, prefix)).toBe(true);
          expect(c.inPrefix(d.userId, d.deviceId, prefix + 1)).toBe(false);
          expect(c.maxSeen(d.userId, d.deviceId)).toBe(Math.max(prefix, covered[i]!, ...above));
        }
        const key = (g: { userId: string; deviceId: string; from: number }) => `${g.userId}:${g.deviceId}:${g.from}`;
        expect([...c.gaps()].sort((a, b) => key(a).localeCompare(key(b)))).toEqual(expectGaps.sort((a, b) => key(a).localeCompare(key(b))));
      }),
      { numRuns: 500 },
    );
  });
});

import { describe, expect, it } from 'vitest';
import type { MembershipEvent } from '@parley/shared/client';
import { membershipLines, placeLines } from '../src/chat/membership-lines.ts';

const names: Record<string, string> = { ann: 'Ann', bob: 'Bob', dan: 'Dan' };
const nameOf = (u: string) => names[u] ?? 'Unknown member';
const ev = (id: string, ts: number, e: Omit<MembershipEvent, 'id' | 'ts'>): MembershipEvent => ({ id, ts, ...e });

describe('membership lines', () => {
  it('says who did what, "you" for this user, and folds the first name into the creation', () => {
    const lines = membershipLines(
      [
        ev('1', 1000, { type: 'create', actor: 'ann' }),
        ev('2', 1001, { type: 'rename', actor: 'ann', name: 'Trip' }),
        ev('3', 5000, { type: 'add', actor: 'ann', target: 'dan', role: 'member' }),
        ev('4', 6000, { type: 'add', actor: 'ann', target: 'me', role: 'member' }),
        ev('5', 7000, { type: 'role', actor: 'me', target: 'bob', role: 'admin' }),
        ev('6', 8000, { type: 'rename', actor: 'bob', name: 'Trip 2027' }),
        ev('7', 9000, { type: 'remove', actor: 'bob', target: 'dan' }),
        ev('8', 9500, { type: 'leave', actor: 'ann' }),
      ],
      nameOf,
      'me',
    );
    expect(lines.map((l) => l.text)).toEqual([
      'Ann created the group “Trip”',
      'Ann added Dan',
      'Ann added you',
      'You made Bob an admin',
      'Bob renamed the group to “Trip 2027”',
      'Bob removed Dan',
      'Ann left',
    ]);
  });

  it('a later rename by the creator is its own line', () => {
    const lines = membershipLines([ev('1', 0, { type: 'create', actor: 'ann' }), ev('2', 120_000, { type: 'rename', actor: 'ann', name: 'Later' })], nameOf, 'me');
    expect(lines.map((l) => l.text)).toEqual(['Ann created the group', 'Ann renamed the group to “Later”']);
  });

  it('places lines before the first message after them, after the newest, and leaves out unloaded history', () => {
    const lines = [
      { id: 'a', ts: 5, text: 'early' },
      { id: 'b', ts: 15, text: 'between' },
      { id: 'c', ts: 30, text: 'late' },
    ];
    const messages = [
      { id: 'm1', ts: 10 },
      { id: 'm2', ts: 20 },
    ];
    const all = placeLines(lines, messages, false);
    expect(all.before.get('m1')?.map((l) => l.text)).toEqual(['early']);
    expect(all.before.get('m2')?.map((l) => l.text)).toEqual(['between']);
    expect(all.after.map((l) => l.text)).toEqual(['late']);
    const partial = placeLines(lines, messages, true);
    expect(partial.before.get('m1')).toBeUndefined();
    expect(placeLines(lines, [], false).after).toHaveLength(3);
  });
});

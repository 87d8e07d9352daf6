/**
 * The conversation integrity notice as data (app/src/chat/integrity.ts): which gaps are shown and when
 * (they must persist), which rejected frames are shown, and the sentences the notice reads out.
 */
import { describe, expect, it } from 'vitest';
import { FRAME_ERROR_CODES, type FrameErrorCode } from '@parley/shared/envelope';
import { flattenGaps, GAP_SHOW_AFTER_MS, GapWatch, MAX_DETAILS, summarizeIntegrity, visibleInvalid, type SegmentGap, type SegmentInvalid } from '../src/chat/integrity.ts';

const ANN = '11111111-1111-4111-8111-111111111111';
const BOB = '22222222-2222-4222-8222-222222222222';
const CAT = '33333333-3333-4333-8333-333333333333';
const DAN = '44444444-4444-4444-8444-444444444444';
const DEVICE = 'abcdef0123456789abcdef0123456789';
const names: Record<string, string> = { [ANN]: 'Ann', [BOB]: 'Bob', [CAT]: 'Cat' };
const nameOf = (u: string) => names[u];

const gap = (userId: string, from: number, to: number, segmentId = 'seg-1', deviceId = DEVICE): SegmentGap => ({ segmentId, userId, deviceId, from, to });
const invalid = (code: FrameErrorCode, userId?: string): SegmentInvalid => ({
  segmentId: 'seg-1',
  frame: userId ? { index: 3, code, userId, deviceId: DEVICE, counter: 7 } : { index: 3, code },
});
const summary = (gaps: SegmentGap[], frames: SegmentInvalid[] = []) => summarizeIntegrity({ gaps, invalid: frames }, nameOf);

describe('GapWatch: a gap is shown only once it has persisted', () => {
  it('hides a new gap, says when it becomes due, and shows it from then on', () => {
    const w = new GapWatch();
    const g = gap(BOB, 2, 2);
    expect(w.update([g], 1000)).toEqual({ shown: [], dueAt: 1000 + GAP_SHOW_AFTER_MS });
    expect(w.update([g], 1000 + GAP_SHOW_AFTER_MS - 1).shown).toEqual([]);
    expect(w.update([g], 1000 + GAP_SHOW_AFTER_MS)).toEqual({ shown: [g], dueAt: undefined });
  });

  it('a gap filled before the delay is never shown, and a filled gap disappears at once', () => {
    const w = new GapWatch(100);
    w.update([gap(BOB, 2, 4)], 0);
    expect(w.update([], 50)).toEqual({ shown: [], dueAt: undefined });
    expect(w.update([gap(BOB, 2, 4)], 60).dueAt).toBe(160); // a new gap: its own delay
    expect(w.update([gap(BOB, 2, 4)], 160).shown).toHaveLength(1);
    expect(w.update([], 161).shown).toEqual([]);
  });

  it('keeps the age of a gap whose end moves up, restarts it when frames at its start arrive', () => {
    const w = new GapWatch(100);
    w.update([gap(BOB, 2, 4)], 0);
    expect(w.update([gap(BOB, 2, 9)], 100).shown).toEqual([gap(BOB, 2, 9)]); // newer frames arrived, 2.. still missing
    expect(w.update([gap(BOB, 5, 9)], 150)).toEqual({ shown: [], dueAt: 250 }); // 2..4 arrived: progress
  });

  it('tells devices and segments apart', () => {
    const w = new GapWatch(100);
    w.update([gap(BOB, 2, 2)], 0);
    const later = [gap(BOB, 2, 2), gap(BOB, 2, 2, 'seg-2'), gap(BOB, 2, 2, 'seg-1', 'ff'.repeat(16))];
    expect(w.update(later, 100)).toEqual({ shown: [gap(BOB, 2, 2)], dueAt: 200 });
  });

  it('flattens Conversation.gaps()', () => {
    const { segmentId: _s, ...g } = gap(BOB, 2, 3);
    expect(flattenGaps([{ segmentId: 'seg-9', gaps: [g] }])).toEqual([{ ...g, segmentId: 'seg-9' }]);
  });
});

describe('rejected frames', () => {
  it('every FrameErrorCode is shown with a reason, except unknown_epoch (such frames wait for their key)', () => {
    const hidden = FRAME_ERROR_CODES.filter((code) => visibleInvalid([invalid(code)]).length === 0);
    expect(hidden).toEqual(['unknown_epoch']);
    for (const code of FRAME_ERROR_CODES) {
      if (hidden.includes(code)) continue;
      const s = summary([], [invalid(code)]);
      expect(s.rejected, code).toHaveLength(1);
      expect(s.rejected[0], code).toMatch(/^1 update \S.*\.$/);
    }
  });

  it('words per code group, naming the sender when the frame carries one', () => {
    expect(summary([], [invalid('bad_signature')]).rejected).toEqual(['1 update failed its signature check (altered or forged).']);
    expect(summary([], [invalid('bad_signature'), invalid('bad_signature')]).rejected).toEqual(['2 updates failed their signature check (altered or forged).']);
    expect(summary([], [invalid('decrypt_failed')]).rejected).toEqual(['1 update could not be decrypted.']);
    expect(summary([], [invalid('not_member'), invalid('unknown_signer')]).rejected).toEqual(['2 updates came from someone who is not a member.']);
    expect(summary([], [invalid('foreign_client', BOB), invalid('overwrite', BOB)]).rejected).toEqual(['2 updates from Bob tried to change or replace someone else’s messages.']);
    expect(summary([], [invalid('malformed'), invalid('too_large'), invalid('invalid_update', CAT)]).rejected).toEqual([
      '2 updates were malformed.',
      '1 update from Cat was malformed.',
    ]);
    // A different update under a number the device already used: its content was dropped, so it is shown.
    expect(summary([], [invalid('replayed', BOB)])).toEqual({
      missing: [],
      missingWhy: '',
      rejected: ['1 update from Bob reused the number of an earlier update from the same device and was dropped.'],
      details: ['Rejected (replayed): Bob, device abcdef01, update 7 (segment seg-1)'],
    });
  });

  it('keeps the default view short: at most three lines, the rest added up', () => {
    const frames = [invalid('bad_signature'), invalid('decrypt_failed'), invalid('not_member'), invalid('malformed'), invalid('malformed')];
    expect(summary([], frames).rejected).toEqual([
      '1 update failed its signature check (altered or forged).',
      '1 update could not be decrypted.',
      '3 more updates were rejected.',
    ]);
  });
});

describe('missing updates', () => {
  it('names the member, counts the updates across devices and segments, and says the server may withhold them', () => {
    const s = summary([gap(BOB, 2, 2), gap(BOB, 5, 7, 'seg-2'), gap(BOB, 3, 3, 'seg-1', 'ee'.repeat(16))]);
    expect(s.missing).toEqual(['5 updates from Bob are missing.']);
    expect(s.missingWhy).toBe('The server may be withholding them, or Bob’s device lost them before sending.');
    expect(summary([gap(BOB, 2, 2)]).missing).toEqual(['1 update from Bob is missing.']);
    expect(summary([gap(BOB, 2, 2)]).missingWhy).toBe('The server may be withholding it, or Bob’s device lost it before sending.');
  });

  it('falls back to "a member" for an unknown user, and speaks of senders when there are several', () => {
    const s = summary([gap(DAN, 2, 2), gap(CAT, 4, 4)]);
    expect(s.missing).toEqual(['1 update from a member is missing.', '1 update from Cat is missing.']);
    expect(s.missingWhy).toBe('The server may be withholding them, or the sender’s device lost them before sending.');
  });

  it('adds up the senders beyond three lines', () => {
    const s = summary([gap(ANN, 2, 2), gap(BOB, 2, 3), gap(CAT, 2, 4), gap(DAN, 2, 2)]);
    expect(s.missing).toEqual(['1 update from Ann is missing.', '2 updates from Bob are missing.', '4 updates from 2 more members are missing.']);
  });

  it('reads huge counter jumps as numbers, not exponents', () => {
    expect(summary([gap(BOB, 2, 1_000_001)]).missing).toEqual(['1,000,000 updates from Bob are missing.']);
  });
});

describe('details', () => {
  it('lists each range and each rejected frame, capped', () => {
    const s = summary([gap(BOB, 2, 4)], [invalid('bad_signature')]);
    expect(s.details).toEqual(['Missing: Bob, device abcdef01, update 2–4 (segment seg-1)', 'Rejected (bad_signature): sender not verified (segment seg-1)']);
    const many = summary([], Array.from({ length: MAX_DETAILS + 5 }, () => invalid('malformed')));
    expect(many.details).toHaveLength(MAX_DETAILS + 1);
    expect(many.details.at(-1)).toBe('… and 5 more');
  });

  it('names the membership document instead of a segment', () => {
    const meta = 'm_0123456789abcdef0123456789abcdef';
    expect(summary([gap(BOB, 3, 3, meta)]).details).toEqual(['Missing: Bob, device abcdef01, update 3 (membership)']);
  });
});

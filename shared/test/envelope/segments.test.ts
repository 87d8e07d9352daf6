import { describe, expect, it } from 'vitest';
import { rolloverDecision, SEGMENT_MAX_BYTES, shouldCompact } from '../../src/envelope/index.ts';

describe('segment policy', () => {
  it('[SEG-1] an epoch change or an oversized snapshot closes the segment', () => {
    expect(rolloverDecision({ segmentEpoch: 1, currentEpoch: 2, segmentBytes: 0 })).toEqual({ rollover: true, reason: 'epoch_changed' });
    expect(rolloverDecision({ segmentEpoch: 1, currentEpoch: 1, segmentBytes: 0, snapshotTooLarge: true })).toEqual({
      rollover: true,
      reason: 'snapshot_too_large',
    });
  });

  it('[SEG-2] the ciphertext cap closes the segment, counting the frame about to be written', () => {
    const base = { segmentEpoch: 1, currentEpoch: 1 };
    expect(rolloverDecision({ ...base, segmentBytes: SEGMENT_MAX_BYTES - 100 })).toEqual({ rollover: false });
    expect(rolloverDecision({ ...base, segmentBytes: SEGMENT_MAX_BYTES - 100, pendingBytes: 200 })).toEqual({
      rollover: true,
      reason: 'size_cap',
    });
  });

  it('[COMPACT-1] compaction thresholds: > 200 frames or > 256 KiB', () => {
    expect(shouldCompact({ frames: 200, bytes: 256 * 1024 })).toBe(false);
    expect(shouldCompact({ frames: 201, bytes: 0 })).toBe(true);
    expect(shouldCompact({ frames: 1, bytes: 256 * 1024 + 1 })).toBe(true);
  });
});

import { describe, expect, it } from 'vitest';
import { COMPACT_MAX_DEFER_MS, COMPACT_QUIET_MS, compactionWait, rolloverDecision, SEGMENT_MAX_BYTES, shouldCompact } from '../../src/envelope/index.ts';

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

  it('[COMPACT-1] a segment is compacted at its first quiet moment, or at the latest a fixed time after it needed it', () => {
    const jitter = 500;
    // Quiet since it needed compacting: the quiet period after the last frame, plus the jitter.
    expect(compactionWait({ now: 10_000, lastFrameAt: 10_000, neededSince: 10_000, jitter })).toBe(COMPACT_QUIET_MS + jitter);
    expect(compactionWait({ now: 11_000, lastFrameAt: 10_000, neededSince: 10_000, jitter })).toBe(COMPACT_QUIET_MS - 1_000 + jitter);
    expect(compactionWait({ now: 10_000 + COMPACT_QUIET_MS + jitter, lastFrameAt: 10_000, neededSince: 10_000, jitter })).toBe(0);
    expect(compactionWait({ now: 60_000, lastFrameAt: 10_000, neededSince: 10_000, jitter })).toBe(0);
    // Every frame pushes it back...
    expect(compactionWait({ now: 20_000, lastFrameAt: 20_000, neededSince: 10_000, jitter })).toBe(COMPACT_QUIET_MS + jitter);
    // ... but not past the deadline: a segment that never goes quiet is compacted anyway.
    const deadline = 10_000 + COMPACT_MAX_DEFER_MS + jitter;
    expect(compactionWait({ now: deadline - 100, lastFrameAt: deadline - 100, neededSince: 10_000, jitter })).toBe(100);
    expect(compactionWait({ now: deadline, lastFrameAt: deadline, neededSince: 10_000, jitter })).toBe(0);
    expect(COMPACT_QUIET_MS).toBeLessThan(COMPACT_MAX_DEFER_MS);
  });
});

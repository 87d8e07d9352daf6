/**
 * Segment and compaction policy ([SEG-*], [COMPACT-1]): pure decisions over numbers the caller already has.
 * Lazy loading of older segments is the client's job; these helpers only say when to compact or roll over.
 */
import * as Y from 'yjs';

/** Ciphertext bytes after which a segment is closed and a new one opened ([SEG-2]). */
export const SEGMENT_MAX_BYTES = 1024 * 1024;
/**
 * [SEG-4] Past this many bytes a writer asks the server for the next segment (state `next`), which members
 * attach to before the cap: the rollover then only switches the writer to a document everyone already syncs.
 */
export const SEGMENT_PREPARE_BYTES = Math.floor(SEGMENT_MAX_BYTES * 0.75);
/**
 * [SEG-4] Members other than the device that asked for the next segment attach to it after a random delay of up
 * to this long: the server then authenticates and loads their connections spread out, not all at once (in
 * bench (a) the 49 simultaneous attaches stalled every member's deliveries for a moment). The prepared segment
 * is needed only at the cap (25% of a segment later); a member not attached by then attaches at the rollover.
 */
export const ATTACH_AHEAD_JITTER_MS = 1_500;
/** Frames in a log above which a device should compact ([COMPACT-1]). */
export const COMPACT_MAX_FRAMES = 200;
/** Bytes in a log above which a device should compact ([COMPACT-1]). */
export const COMPACT_MAX_BYTES = 256 * 1024;

/** Whether a segment still accepts writes. Closed segments are read-only for everyone ([SEG-3]). */
export type SegmentState = 'open' | 'closed' | 'next';

/** Size of an envelope log. */
export interface LogStats {
  frames: number;
  bytes: number;
}

/** Counts frames and their bytes (non-binary entries count as frames of 0 bytes). */
export function logStats(log: Y.Array<unknown>): LogStats {
  let bytes = 0;
  for (const f of log.toArray()) if (f instanceof Uint8Array) bytes += f.length;
  return { frames: log.length, bytes };
}

/**
 * What one transaction changed in `log`: the values of the elements it inserted that are still there, in
 * per-writer clock order, and the contents of elements it deleted that existed before it. The same sets as
 * `event.changes` (its `delta` inserts and `deleted`), without walking the whole array: `event.changes` visits
 * every element of the log on every event, which made each new frame cost O(frames in the segment). Read the
 * deleted contents inside the observer: the transaction's garbage collection drops them afterwards.
 */
export function logChanges(log: Y.Array<unknown>, tr: Y.Transaction): { inserted: unknown[]; deleted: unknown[] } {
  const inserted: unknown[] = [];
  const deleted: unknown[] = [];
  const parent = log as unknown as Y.AbstractType<unknown>;
  const ownElement = (s: unknown): s is Y.Item => s instanceof Y.Item && s.parent === parent && s.parentSub === null && s.countable;
  for (const [client, after] of tr.afterState) {
    const before = tr.beforeState.get(client) ?? 0;
    if (after <= before) continue;
    const structs = tr.doc.store.clients.get(client);
    if (!structs) continue;
    for (let i = Y.findIndexSS(structs, before); i < structs.length; i++) {
      const s = structs[i]!;
      if (s.id.clock >= after) break;
      // A struct starting before `before` is older content split by this transaction, not new.
      if (s.id.clock < before || !ownElement(s) || s.deleted) continue;
      for (const v of s.content.getContent()) inserted.push(v);
    }
  }
  Y.iterateDeletedStructs(tr, tr.deleteSet, (s) => {
    if (ownElement(s) && s.id.clock < (tr.beforeState.get(s.id.client) ?? 0)) for (const v of s.content.getContent()) deleted.push(v);
  });
  return { inserted, deleted };
}

/** Thresholds for `shouldCompact`; defaults are `COMPACT_MAX_FRAMES` and `COMPACT_MAX_BYTES`. */
export interface CompactThresholds {
  maxFrames?: number;
  maxBytes?: number;
}

/** What `shouldCompact` weighs: the log without its largest snapshot (`frames` and `bytes` exclude it). */
export type CompactStats = LogStats;

/**
 * [COMPACT-1]: compact when the log holds more than `maxFrames` frames or more than `maxBytes` bytes besides
 * its largest snapshot (which a compaction would only write again: counting it made every frame after a
 * snapshot of ~256 KiB trigger another compaction of the whole segment state).
 */
export function shouldCompact(stats: CompactStats, t: CompactThresholds = {}): boolean {
  return stats.frames > (t.maxFrames ?? COMPACT_MAX_FRAMES) || stats.bytes > (t.maxBytes ?? COMPACT_MAX_BYTES);
}

/** [COMPACT-1] A segment that needs compacting is compacted once no frame arrived for this long ... */
export const COMPACT_QUIET_MS = 2_000;
/** ... or at the latest this long after it first needed it, however busy the segment stays. */
export const COMPACT_MAX_DEFER_MS = 30_000;

/** Input to `compactionWait` (times in ms on one clock). */
export interface CompactionTiming {
  now: number;
  /** When the segment's latest frame (received or sent) arrived. */
  lastFrameAt: number;
  /** When the segment first needed compacting in this round (`shouldCompact` turned true). */
  neededSince: number;
  /** This device's random delay, so that usually only one of the members' devices compacts ([COMPACT-6]). */
  jitter: number;
}

/**
 * [COMPACT-1] How long to wait before compacting a segment that needs it (0: now). A compaction sends the whole
 * segment state (up to a frame, 256 KiB) to every member, and each of them checks it: done in the middle of a
 * busy conversation it holds up the messages around it for every member. So a device compacts in the first
 * quiet moment (`COMPACT_QUIET_MS` without frames), and a segment that never goes quiet is compacted
 * `COMPACT_MAX_DEFER_MS` after it first needed it; either plus the device's jitter.
 */
export function compactionWait(t: CompactionTiming): number {
  const at = Math.min(t.lastFrameAt + COMPACT_QUIET_MS, t.neededSince + COMPACT_MAX_DEFER_MS) + t.jitter;
  return Math.max(0, at - t.now);
}

/** Why a segment must be closed. */
export type RolloverReason = 'epoch_changed' | 'size_cap' | 'snapshot_too_large';

/** Input to `rolloverDecision`. */
export interface RolloverInput {
  /** Epoch the segment was opened with. */
  segmentEpoch: number;
  /** The conversation's newest epoch this device holds. */
  currentEpoch: number;
  /** Ciphertext bytes the segment holds now (`logStats(log).bytes`, or the server's count). */
  segmentBytes: number;
  /** Bytes about to be written (a frame); counted against the cap. */
  pendingBytes?: number;
  /** True when a compaction snapshot no longer fits in one frame. */
  snapshotTooLarge?: boolean;
  maxBytes?: number;
}

/** Result of `rolloverDecision`. */
export type RolloverDecision = { rollover: false } | { rollover: true; reason: RolloverReason };

/**
 * [SEG-1], [SEG-2]: a segment rolls over when the key epoch changes (a member left or was removed), when it
 * would pass the ciphertext cap, or when its snapshot no longer fits in a frame. Epoch change wins.
 */
export function rolloverDecision(input: RolloverInput): RolloverDecision {
  if (input.currentEpoch !== input.segmentEpoch) return { rollover: true, reason: 'epoch_changed' };
  if (input.snapshotTooLarge) return { rollover: true, reason: 'snapshot_too_large' };
  if (input.segmentBytes + (input.pendingBytes ?? 0) > (input.maxBytes ?? SEGMENT_MAX_BYTES))
    return { rollover: true, reason: 'size_cap' };
  return { rollover: false };
}

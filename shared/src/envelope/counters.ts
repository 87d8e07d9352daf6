/**
 * Per-device counters ([FRAME-7], [COMPACT-3]): replay and gap detection for frames we receive, and the
 * injected store that keeps our own counter strictly increasing across restarts.
 */
import { deviceKey, type Coverage, type MaybePromise } from './frame.ts';

/** A range of missing counters of one device, inclusive on both ends. */
export interface CounterGap {
  userId: string;
  deviceId: string;
  from: number;
  to: number;
}

/** How a (device, counter, signature) relates to what was seen before. */
export type CounterStatus = 'new' | 'duplicate' | 'replayed';

interface DeviceState {
  userId: string;
  deviceId: string;
  /** Counter -> signature key of the frame accepted under it. */
  accepted: Map<number, string>;
  /** The accepted counters above `prefix` (usually none), so `gaps` and `maxSeen` need not scan `accepted`. */
  above: Set<number>;
  /** All of 1..prefix are accepted or covered by a snapshot. */
  prefix: number;
  coveredMax: number;
}

/** Bookkeeping of every device's frames seen by one binding. */
export class DeviceCounters {
  private readonly devices = new Map<string, DeviceState>();

  private state(userId: string, deviceId: string): DeviceState {
    const key = deviceKey(userId, deviceId);
    let s = this.devices.get(key);
    if (!s) {
      s = { userId, deviceId, accepted: new Map(), above: new Set(), prefix: 0, coveredMax: 0 };
      this.devices.set(key, s);
    }
    return s;
  }

  /**
   * `duplicate`: this exact frame (same signature) was accepted before, harmless. `replayed`: a different frame
   * already used this counter ([FRAME-7]). `new` otherwise, including a late frame under a snapshot's coverage
   * (its update is idempotent).
   */
  check(userId: string, deviceId: string, counter: number, sigKey: string): CounterStatus {
    const seen = this.devices.get(deviceKey(userId, deviceId))?.accepted.get(counter);
    if (seen === undefined) return 'new';
    return seen === sigKey ? 'duplicate' : 'replayed';
  }

  /** Records an accepted frame. */
  accept(userId: string, deviceId: string, counter: number, sigKey: string): void {
    const s = this.state(userId, deviceId);
    if (!s.accepted.has(counter)) {
      s.accepted.set(counter, sigKey);
      if (counter > s.prefix) s.above.add(counter);
    }
    advance(s);
  }

  /** Records a verified snapshot's coverage: counters 1..max of each device are contained in it. */
  cover(coverage: Coverage): void {
    for (const [key, max] of coverage) {
      const i = key.indexOf(':');
      const s = this.state(key.slice(0, i), key.slice(i + 1));
      if (max > s.coveredMax) s.coveredMax = max;
      advance(s);
    }
  }

  /** The contiguous prefix per device: what an honest snapshot made now may claim to cover ([COMPACT-3]). */
  coverage(): Coverage {
    const out: Coverage = new Map();
    for (const [key, s] of this.devices) if (s.prefix > 0) out.set(key, s.prefix);
    return out;
  }

  /** Whether counter `counter` of the device lies in its contiguous prefix. */
  inPrefix(userId: string, deviceId: string, counter: number): boolean {
    return counter <= (this.devices.get(deviceKey(userId, deviceId))?.prefix ?? 0);
  }

  /** Highest counter this binding has seen for a device (0 when none). */
  maxSeen(userId: string, deviceId: string): number {
    const s = this.devices.get(deviceKey(userId, deviceId));
    if (!s) return 0;
    let max = Math.max(s.prefix, s.coveredMax);
    for (const c of s.above) if (c > max) max = c;
    return max;
  }

  /** Missing counters below each device's highest seen counter: frames withheld or not yet delivered. */
  gaps(): CounterGap[] {
    const out: CounterGap[] = [];
    for (const s of this.devices.values()) {
      const above = [...s.above].sort((a, b) => a - b);
      let expected = s.prefix + 1;
      for (const c of above) {
        if (c > expected) out.push({ userId: s.userId, deviceId: s.deviceId, from: expected, to: c - 1 });
        expected = c + 1;
      }
    }
    return out;
  }
}

function advance(s: DeviceState): void {
  if (s.coveredMax > s.prefix) s.prefix = s.coveredMax;
  while (s.accepted.has(s.prefix + 1)) s.prefix++;
  for (const c of s.above) if (c <= s.prefix) s.above.delete(c);
}

/**
 * Persists this device's frame counter per segment so it stays strictly increasing across restarts
 * ([FRAME-7]). `next` must durably record its answer before returning it.
 */
export interface CounterStore {
  /** Returns a counter >= `atLeast` and greater than every counter it returned before for `segmentId`. */
  next(segmentId: string, atLeast: number): MaybePromise<number>;
}

/** In-memory `CounterStore` for tests and ephemeral bots. Not durable. */
export class MemoryCounterStore implements CounterStore {
  private readonly last = new Map<string, number>();
  /** See `CounterStore.next`. */
  next(segmentId: string, atLeast: number): number {
    const value = Math.max((this.last.get(segmentId) ?? 0) + 1, atLeast);
    this.last.set(segmentId, value);
    return value;
  }
}

/**
 * [COMPACT-7] A snapshot must carry, unchanged, everything it claims to cover that the reader holds.
 *
 * A snapshot replaces the frames its coverage names ([COMPACT-2], [COMPACT-3]); a device that loads the segment
 * later sees only the snapshot. A compacting member could leave other members' entries out of it (or change
 * them under the same Yjs ids), and nothing showed it: the coverage claims the counters, so no gap appears.
 * A reader that applied those frames can tell: every struct unit (one clock of one client) of a covered frame
 * that the reader still holds, not deleted, must be in the snapshot with the same content and the same place
 * (origin, right origin, parent key). A snapshot that fails this is refused, and the frames it deleted come back
 * through the repair rule ([COMPACT-5]), so later devices see them again.
 *
 * Honest snapshots pass: a compactor's state holds every frame its coverage names (coverage is the contiguous
 * prefix of what its binding applied or a snapshot it accepted carried), as the very structs the reader applied.
 * Units the reader does not hold (pending in Yjs, or deleted) are not judged.
 */
import * as Y from 'yjs';
import { deviceKey, type Coverage } from './frame.ts';
import { decodedRootName, structAt, structsByClient } from './ownership.ts';

/** The struct ranges of one frame's inner update: `[client, clock, length]`, adjacent ranges merged. */
export type StructRanges = Array<[client: number, clock: number, length: number]>;

/** The ranges of the structs (Items and GCs, not Skips) of a decoded update. */
export function structRanges(structs: readonly unknown[]): StructRanges {
  const out: StructRanges = [];
  for (const s of structs) {
    if (!(s instanceof Y.Item) && !(s instanceof Y.GC)) continue;
    const last = out[out.length - 1];
    if (last && last[0] === s.id.client && last[1] + last[2] === s.id.clock) last[2] += s.length;
    else out.push([s.id.client, s.id.clock, s.length]);
  }
  return out;
}

/** A frame the reader applied: who sealed it, its counter and its struct ranges. */
export interface AppliedFrame {
  userId: string;
  deviceId: string;
  counter: number;
  /** Absent for a frame whose structs were not recorded (this device's own snapshots). */
  ranges?: StructRanges | undefined;
}

/** The root type an integrated item sits in, by name (undefined for a nested type or an unknown parent). */
function rootKey(item: Y.Item): string | undefined {
  if (!(item.parent instanceof Y.AbstractType) || item.parent._item !== null) return undefined;
  try {
    return Y.findRootTypeKey(item.parent);
  } catch {
    return undefined;
  }
}

/** One clock unit of an item: its content element and where it sits. */
interface Unit {
  content: unknown;
  kind: unknown;
  origin: Y.ID | null;
  rightOrigin: Y.ID | null;
  parentSub: string | null;
}

function unitOf(item: Y.Item, clock: number): Unit {
  const k = clock - item.id.clock;
  const content = item.content instanceof Y.ContentAny ? item.content.arr[k] : undefined;
  return {
    content,
    kind: item.content.constructor,
    origin: k === 0 ? item.origin : Y.createID(item.id.client, clock - 1),
    rightOrigin: item.rightOrigin,
    parentSub: k === 0 ? item.parentSub : null,
  };
}

const sameId = (a: Y.ID | null, b: Y.ID | null) => (a === null ? b === null : b !== null && a.client === b.client && a.clock === b.clock);

/** Structural equality of ContentAny values (plain objects, arrays, primitives, bytes). */
function sameContent(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (a instanceof Uint8Array && b instanceof Uint8Array) return a.length === b.length && a.every((x, i) => x === b[i]);
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  if (ka.length !== kb.length) return false;
  return ka.every((k) => Object.prototype.hasOwnProperty.call(b, k) && sameContent((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}

/**
 * Whether a snapshot whose decoded update is `structs`, with `coverage`, leaves out or changes a unit of a
 * covered frame in `applied` that `inner` holds ([COMPACT-7]).
 */
export function snapshotOmits(structs: readonly unknown[], coverage: Coverage, applied: Iterable<AppliedFrame>, inner: Y.Doc): boolean {
  const theirs = structsByClient(structs);
  const store = inner.store;
  for (const f of applied) {
    if (!f.ranges || (coverage.get(deviceKey(f.userId, f.deviceId)) ?? 0) < f.counter) continue;
    for (const [client, from, length] of f.ranges) {
      const held = Math.min(from + length, Y.getState(store, client));
      for (let clock = from; clock < held; ) {
        const mine = Y.getItem(store, Y.createID(client, clock));
        const end = Math.min(held, mine.id.clock + mine.length);
        if (!(mine instanceof Y.Item) || mine.deleted) {
          clock = end;
          continue;
        }
        for (; clock < end; clock++) {
          const other = structAt(theirs, client, clock);
          if (!(other instanceof Y.Item)) return true;
          const a = unitOf(mine, clock);
          const b = unitOf(other, clock);
          if (a.kind !== b.kind || !sameContent(a.content, b.content)) return true;
          if (!sameId(a.origin, b.origin) || !sameId(a.rightOrigin, b.rightOrigin)) return true;
          // Without origins the parent is in the encoding: the same root (by name) and the same map key.
          if (b.origin === null && b.rightOrigin === null && clock === other.id.clock) {
            const root = rootKey(mine);
            if (root !== decodedRootName(other) || a.parentSub !== b.parentSub) return true;
          }
        }
      }
    }
  }
  return false;
}

/**
 * The rendered message list: each materialized message with `mine`, its delivery `status` and `readBy` (the
 * other members whose read receipt is at or after it). `MessageDecorator` keeps the previous result and
 * recomputes only from the first position that can differ, so a steady stream of new messages re-decorates
 * the newest few instead of the whole history on every render; `decorateAll` is the reference it must equal.
 */
import type { MaterializedMessage } from '../envelope/index.ts';

/** Delivery of one of my messages: `pending` until the server acknowledged the frame holding it. */
export type DeliveryState = 'pending' | 'sent';

/** A rendered message with delivery and read state. */
export interface ConversationMessage extends MaterializedMessage {
  mine: boolean;
  /** Delivery of my own messages (`sent` for everyone else's). */
  status: DeliveryState;
  /** Other verified members whose read receipt is at or after this message. */
  readBy: string[];
}

/** `readBy` of messages nobody has read yet (shared by all of them: frozen, so a consumer writing into it throws). */
const NO_READERS: string[] = Object.freeze([]) as unknown as string[];

function sameStrings(a: readonly string[], b: readonly string[]): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** List order of messages ([INNER-5]): by `ts`, then `id`. */
function byTsThenId(a: { ts: number; id: string }, b: { ts: number; id: string }): number {
  return a.ts - b.ts || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

/**
 * Decorates `list[from..]` into `out`. `marks`: userId → index in `list` of that user's latest receipt. One
 * pass from the newest message down: O(n + receipts²), not O(n·receipts). `prev`/`prevOut`: the previous
 * list (sorted the same way) and what was rendered from it; a message whose projection object, status and
 * readers are unchanged keeps its rendered object, found by walking both lists backwards together (no lookup
 * table, so loading older history in front of the list reuses everything already rendered).
 */
function decorateRange(
  me: string,
  list: readonly MaterializedMessage[],
  marks: ReadonlyMap<string, number>,
  pending: ReadonlySet<string>,
  from: number,
  out: ConversationMessage[],
  prev: readonly MaterializedMessage[] = [],
  prevOut: readonly ConversationMessage[] = [],
): void {
  const order = [...marks].map(([userId, pos]) => ({ userId, pos })).sort((a, b) => b.pos - a.pos);
  let active: string[] = [];
  let byAuthor = new Map<string, string[]>();
  let k = 0;
  let j = prev.length - 1;
  for (let i = list.length - 1; i >= from; i--) {
    if (k < order.length && order[k]!.pos >= i) {
      while (k < order.length && order[k]!.pos >= i) active.push(order[k++]!.userId);
      active = active.sort((a, b) => (a < b ? -1 : 1));
      byAuthor = new Map();
    }
    const x = list[i]!;
    let was: ConversationMessage | undefined;
    while (j >= 0 && byTsThenId(prev[j]!, x) > 0) j--; // gone from the list
    if (j >= 0 && prev[j] === x) was = prevOut[j--];
    else if (j >= 0 && byTsThenId(prev[j]!, x) === 0) j--; // same message, new projection object
    let readBy = active.length === 0 ? NO_READERS : byAuthor.get(x.author);
    if (!readBy) byAuthor.set(x.author, (readBy = active.filter((u) => u !== x.author)));
    const status: DeliveryState = pending.size > 0 && pending.has(x.id) ? 'pending' : 'sent';
    out[i] = was && was.status === status && sameStrings(was.readBy, readBy) ? was : { ...x, mine: x.author === me, status, readBy };
  }
}

/** The whole list decorated from scratch (the reference `MessageDecorator` equals). */
export function decorateAll(
  me: string,
  list: readonly MaterializedMessage[],
  marks: ReadonlyMap<string, number>,
  pending: ReadonlySet<string>,
): ConversationMessage[] {
  const out = new Array<ConversationMessage>(list.length);
  decorateRange(me, list, marks, pending, 0, out);
  return out;
}

/** See the module comment. One per conversation view. */
export class MessageDecorator {
  #prev: { list: readonly MaterializedMessage[]; out: ConversationMessage[]; marks: Map<string, number>; pending: Set<string> } | undefined;

  constructor(readonly me: string) {}

  /** Whether `pending` differs from what the last `decorate` saw (a render is due even if the list is the same). */
  pendingChanged(pending: ReadonlySet<string>): boolean {
    const prev = this.#prev?.pending;
    if (!prev || prev.size !== pending.size) return true;
    for (const id of pending) if (!prev.has(id)) return true;
    return false;
  }

  /**
   * Equals `decorateAll(me, list, marks, pending)`. Messages below the first position that can differ from
   * the previous result are the previous objects: a position differs when its message object changed, when a
   * receipt moved past it (message i lists u iff u's mark is at or after i, so a mark moving from a to b changes
   * (min, max]; one appearing or disappearing changes everything up to it), or when its delivery state flipped.
   */
  decorate(
    list: readonly MaterializedMessage[],
    marks: Map<string, number>,
    pending: ReadonlySet<string>,
    /** Position of a message id in `list` (-1 when absent), e.g. `MessageProjection.indexOf`. */
    find?: (id: string) => number,
    /**
     * A position at or below the first one where `list` differs from the previous call's list (e.g.
     * `MessageProjection.takeChangedFrom()`, accumulated since the previous call): spares comparing the two
     * lists from the start. Omitted: they are compared.
     */
    listChangedFrom?: number,
  ): ConversationMessage[] {
    const prev = this.#prev;
    const indexOf = (id: string) => {
      const at = find ? find(id) : list.findLastIndex((m) => m.id === id);
      return at < 0 ? list.length : at;
    };
    let from = 0;
    if (prev) {
      from = Math.min(list.length, prev.list.length);
      if (listChangedFrom !== undefined) from = Math.min(from, listChangedFrom);
      else
        for (let i = 0; i < from; i++)
          if (list[i] !== prev.list[i]) {
            from = i;
            break;
          }
      for (const [u, pos] of marks) {
        const was = prev.marks.get(u);
        if (was === undefined) from = 0;
        else if (was !== pos) from = Math.min(from, Math.min(was, pos) + 1);
      }
      for (const u of prev.marks.keys()) if (!marks.has(u)) from = 0;
      // Pending messages are my newest ones: found from the end.
      for (const id of pending) if (!prev.pending.has(id)) from = Math.min(from, indexOf(id));
      for (const id of prev.pending) if (!pending.has(id)) from = Math.min(from, indexOf(id));
    }
    const out = from > 0 ? prev!.out.slice(0, from) : [];
    out.length = list.length;
    decorateRange(this.me, list, marks, pending, from, out, prev?.list, prev?.out);
    this.#prev = { list, out, marks: new Map(marks), pending: new Set(pending) };
    return out;
  }
}

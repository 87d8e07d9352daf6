/**
 * Relay on receipt, acknowledge on commit (docs/protocol.md [SYNC-5], [SYNC-8], [SYNC-9]).
 *
 * Hocuspocus applies, relays and acknowledges (`SyncStatus(true)`) an update as soon as `beforeSync`
 * returns, and it handles one connection's messages strictly in order. Awaiting the PostgreSQL commit in
 * `beforeSync` therefore delays every member's copy by the commit, and queues a busy sender's next
 * messages behind it. Instead the server validates, lets Hocuspocus apply and relay at once, and holds
 * only the acknowledgement: this module wraps each writing connection's `send` so that its
 * `SyncStatus(true)` messages leave in their original order (FIFO), each one only after what it
 * acknowledges is committed.
 *
 * What an acknowledgement promises. The provider counts `SyncStatus(true)` messages against what it sent
 * (an update, or its SyncStep2 answer to the server's SyncStep1); at zero it treats everything it holds as
 * on the server. So:
 * - a live update (y-sync Update) is acknowledged once its own content is durable;
 * - a SyncStep2 is acknowledged once its content AND every struct the server's state vector advertised
 *   are durable: the client left out of its SyncStep2 exactly what that state vector said the server has,
 *   and the server's memory may hold content that is relayed but not committed (an append in flight, a
 *   failed append, or content that arrived from another instance over Redis whose origin instance may die
 *   before its commit).
 *
 * Durable is tracked per loaded document, not inferred from memory: the id ranges (client, clock) of the
 * structs and of the deletions in the rows loaded from PostgreSQL, plus those of every append this
 * instance committed since. Yjs ids name content (an id is never reused for other content), so an update
 * whose struct and delete ranges are all inside the durable ranges adds nothing to PostgreSQL: it is not
 * appended again (replays do not grow `doc_updates`) and its acknowledgement goes out at once. Anything
 * else is appended, even when memory already holds it. Memory the state vector advertised but this
 * instance has not seen committed is first given the appends in flight to commit, then appended by the
 * server itself (the structs after the durable prefix of each client, plus the delete set). Content from
 * another instance is never assumed durable: that instance may be SIGKILLed between relay and commit.
 *
 * A failed append is never acknowledged: the connection's queue stops for good (later acknowledgements
 * would overstate what is durable), the caller closes the document's connections (every instance), and
 * the clients re-sync on reconnect — either into a reloaded document that lacks the update (the client
 * sends it again) or into the same memory (the SyncStep2 rule above appends it before acknowledging).
 */
import type { Connection, Document } from '@hocuspocus/server';
import * as decoding from 'lib0/decoding';
import * as Y from 'yjs';

/** Sorted, disjoint, half-open clock ranges `[start, end)` per Yjs client id. */
export class ClockRanges {
  readonly #byClient = new Map<number, number[]>();

  /** Adds `[clock, clock + len)` for `client`, merging with touching ranges. */
  add(client: number, clock: number, len: number): void {
    if (len <= 0) return;
    let end = clock + len;
    let start = clock;
    const list = this.#byClient.get(client);
    if (!list) {
      this.#byClient.set(client, [start, end]);
      return;
    }
    // Fast path: appending at (or past) the end, which is how a client's clock grows.
    const lastEnd = list[list.length - 1]!;
    if (start > lastEnd) {
      list.push(start, end);
      return;
    }
    if (start === lastEnd) {
      list[list.length - 1] = Math.max(lastEnd, end);
      return;
    }
    const out: number[] = [];
    let placed = false;
    for (let i = 0; i < list.length; i += 2) {
      const s = list[i]!;
      const e = list[i + 1]!;
      if (e < start) out.push(s, e);
      else if (s > end) {
        if (!placed) {
          out.push(start, end);
          placed = true;
        }
        out.push(s, e);
      } else {
        start = Math.min(start, s);
        end = Math.max(end, e);
      }
    }
    if (!placed) out.push(start, end);
    this.#byClient.set(client, out);
  }

  /** True when `[clock, clock + len)` of `client` lies inside one range. */
  covers(client: number, clock: number, len: number): boolean {
    if (len <= 0) return true;
    const list = this.#byClient.get(client);
    if (!list) return false;
    for (let i = 0; i < list.length; i += 2) {
      if (list[i]! <= clock) {
        if (clock + len <= list[i + 1]!) return true;
      } else return false;
    }
    return false;
  }

  /** The end of the range that starts at clock 0 (0 when there is none): the durable prefix. */
  prefix(client: number): number {
    const list = this.#byClient.get(client);
    return list && list[0] === 0 ? list[1]! : 0;
  }
}

/** The id ranges an update writes: its structs (skips excluded) and its delete set. */
export interface UpdateRanges {
  readonly structs: ReadonlyArray<readonly [client: number, clock: number, len: number]>;
  readonly deletes: ReadonlyArray<readonly [client: number, clock: number, len: number]>;
}

/** Decodes an update's id ranges. Throws on an undecodable update (callers validated it first). */
export function rangesOf(update: Uint8Array): UpdateRanges {
  const decoded = Y.decodeUpdate(update);
  const structs: Array<readonly [number, number, number]> = [];
  for (const s of decoded.structs) if (!(s instanceof Y.Skip)) structs.push([s.id.client, s.id.clock, s.length]);
  const deletes: Array<readonly [number, number, number]> = [];
  for (const [client, items] of decoded.ds.clients) for (const d of items) deletes.push([client, d.clock, d.len]);
  return { structs, deletes };
}

/** What this instance knows to be committed for one loaded document, and its appends in flight. */
export class DurableState {
  readonly inserted = new ClockRanges();
  readonly deleted = new ClockRanges();
  readonly pending = new Set<Promise<void>>();

  /** Records ranges as committed. */
  record(r: UpdateRanges): void {
    for (const [c, k, n] of r.structs) this.inserted.add(c, k, n);
    for (const [c, k, n] of r.deletes) this.deleted.add(c, k, n);
  }

  /** True when every struct and deletion of `r` is committed. */
  covers(r: UpdateRanges): boolean {
    for (const [c, k, n] of r.structs) if (!this.inserted.covers(c, k, n)) return false;
    for (const [c, k, n] of r.deletes) if (!this.deleted.covers(c, k, n)) return false;
    return true;
  }

  /** True when every struct below `sv` is committed. */
  coversStateVector(sv: ReadonlyMap<number, number>): boolean {
    for (const [client, clock] of sv) if (!this.inserted.covers(client, 0, clock)) return false;
    return true;
  }

  /** The durable prefix of every client of `sv`, as a state vector. */
  prefixVector(sv: ReadonlyMap<number, number>): Map<number, number> {
    const out = new Map<number, number>();
    for (const client of sv.keys()) out.set(client, this.inserted.prefix(client));
    return out;
  }
}

/** What the next `SyncStatus` of a connection acknowledges (set by `beforeSync`). */
export type AckPlan =
  /** A live update applied from this connection. */
  | { kind: 'update'; update: Uint8Array; ranges: UpdateRanges; onStored?: () => void }
  /** The connection's SyncStep2 (answer to the server's SyncStep1); `readOnly`: not applied, never appended. */
  | { kind: 'step2'; update: Uint8Array; ranges: UpdateRanges; readOnly: boolean; onStored?: () => void };

/** Options of `DurableAcks`. */
export interface DurableAcksOptions {
  /** Appends one update to the document's rows; resolves once committed. */
  append(docName: string, update: Uint8Array): Promise<void>;
  /** An append failed: the update is in memory (and relayed) but not durable. Called once per failure. */
  onStoreFailure(docName: string, error: unknown): void;
  /** A connection's acknowledgements stopped for good (an append it waited for failed). */
  onAckFailure(connection: Connection): void;
}

interface AckQueue {
  readonly send: (message: Uint8Array) => void;
  plan: AckPlan | null;
  tail: Promise<void>;
  waiting: number;
  failed: boolean;
}

const SYNC_STATUS = 8;

/** Reads the message type, and for SyncStatus whether it says "applied". Skips the address without decoding it. */
function syncStatusOf(message: Uint8Array): boolean | null {
  try {
    const d = decoding.createDecoder(message);
    const addressLength = decoding.readVarUint(d);
    d.pos += addressLength;
    if (decoding.readVarUint(d) !== SYNC_STATUS) return null;
    return decoding.readVarInt(d) === 1;
  } catch {
    return null;
  }
}

/** Holds each writing connection's acknowledgements until what they acknowledge is durable (module comment). */
export class DurableAcks {
  readonly #options: DurableAcksOptions;
  readonly #states = new WeakMap<Document, DurableState>();
  readonly #queues = new WeakMap<Connection, AckQueue>();
  readonly #inflight = new Set<Promise<void>>();

  constructor(options: DurableAcksOptions) {
    this.#options = options;
  }

  /** Sets what is durable for a document being loaded: the merged rows it is loaded from (null: none). */
  loaded(document: Document, stored: Uint8Array | null): void {
    const state = new DurableState();
    if (stored) state.record(rangesOf(stored));
    this.#states.set(document, state);
  }

  /** The durable state of a document (an empty one when unknown: nothing is assumed durable). */
  stateOf(document: Document): DurableState {
    let state = this.#states.get(document);
    if (!state) {
      state = new DurableState();
      this.#states.set(document, state);
    }
    return state;
  }

  /**
   * Declares what the next `SyncStatus` sent on `connection` acknowledges. Called from `beforeSync` once the
   * update passed validation; the append itself starts when Hocuspocus sends the acknowledgement, i.e. after
   * every hook accepted the update and it was applied (a refused update is never stored).
   */
  expect(connection: Connection, plan: AckPlan): void {
    this.#queueOf(connection).plan = plan;
  }

  /** Resolves when every append started so far has settled (for shutdown). */
  async settled(): Promise<void> {
    while (this.#inflight.size > 0) await Promise.allSettled([...this.#inflight]);
  }

  #queueOf(connection: Connection): AckQueue {
    let q = this.#queues.get(connection);
    if (q) return q;
    const original = connection.send.bind(connection);
    const queue: AckQueue = { send: original, plan: null, tail: Promise.resolve(), waiting: 0, failed: false };
    q = queue;
    this.#queues.set(connection, queue);
    connection.send = (message: Uint8Array) => this.#send(connection, queue, message);
    return queue;
  }

  #send(connection: Connection, q: AckQueue, message: Uint8Array): void {
    const status = syncStatusOf(message);
    // Everything but acknowledgements (relays, sync steps, awareness, stateless, close) goes out at once.
    if (status === null) return q.send(message);
    const plan = q.plan;
    q.plan = null;
    const gate = status && plan ? this.#gate(connection.document, plan) : null;
    if (q.failed) return; // an earlier acknowledgement was never sent: later ones would overstate
    if (gate === null && q.waiting === 0) return q.send(message);
    q.waiting++;
    const previous = q.tail;
    q.tail = (async () => {
      try {
        await previous;
        await gate;
      } catch (error) {
        if (!q.failed) {
          q.failed = true;
          this.#options.onAckFailure(connection);
        }
        throw error;
      } finally {
        q.waiting--;
      }
      // A connection closed meanwhile is a finished session: the provider resets its count on the next one.
      if (connection.document.hasConnection(connection)) q.send(message);
    })();
    q.tail.catch(() => undefined);
  }

  /** Null when the acknowledgement may go out now; else a promise that resolves once it may. */
  #gate(document: Document, plan: AckPlan): Promise<void> | null {
    const state = this.stateOf(document);
    const readOnly = plan.kind === 'step2' && plan.readOnly;
    const own = !readOnly && !state.covers(plan.ranges) ? this.#append(document, state, plan.update, plan.ranges, plan.onStored) : null;
    if (plan.kind === 'update') return own;
    const sv = Y.decodeStateVector(Y.encodeStateVector(document));
    if (own === null && state.coversStateVector(sv) && (!readOnly || state.covers(plan.ranges))) return null;
    return this.#makeMemoryDurable(document, state, own, plan);
  }

  /** SyncStep2 rule: what the server advertised (its whole memory, a superset) must be durable. */
  async #makeMemoryDurable(document: Document, state: DurableState, own: Promise<void> | null, plan: AckPlan): Promise<void> {
    await own;
    // Appends in flight (of any connection) usually cover it: let them commit first.
    await Promise.allSettled([...state.pending]);
    if (document.isDestroyed) throw new Error('document unloaded before its memory was durable');
    const sv = Y.decodeStateVector(Y.encodeStateVector(document));
    if (state.coversStateVector(sv) && (plan.kind !== 'step2' || !plan.readOnly || state.covers(plan.ranges))) return;
    // Relayed but not committed here (Redis-origin, or a failed append): append it from memory.
    const diff = Y.encodeStateAsUpdate(document, Y.encodeStateVector(state.prefixVector(sv)));
    await this.#append(document, state, diff, rangesOf(diff));
  }

  #append(document: Document, state: DurableState, update: Uint8Array, ranges: UpdateRanges, onStored?: () => void): Promise<void> {
    const p = this.#options.append(document.name, update).then(
      () => {
        state.record(ranges);
        onStored?.();
      },
      (error: unknown) => {
        this.#options.onStoreFailure(document.name, error);
        throw error;
      },
    );
    state.pending.add(p);
    this.#inflight.add(p);
    const done = () => {
      state.pending.delete(p);
      this.#inflight.delete(p);
    };
    p.then(done, done);
    return p;
  }
}

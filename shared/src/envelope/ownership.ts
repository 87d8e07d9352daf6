/**
 * Yjs-level checks of inner updates before they are applied.
 *
 * - Which user owns which inner Yjs clientID ([INNER-2]). Yjs does not authenticate clientIDs, so the envelope
 *   layer does: the first verified frame that writes structs under a clientID claims it for its signer, and any
 *   later frame by a different user touching that clientID is rejected.
 * - Whether an update would replace an entry of `messages` ([INNER-9]): Yjs resolves two items under one map
 *   key by deleting the loser locally, without any delete set, so ownership alone does not stop a member from
 *   hiding someone else's message behind an entry of their own.
 */
import * as Y from 'yjs';
import { mayWriteAsDevice } from './device-id.ts';

/** A decoded delete set (`Y.decodeUpdate(u).ds`; Yjs does not export the type by name). */
type DeleteSet = ReturnType<typeof Y.decodeUpdate>['ds'];
import type { SnapshotPayload } from './frame.ts';

/** Why an inner update was refused. */
export type InnerUpdateError = 'invalid_update' | 'foreign_client';

/**
 * Result of checking an inner update: on success, the clientIDs it would newly claim, with their owner, and the
 * decoded structs and delete set.
 */
export type OwnershipCheck =
  | { ok: true; claims: Map<number, string>; structs: readonly unknown[]; ds: DeleteSet }
  | { ok: false; code: InnerUpdateError };

/** Decodes an update without throwing; undefined when Yjs cannot decode it. */
export function tryDecodeUpdate(update: Uint8Array): ReturnType<typeof Y.decodeUpdate> | undefined {
  try {
    return Y.decodeUpdate(update);
  } catch {
    return undefined;
  }
}

/** The mutable clientID -> userId table of one binding. */
export class ClientOwnership {
  private readonly owners = new Map<number, string>();

  /** Owner of `client`, if any frame has claimed it. */
  ownerOf(client: number): string | undefined {
    return this.owners.get(client);
  }

  /** Records claims returned by a successful check. Never overrides an existing owner. */
  commit(claims: Map<number, string>): void {
    for (const [client, userId] of claims) if (!this.owners.has(client)) this.owners.set(client, userId);
  }

  /** Owners of the given clientIDs (for a snapshot's owner table). */
  ownersOf(clients: Iterable<number>): Map<number, string> {
    const out = new Map<number, string>();
    for (const c of clients) {
      const owner = this.owners.get(c);
      if (owner !== undefined) out.set(c, owner);
    }
    return out;
  }

  /**
   * Checks an `update` frame's inner update ([INNER-2]): it must decode; every struct must be under a
   * clientID that is unclaimed or owned by `signer`; the delete set may only name clientIDs owned by
   * `signer` (including ones this update claims). Does not mutate; call `commit` after applying.
   */
  checkUpdate(update: Uint8Array, signer: string): OwnershipCheck {
    const decoded = tryDecodeUpdate(update);
    if (!decoded) return { ok: false, code: 'invalid_update' };
    const claims = new Map<number, string>();
    for (const s of decoded.structs) {
      const client = s.id.client;
      const owner = this.owners.get(client);
      if (owner !== undefined && owner !== signer) return { ok: false, code: 'foreign_client' };
      if (owner === undefined) claims.set(client, signer);
    }
    for (const client of decoded.ds.clients.keys()) {
      const owner = this.owners.get(client) ?? claims.get(client);
      if (owner !== signer) return { ok: false, code: 'foreign_client' };
    }
    return { ok: true, claims, structs: decoded.structs, ds: decoded.ds };
  }

  /**
   * Checks a snapshot ([COMPACT-4]): a snapshot legitimately carries every member's structs, so each clientID
   * must either match the owner we already know or be claimed in the snapshot's signed owner table (unlisted
   * new clientIDs are attributed to the compactor). A snapshot may never re-assign a known clientID.
   */
  checkSnapshot(payload: SnapshotPayload, signer: string): OwnershipCheck {
    const decoded = tryDecodeUpdate(payload.update);
    if (!decoded) return { ok: false, code: 'invalid_update' };
    const claims = new Map<number, string>();
    const clients = new Set<number>();
    for (const s of decoded.structs) clients.add(s.id.client);
    for (const [client, claimed] of payload.owners) {
      const owner = this.owners.get(client);
      if (owner !== undefined && owner !== claimed) return { ok: false, code: 'foreign_client' };
    }
    for (const client of clients) {
      if (this.owners.has(client)) continue;
      claims.set(client, payload.owners.get(client) ?? signer);
    }
    return { ok: true, claims, structs: decoded.structs, ds: decoded.ds };
  }
}

/**
 * The root type a decoded (not yet integrated) item names as its parent. `Y.decodeUpdate` gives the root's name
 * as a string where Yjs's typings only know types and ids.
 */
export function decodedRootName(item: Y.Item): string | undefined {
  const parent: unknown = item.parent;
  return typeof parent === 'string' ? parent : undefined;
}

/** Decoded structs of one update, per client in clock order (the order `Y.decodeUpdate` gives them). */
export type StructsByClient = Map<number, Array<Y.Item | Y.GC>>;

/** Groups decoded structs by client, keeping those `keep` accepts. */
export function structsByClient(structs: readonly unknown[], keep: (s: Y.Item | Y.GC) => boolean = () => true): StructsByClient {
  const out: StructsByClient = new Map();
  for (const s of structs) {
    if (!(s instanceof Y.Item) && !(s instanceof Y.GC)) continue;
    if (!keep(s)) continue;
    const list = out.get(s.id.client);
    if (list) list.push(s);
    else out.set(s.id.client, [s]);
  }
  return out;
}

/** The struct of `byClient` that holds `clock` of `client` (binary search), if any. */
export function structAt(byClient: StructsByClient, client: number, clock: number): Y.Item | Y.GC | undefined {
  const list = byClient.get(client);
  if (!list) return undefined;
  let lo = 0;
  let hi = list.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const s = list[mid]!;
    if (clock < s.id.clock) hi = mid - 1;
    else if (clock >= s.id.clock + s.length) lo = mid + 1;
    else return s;
  }
  return undefined;
}

/** Where a new item of an update lands: in `messages`, elsewhere, or not known yet (its neighbour is missing). */
type Place = 'messages' | 'other' | 'unknown';

/**
 * [INNER-9] Whether applying `structs` (a decoded inner update) to `inner` would put a new item next to an
 * entry of the root map `messages`: a new item for a key that already has one (Yjs would delete whichever
 * loses, whoever wrote it, and no delete set says so), or a new item placed relative to an entry (an
 * overwrite in Yjs terms). Honest writers never do either: message keys are unique (`deviceId:counter`) and
 * `putMessage` refuses a key that exists. Items the doc already holds are skipped (applying them again changes
 * nothing). An item whose neighbour is neither in the doc nor in this update cannot be placed yet and is not
 * judged (it waits in Yjs until the neighbour arrives); see the threat model.
 */
export function overwritesMessages(structs: readonly unknown[], inner: Y.Doc): boolean {
  const messages = inner.getMap<unknown>('messages');
  const store = inner.store;
  // New items of this update per client, by clock (items the doc holds already are skipped by Yjs).
  const fresh = structsByClient(structs, (s) => s instanceof Y.Item && Y.getState(store, s.id.client) <= s.id.clock);
  const inUpdate = (id: Y.ID): Y.Item | undefined => {
    const s = structAt(fresh, id.client, id.clock);
    return s instanceof Y.Item ? s : undefined;
  };
  const placeOf = (item: Y.Item, depth: number): Place => {
    if (item.parent !== null) return decodedRootName(item) === 'messages' ? 'messages' : 'other';
    const next = item.origin ?? item.rightOrigin;
    return next === null || depth > 64 ? 'unknown' : placeOfId(next, depth + 1);
  };
  const placeOfId = (id: Y.ID, depth: number): Place => {
    if (Y.getState(store, id.client) > id.clock) {
      const it = Y.getItem(store, id);
      return it instanceof Y.Item && it.parent === messages ? 'messages' : 'other';
    }
    const it = inUpdate(id);
    return it ? placeOf(it, depth) : 'unknown';
  };
  for (const list of fresh.values())
    for (const item of list) {
      if (!(item instanceof Y.Item)) continue;
      if (decodedRootName(item) === 'messages') {
        if (item.parentSub === null || messages._map.has(item.parentSub)) return true;
      } else if (item.parent === null && placeOf(item, 0) === 'messages') return true;
    }
  return false;
}

/**
 * [INNER-11] Whether an update frame by `signer` (its decoded `structs`) creates a `messages` key under a device
 * id tagged for another user (see device-id.ts). A new key is an item with `messages` as its explicit parent and
 * a key (Yjs writes both only for an item without origins; one placed by its origins next to an entry is an
 * overwrite, [INNER-9]). Keys under legacy untagged ids, or that are no msgIds at all (never rendered), pass.
 */
export function writesOthersKeys(structs: readonly unknown[], signer: string): boolean {
  for (const s of structs) {
    if (!(s instanceof Y.Item) || s.parentSub === null || decodedRootName(s) !== 'messages') continue;
    const colon = s.parentSub.indexOf(':');
    if (!mayWriteAsDevice(colon < 0 ? s.parentSub : s.parentSub.slice(0, colon), signer)) return true;
  }
  return false;
}

/**
 * [INNER-2] for snapshots ([COMPACT-4]): whether the delete set of a snapshot's update would delete items `inner`
 * holds, and has not deleted, under a clientID `ownerOf` attributes to someone other than `signer`. A snapshot
 * carries its compactor's whole state, delete set included, so without this a member could delete anyone's
 * message for every device by compacting (an `update` frame's delete set is checked whole by `checkUpdate`).
 * Honest snapshots pass: the model is append-only, so the only deletions in an honest doc are owners deleting
 * their own items, which the reader either holds deleted already or does not hold yet.
 */
export function deletesOthersItems(ds: DeleteSet, inner: Y.Doc, ownerOf: (client: number) => string | undefined, signer: string): boolean {
  const store = inner.store;
  for (const [client, ranges] of ds.clients) {
    if (ownerOf(client) === signer) continue;
    const structs = store.clients.get(client);
    if (!structs) continue;
    const held = Y.getState(store, client);
    for (const { clock, len } of ranges) {
      const end = Math.min(clock + len, held);
      if (clock >= end) continue;
      for (let i = Y.findIndexSS(structs, clock); i < structs.length && structs[i]!.id.clock < end; i++) if (!structs[i]!.deleted) return true;
    }
  }
  return false;
}

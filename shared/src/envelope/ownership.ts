/**
 * Which user owns which inner Yjs clientID ([INNER-2]). Yjs does not authenticate clientIDs, so the envelope
 * layer does: the first verified frame that writes structs under a clientID claims it for its signer, and any
 * later frame by a different user touching that clientID is rejected.
 */
import * as Y from 'yjs';
import type { SnapshotPayload } from './frame.ts';

/** Why an inner update was refused. */
export type InnerUpdateError = 'invalid_update' | 'foreign_client';

/** Result of checking an inner update: on success, the clientIDs it would newly claim, with their owner, and the decoded structs. */
export type OwnershipCheck = { ok: true; claims: Map<number, string>; structs: readonly unknown[] } | { ok: false; code: InnerUpdateError };

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
    return { ok: true, claims, structs: decoded.structs };
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
    return { ok: true, claims, structs: decoded.structs };
  }
}

/** Profile key wraps (`profile_key_wraps`): sealed by owners for their contacts; opaque to the server. */
import { z } from 'zod';
import type { Queryable } from './database.ts';

/** The SQL this module runs, exported so the EXPLAIN test checks the real statements. */
export const PROFILE_SQL = {
  insert: `INSERT INTO profile_key_wraps (owner_id, recipient_id, version, wrap, sig) VALUES ($1, $2, $3, $4, $5)
           ON CONFLICT (owner_id, recipient_id, version) DO NOTHING`,
  latestForRecipient: `SELECT DISTINCT ON (owner_id) owner_id, version, wrap, sig FROM profile_key_wraps
                       WHERE recipient_id = $1 ORDER BY owner_id, version DESC`,
} as const;

const Row = z.object({ owner_id: z.uuid(), version: z.number(), wrap: z.instanceof(Buffer), sig: z.instanceof(Buffer) }).strict();

/** Stores wraps idempotently (first wrap per owner, recipient and version wins). */
export async function insertProfileWraps(db: Queryable, ownerId: string, version: number, wraps: ReadonlyArray<{ recipientId: string; wrap: Buffer; sig: Buffer }>): Promise<void> {
  for (const w of wraps) await db.query(PROFILE_SQL.insert, [ownerId, w.recipientId, version, w.wrap, w.sig]);
}

/** The newest wrap from each owner for `recipientId`. */
export async function profileWrapsFor(db: Queryable, recipientId: string): Promise<z.infer<typeof Row>[]> {
  return (await db.query(PROFILE_SQL.latestForRecipient, [recipientId])).rows.map((r) => Row.parse(r));
}

/**
 * How many messages this device wrote that the server has not acknowledged yet (read from the sealed store of
 * the signed-in account): a sign-out that deletes local data would lose them.
 */
import { deriveLocalKey, SealedStore, unsentMessageCount } from '@parley/shared/client';
import { IdbStorage } from '../chat/idb-storage.ts';
import type { SignedIn } from '../session.ts';

/** Unsent messages of `account` on this device; 0 when storage cannot be read. */
export async function unsentMessages(account: SignedIn): Promise<number> {
  const { userId } = account.session;
  const store = new SealedStore(new IdbStorage(), deriveLocalKey(account.keys.identity.secretKey, userId), userId);
  return unsentMessageCount(store).catch(() => 0);
}

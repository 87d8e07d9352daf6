/**
 * Client-side helpers: registered Parley users (real AccountClient registration, argon2id at the protocol
 * minimum m=19 MiB, t=2 so setup stays short), started ParleyClients with in-memory device storage, and
 * plain Hocuspocus providers for the baseline.
 */
import { HocuspocusProvider, HocuspocusProviderWebsocket } from '@hocuspocus/provider';
import * as Y from 'yjs';
import { AccountClient, MemoryStorage, ParleyClient, SyncConnection } from '@parley/shared/client';
import { pool } from './stats.ts';

export const KDF = { alg: 'argon2id', v: 19, m: 19456, t: 2, p: 1 } as const;
export const PASSWORD = 'violet tangent marmalade quartz';

export interface BenchUser {
  username: string;
  userId: string;
  account: AccountClient;
}

let runTag = Math.random().toString(36).slice(2, 7);

/** Registers `n` users (4 at a time: argon2id runs in JS on the client and natively on the server). */
export async function registerUsers(baseUrl: string, n: number, prefix: string, log: (s: string) => void): Promise<BenchUser[]> {
  const t0 = performance.now();
  const users = await pool(
    Array.from({ length: n }, (_, i) => i),
    4,
    async (i) => {
      const username = `${prefix}${runTag}x${i}`;
      const account = new AccountClient({ baseUrl });
      const reg = await account.register({ username, password: PASSWORD, kdf: KDF });
      return { username, userId: reg.session.userId, account };
    },
  );
  log(`registered ${n} users in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  return users;
}

/** A ParleyClient for `user` on a new device (fresh MemoryStorage), started. */
export async function startClient(baseUrl: string, user: BenchUser, storage = new MemoryStorage()): Promise<ParleyClient> {
  const client = new ParleyClient({ baseUrl, storage, account: user.account });
  await client.start();
  return client;
}

/** A bare authenticated client-core socket for `user` (SyncConnection), without the rest of the client. */
export function socketFor(baseUrl: string, user: BenchUser): SyncConnection {
  return new SyncConnection(baseUrl, () => user.account.accessToken());
}

/** One plain Hocuspocus provider on its own socket (baseline). */
export function baselineProvider(wsUrl: string, name: string, doc = new Y.Doc(), socket?: HocuspocusProviderWebsocket) {
  const ws = socket ?? new HocuspocusProviderWebsocket({ url: wsUrl, delay: 250, minDelay: 100, maxDelay: 10_000 });
  const provider = new HocuspocusProvider({ websocketProvider: ws, name, document: doc, token: 'bench' });
  provider.attach();
  const synced = new Promise<void>((resolve) => {
    if (provider.synced) resolve();
    provider.on('synced', () => resolve());
  });
  return {
    doc,
    provider,
    socket: ws,
    synced,
    destroy() {
      provider.destroy();
      if (!socket) ws.destroy();
    },
  };
}

export type BaselineLink = ReturnType<typeof baselineProvider>;

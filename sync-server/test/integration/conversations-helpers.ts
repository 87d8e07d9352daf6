/**
 * Helpers for the conversation integration tests: real accounts (KDF minimum), real ParleyClients with
 * in-memory device storage, and polling waits (the system under test is asynchronous end to end).
 */
import { KDF_MIN } from '@parley/shared/protocol';
import { AccountClient, MemoryStorage, ParleyClient, type Conversation } from '@parley/shared/client';
import { uniqueName } from '../helpers/accounts.ts';

export const KDF = { alg: 'argon2id', v: 19, ...KDF_MIN } as const;
export const PASSWORD = 'violet tangent marmalade quartz';

/** A registered user with one started device. */
export interface TestUser {
  username: string;
  userId: string;
  client: ParleyClient;
  storage: MemoryStorage;
}

/** Registers a user and starts a client for them. */
export async function newUser(baseUrl: string, prefix: string): Promise<TestUser> {
  const username = uniqueName(prefix);
  const storage = new MemoryStorage();
  const client = new ParleyClient({ baseUrl, storage });
  const reg = await client.account.register({ username, password: PASSWORD, kdf: KDF });
  await client.start();
  return { username, userId: reg.session.userId, client, storage };
}

/** Signs the same user in on a new device (fresh storage unless given) and starts it. */
export async function newDevice(baseUrl: string, username: string, storage = new MemoryStorage()): Promise<ParleyClient> {
  const account = new AccountClient({ baseUrl });
  await account.login({ username, password: PASSWORD });
  const client = new ParleyClient({ baseUrl, storage, account });
  await client.start();
  return client;
}

/** Polls `check` until it returns truthy (or throws after `ms`). */
export async function until<T>(check: () => T | Promise<T>, ms = 15_000, what = 'condition'): Promise<NonNullable<T>> {
  const start = Date.now();
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v) return v as NonNullable<T>;
    } catch (e) {
      last = e;
    }
    if (Date.now() - start > ms) throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** Texts of the visible messages. */
export function texts(c: Conversation): string[] {
  return c.messages.map((m) => m.text);
}

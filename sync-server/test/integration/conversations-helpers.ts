/**
 * Helpers for the conversation integration tests: real accounts (KDF minimum), real ParleyClients with
 * in-memory device storage, and polling waits (the system under test is asynchronous end to end).
 */
import { afterAll, beforeAll } from 'vitest';
import { KDF_MIN } from '@parley/shared/protocol';
import { AccountClient, MemoryStorage, ParleyClient, type Conversation } from '@parley/shared/client';
import { uniqueName } from '../helpers/accounts.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

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

/** A real server (PostgreSQL) and one started user per prefix, for the tests of one `describe` block. */
export interface ChatSetup {
  readonly srv: TestServer;
  readonly users: readonly TestUser[];
}

/** Registers beforeAll/afterAll that start the server and the users, and stop them all afterwards. */
export function chatSetup(...prefixes: string[]): ChatSetup {
  let srv: TestServer | undefined;
  let users: TestUser[] = [];
  beforeAll(async () => {
    srv = await startTestServer({ backend: 'postgres' });
    users = await Promise.all(prefixes.map((p) => newUser(srv!.url, p)));
  });
  afterAll(async () => {
    await Promise.all(users.map((u) => u.client.stop()));
    await srv?.close();
  });
  return {
    get srv() {
      if (!srv) throw new Error('chatSetup: used outside a test');
      return srv;
    },
    get users() {
      return users;
    },
  };
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

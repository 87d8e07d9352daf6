/**
 * The send path of the client core against the real server on port 0 (PostgreSQL): per-entry outbox records
 * that survive a crash of the client (FileStorage and MemoryStorage), migration of the old single-record
 * outbox, a burst delivered complete and in order as far fewer frames than messages, and message counters
 * that never repeat across a crash. Real accounts, sockets, crypto and storage; nothing mocked. A "crash" is
 * a storage that stops persisting at one instant (what a killed process leaves on disk).
 */
import * as fs from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { FLUSH_BURST, FLUSH_PER_SECOND, FileStorage, MemoryStorage, ParleyClient, SealedStore, deriveLocalKey, type ClientStorage } from '@parley/shared/client';
import { BINDING_ORIGIN, signMessage } from '@parley/shared/envelope';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { KDF, PASSWORD, newUser, texts, until, type TestUser } from './conversations-helpers.ts';
import { uniqueName } from '../helpers/accounts.ts';
import { CrashableStorage } from '../../../shared/test/helpers/crashable-storage.ts';


const counterOf = (id: string) => Number(id.slice(id.indexOf(':') + 1));

/** The sealed store a client writes, opened over `storage` (to look at what is on disk). */
function storeOf(client: ParleyClient, storage: ClientStorage): SealedStore {
  const ctx = client.context;
  return new SealedStore(storage, deriveLocalKey(ctx.keys.identity.secretKey, ctx.userId), ctx.userId);
}

/** Frames this client seals into `segmentId` from now on. */
function countFrames(client: ParleyClient, segmentId: string): () => number {
  let frames = 0;
  client.sync.link(segmentId)!.provider.document.getArray('log').observe((ev: Y.YArrayEvent<unknown>, tr: Y.Transaction) => {
    if (tr.origin !== BINDING_ORIGIN) return;
    for (const d of ev.changes.delta) if (Array.isArray(d.insert)) frames += d.insert.length;
  });
  return () => frames;
}

describe('send path: outbox, batching, counters (postgres)', () => {
  let srv: TestServer;
  let bob: TestUser;
  const dirs: string[] = [];
  beforeAll(async () => {
    srv = await startTestServer({ backend: 'postgres' });
    bob = await newUser(srv.url, 'bob');
  });
  afterAll(async () => {
    await bob?.client.stop();
    await srv?.close();
    for (const d of dirs) await fs.rm(d, { recursive: true, force: true });
  });

  async function userOn(storage: ClientStorage): Promise<{ username: string; client: ParleyClient }> {
    const username = uniqueName('alice');
    const client = new ParleyClient({ baseUrl: srv.url, storage });
    await client.account.register({ username, password: PASSWORD, kdf: KDF });
    await client.start();
    return { username, client };
  }

  const backends: Array<[string, () => Promise<ClientStorage>]> = [
    ['MemoryStorage', async () => new MemoryStorage()],
    [
      'FileStorage',
      async () => {
        const dir = await fs.mkdtemp(path.join(tmpdir(), 'parley-outbox-'));
        dirs.push(dir);
        return new FileStorage(fs, dir);
      },
    ],
  ];

  for (const [name, makeDisk] of backends) {
    it(`${name}: messages written offline survive a crash in the per-entry outbox, are delivered after restart, and counters are not reused`, async () => {
      const disk = await makeDisk();
      const crashable = new CrashableStorage(disk);
      const alice = await userOn(crashable);
      const a = await alice.client.createDirect(bob.username);
      const before = await a.send('before');
      expect(await a.whenDelivered()).toBe(true);

      alice.client.goOffline();
      const offline: string[] = [];
      for (let i = 1; i <= 3; i++) offline.push(await a.send(`offline ${i}`));
      // The process dies right after send() resolved: nothing later reaches the disk.
      crashable.crash();
      const onDisk = await storeOf(alice.client, disk).list(`outbox/${a.id}/`);
      expect(onDisk).toContain(`outbox/${a.id}/${offline[2]}`); // send() resolves only once its record is durable
      expect(await storeOf(alice.client, disk).get(`outbox/${a.id}`)).toBeUndefined(); // no single-record outbox any more
      await alice.client.stop();

      const restarted = new ParleyClient({ baseUrl: srv.url, storage: disk, account: alice.client.account });
      await restarted.start({ offline: true });
      try {
        const c = await restarted.open(a.id);
        expect(texts(c)).toEqual(['before', 'offline 1', 'offline 2', 'offline 3']);
        expect(c.messages.find((m) => m.id === offline[2])?.status).toBe('pending');
        const after = await c.send('after restart');
        // Message counters are reserved in blocks: a crash skips numbers, never reuses one.
        const used = [before, ...offline].map(counterOf);
        expect(counterOf(after)).toBeGreaterThan(Math.max(...used));
        expect(new Set([before, ...offline, after]).size).toBe(5);

        await restarted.goOnline();
        expect(await c.whenDelivered(15_000)).toBe(true);
        expect(c.messages.every((m) => m.status === 'sent')).toBe(true);
        expect(await storeOf(restarted, disk).list(`outbox/${a.id}/`)).toEqual([]);
        const b = await bob.client.open(a.id);
        await until(() => texts(b).length === 5, 15_000, 'bob has all five');
        expect(texts(b)).toEqual(['before', 'offline 1', 'offline 2', 'offline 3', 'after restart']);
        expect(b.invalidFrames()).toEqual([]);
      } finally {
        await restarted.stop();
      }
    });
  }

  it('messages sealed while offline still show as sending after a restart, until the server holds them', async () => {
    const disk = new MemoryStorage();
    const alice = await userOn(disk);
    const a = await alice.client.createDirect(bob.username);
    expect(await a.whenDelivered()).toBe(true);
    alice.client.goOffline();
    const offline: string[] = [];
    for (let i = 1; i <= 3; i++) offline.push(await a.send(`sealed offline ${i}`));
    // Give the flush time to seal them into the open segment (it runs one macrotask after a send).
    await new Promise((r) => setTimeout(r, 1500));
    expect(a.messages.filter((m) => m.status === 'pending').map((m) => m.id)).toEqual(offline);
    await alice.client.stop();

    const restarted = new ParleyClient({ baseUrl: srv.url, storage: disk, account: alice.client.account });
    await restarted.start({ offline: true });
    try {
      const c = await restarted.open(a.id);
      expect(texts(c)).toEqual(['sealed offline 1', 'sealed offline 2', 'sealed offline 3']);
      // Before: the records went at sealing time, so a reload while offline showed these as sent.
      expect(c.messages.map((m) => m.status)).toEqual(['pending', 'pending', 'pending']);
      await restarted.goOnline();
      expect(await c.whenDelivered(15_000)).toBe(true);
      expect(c.messages.every((m) => m.status === 'sent')).toBe(true);
      await until(async () => (await storeOf(restarted, disk).list(`outbox/${a.id}/`)).length === 0, 10_000, 'the records go once acknowledged');
      const b = await bob.client.open(a.id);
      await until(() => texts(b).length === 3, 15_000, 'bob has all three');
      expect(b.invalidFrames()).toEqual([]);
    } finally {
      await restarted.stop();
    }
  });

  it('an outbox in the old single-record format is migrated to per-entry records and delivered', async () => {
    const disk = new MemoryStorage();
    const alice = await userOn(disk);
    const a = await alice.client.createDirect(bob.username);
    await a.send('sent normally');
    expect(await a.whenDelivered()).toBe(true);
    const segment = a.info.segments.find((s) => s.state === 'open')!.id;
    const ctx = alice.client.context;
    const author = { userId: ctx.userId, deviceId: ctx.deviceId, signingKey: ctx.keys.identity.secretKey };
    const legacy = [];
    for (const text of ['legacy one', 'legacy two']) {
      const counter = await ctx.messageCounters.next(`msg/${a.id}`, 1);
      legacy.push({ kind: 'msg', entry: signMessage(a.id, author, { counter, ts: Date.now() + legacy.length, text }), segment });
    }
    await alice.client.stop();
    const store = storeOf(alice.client, disk);
    await store.setJson(`outbox/${a.id}`, legacy); // what the previous version left after a crash

    const restarted = new ParleyClient({ baseUrl: srv.url, storage: disk, account: alice.client.account });
    await restarted.start();
    try {
      const c = await restarted.open(a.id);
      expect(await store.get(`outbox/${a.id}`)).toBeUndefined();
      expect(texts(c)).toEqual(['sent normally', 'legacy one', 'legacy two']);
      expect(await c.whenDelivered(15_000)).toBe(true);
      expect(await store.list(`outbox/${a.id}/`)).toEqual([]);
      const b = await bob.client.open(a.id);
      await until(() => texts(b).includes('legacy two'), 15_000, 'bob has the migrated messages');
      expect(texts(b)).toEqual(['sent normally', 'legacy one', 'legacy two']);
    } finally {
      await restarted.stop();
    }
  });

  it('a burst of 300 sends is delivered complete and in order, as far fewer frames than messages; a sustained sender stays inside the message budget', async () => {
    const alice = await userOn(new MemoryStorage());
    try {
      const a = await alice.client.createDirect(bob.username);
      const b = await bob.client.open(a.id);
      const frames = countFrames(alice.client, a.info.segments.find((s) => s.state === 'open')!.id);

      // A burst: 300 sends fired without awaiting each other (a bot, an import, a paste of many lines).
      const burst = Array.from({ length: 300 }, (_, i) => `burst ${i}`);
      const ids = await Promise.all(burst.map((t) => a.send(t)));
      expect(new Set(ids).size).toBe(300);
      expect(await a.whenDelivered(30_000)).toBe(true);
      await until(() => texts(b).length === 300, 30_000, 'bob has all 300');
      expect(texts(b)).toEqual(burst);
      expect(texts(a)).toEqual(burst);
      const burstFrames = frames();
      expect(burstFrames).toBeGreaterThan(0);
      expect(burstFrames).toBeLessThanOrEqual(30);

      // Sustained: 300 sends, each awaited. Every idle send goes at once; past the client's burst budget the
      // flushes are spaced at its refill rate (FLUSH_BURST, FLUSH_PER_SECOND), so messages share frames.
      // More sends than the burst plus a second of refill, so a sender faster than the refill rate must share frames.
      const steady = Array.from({ length: FLUSH_BURST + FLUSH_PER_SECOND + 250 }, (_, i) => `steady ${i}`);
      const t0 = Date.now();
      for (const t of steady) await a.send(t);
      expect(await a.whenDelivered(30_000)).toBe(true);
      const seconds = (Date.now() - t0) / 1000;
      await until(() => texts(b).length === burst.length + steady.length, 30_000, 'bob has all of them');
      expect(texts(b)).toEqual([...burst, ...steady]);
      const steadyFrames = frames() - burstFrames;
      expect(steadyFrames).toBeLessThanOrEqual(FLUSH_BURST + Math.ceil(FLUSH_PER_SECOND * seconds) + 5);
      expect(srv.logs.some((l) => l.includes('sync.rate_limited'))).toBe(false);
      expect(b.invalidFrames()).toEqual([]);
    } finally {
      await alice.client.stop();
    }
  });
});

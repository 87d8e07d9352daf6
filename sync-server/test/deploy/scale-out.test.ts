/**
 * Scale-out acceptance: three real instances (shared PostgreSQL, Redis linking them) behind Debian's nginx,
 * driven by real client-core clients.
 * - Users on different instances chat in real time and see each other's presence.
 * - Removing a member closes their sockets on every instance (the removed user sits on another instance).
 * - SIGKILL of an instance while messages flow loses no acknowledged message; clients continue through
 *   nginx on the other instances.
 * - SIGKILL of the instance serving a file download: the download resumes through nginx on another
 *   instance ([FILE-11]) and the file arrives whole.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sha256 } from '@noble/hashes/sha2.js';
import { downloadFile, uploadFile } from '../../../shared/src/client/files.ts';
import { startTopology, type Topology } from '../../../scripts/topology.ts';
import { newUser, texts, until, type TestUser } from '../integration/conversations-helpers.ts';
import { HAVE_NGINX } from './helpers.ts';

async function connections(url: string): Promise<number> {
  try {
    const text = await (await fetch(`${url}/metrics`)).text();
    return Number(/^parley_sync_connections (\d+)$/m.exec(text)?.[1] ?? 0);
  } catch {
    return 0;
  }
}

/** Sealed blob bytes an instance has sent (its /metrics); NaN when it does not answer. */
async function downloadedBytes(url: string): Promise<number> {
  try {
    const text = await (await fetch(`${url}/metrics`)).text();
    return Number(/^parley_blob_downloaded_bytes_total (\d+)$/m.exec(text)?.[1] ?? 0);
  } catch {
    return Number.NaN;
  }
}

describe.skipIf(!HAVE_NGINX)('scale-out: three instances behind nginx, linked by Redis', () => {
  let topo: Topology;
  const users: TestUser[] = [];
  beforeAll(async () => {
    topo = await startTopology({ logLevel: 'warn' });
  }, 120_000);
  afterAll(async () => {
    await Promise.all(users.map((u) => u.client.stop().catch(() => undefined)));
    await topo?.stop();
  }, 60_000);

  it('users on different instances chat in real time and see presence; removal closes sockets everywhere', async () => {
    const [i0, i1, i2] = topo.instances;
    const [alice, bob, carol] = await Promise.all([newUser(i0!.url, 'alice'), newUser(i1!.url, 'bob'), newUser(i2!.url, 'carol')]);
    users.push(alice, bob, carol);

    const group = await alice.client.createGroup('scale-out', [bob.username, carol.username]);
    const bobView = await bob.client.open(group.id);
    const carolView = await carol.client.open(group.id);
    await group.send('across instances');
    await until(() => texts(bobView).includes('across instances'), 20_000, 'bob (instance 2) to see alice (instance 1)');
    await until(() => texts(carolView).includes('across instances'), 20_000, 'carol (instance 3) to see alice');
    await bobView.send('and back');
    await until(() => texts(group).includes('and back'), 20_000, 'alice to see bob');

    // Presence crosses instances: alice's socket comes and goes on instance 1, bob on instance 2 hears it.
    // (They became contacts after both were online, so start from a reconnect.)
    alice.client.goOffline();
    await new Promise((r) => setTimeout(r, 300));
    await alice.client.goOnline();
    await until(() => bob.client.isOnline(alice.userId), 20_000, 'bob to see alice online');
    alice.client.goOffline();
    await until(() => !bob.client.isOnline(alice.userId), 20_000, 'bob to see alice offline');
    await alice.client.goOnline();
    await until(() => bob.client.isOnline(alice.userId), 20_000, 'bob to see alice online again');

    // Carol is connected to instance 3; alice (instance 1) removes her.
    let removed = false;
    carolView.on('removed', () => {
      removed = true;
    });
    await group.removeMember(carol.userId);
    await until(() => removed || carolView.removed, 20_000, 'carol to be cut off on her instance');
    await group.send('after carol left');
    await until(() => texts(bobView).includes('after carol left'), 20_000, 'bob to get the post-removal message');
    await new Promise((r) => setTimeout(r, 500));
    expect(texts(carolView)).not.toContain('after carol left');
  }, 120_000);

  it('SIGKILL of an instance while messages flow loses no acknowledged message', async () => {
    const [dave, erin] = await Promise.all([newUser(topo.url, 'dave'), newUser(topo.url, 'erin')]);
    users.push(dave, erin);
    const chat = await dave.client.createDirect(erin.username);
    const erinView = await erin.client.open(chat.id);
    await chat.send('warm-up');
    await until(() => texts(erinView).includes('warm-up'), 20_000, 'warm-up');

    const victim = (await Promise.all(topo.instances.map(async (i) => ({ i, n: await connections(i.url) })))).find((x) => x.n > 0)?.i;
    expect(victim, 'some instance holds the clients').toBeDefined();

    const sent: string[] = [];
    const acknowledged = new Set<string>();
    const flow = (async () => {
      for (let n = 0; n < 60; n++) {
        const text = `m${String(n).padStart(3, '0')}`;
        const id = await chat.send(text);
        sent.push(text);
        if (chat.messages.find((m) => m.id === id)?.status === 'sent') acknowledged.add(text);
        for (const m of chat.messages) if (m.status === 'sent') acknowledged.add(m.text);
        await new Promise((r) => setTimeout(r, 50));
      }
    })();
    await new Promise((r) => setTimeout(r, 1000));
    const ackedBeforeKill = new Set(chat.messages.filter((m) => m.status === 'sent').map((m) => m.text));
    victim!.kill('SIGKILL');
    await victim!.exited;
    await flow;

    // Every message arrives (clients reconnect through nginx to the survivors and re-sync), in order.
    await until(() => sent.every((t) => texts(erinView).includes(t)), 60_000, 'erin to receive every message after the kill');
    const order = texts(erinView).filter((t) => /^m\d{3}$/.test(t));
    expect(order).toEqual([...order].sort());
    for (const t of ackedBeforeKill) expect(texts(erinView)).toContain(t);
    expect(await chat.whenDelivered(30_000)).toBe(true);
    expect(chat.invalidFrames()).toEqual([]);
  }, 180_000);

  it('SIGKILL of the instance serving a file download: the download resumes on another instance', async () => {
    const [frank, gina] = await Promise.all([newUser(topo.url, 'frank'), newUser(topo.url, 'gina')]);
    users.push(frank, gina);
    const chat = await frank.client.createDirect(gina.username);
    const size = 40 * 1024 * 1024; // ~640 chunks read one by one from PostgreSQL: the kill lands mid-transfer
    const data = Uint8Array.from({ length: size }, (_, i) => (i * 2654435761) >>> 24);
    const ref = await uploadFile({ transport: frank.client.account.transport, convId: chat.id, name: 'big.bin', type: '', data });

    const before = await Promise.all(topo.instances.map((i) => downloadedBytes(i.url)));
    let victim: (typeof topo.instances)[number] | undefined;
    const h = sha256.create();
    let received = 0;
    const result = await downloadFile({
      transport: gina.client.account.transport,
      ref,
      retry: { baseDelayMs: 50 },
      sink: async (chunk) => {
        h.update(chunk);
        received += chunk.length;
        if (victim) return;
        // First chunk: the instance whose download counter moved is serving this transfer; kill it.
        const now = await Promise.all(topo.instances.map((i) => downloadedBytes(i.url)));
        victim = topo.instances.find((_, k) => now[k]! > before[k]!);
        expect(victim, 'an instance serves the download').toBeDefined();
        victim!.kill('SIGKILL');
        await victim!.exited;
      },
    });
    expect(result).toMatchObject({ ok: true, size });
    expect(received).toBe(size);
    expect(h.digest()).toEqual(sha256(data));
    // nginx saw the resumed request: a 206 for this blob, answered by another instance than the victim.
    const lines = (await topo.nginxAccessLog()).filter((l) => l.includes(` GET /api/blobs/${ref.blobId} `));
    const resumed = lines.filter((l) => / 206 /.test(l));
    expect(resumed.length, lines.join('\n')).toBeGreaterThan(0);
    expect(resumed.every((l) => !l.endsWith(`:${victim!.port}`))).toBe(true);
  }, 180_000);
});

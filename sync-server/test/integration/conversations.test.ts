/**
 * The headless client core (shared/src/client: ParleyClient, Conversation, Keyring, membership) against the
 * real server on port 0 with real PostgreSQL: real accounts, sockets, crypto and storage; nothing mocked.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { MemoryStorage, ParleyClient } from '@parley/shared/client';
import type { TestServer } from '../helpers/server.ts';
import { chatSetup, newDevice, newUser, texts, until, type TestUser } from './conversations-helpers.ts';

describe('conversations: client core against the real server (postgres)', () => {
  const setup = chatSetup('alice', 'bob');
  let srv: TestServer;
  let alice: TestUser;
  let bob: TestUser;
  beforeEach(() => {
    srv = setup.srv;
    [alice, bob] = setup.users as [TestUser, TestUser];
  });

  it('two users chat 1:1 in real time: send, reply, edit, delete, react, read receipts, delivery state', async () => {
    const a = await alice.client.createDirect(bob.username);
    expect(a.info.kind).toBe('direct');
    const id1 = await a.send('hello bob');
    expect(a.messages.find((m) => m.id === id1)?.status ?? 'pending').toBe('pending');
    await until(() => a.messages.find((m) => m.id === id1)?.status === 'sent', 10_000, 'sent state');

    const b = await bob.client.open(a.id);
    await until(() => texts(b).includes('hello bob'), 10_000, 'bob sees hello');
    expect(b.messages[0]!.author).toBe(alice.userId);
    expect(b.name).toBe(alice.username);

    const id2 = await b.reply(id1, 'hi alice');
    await until(() => texts(a).includes('hi alice'), 10_000, 'alice sees reply');
    expect(a.messages.find((m) => m.id === id2)?.replyTo).toBe(id1);

    await a.edit(id1, 'hello bob (edited)');
    await b.react(id1, '👍');
    await until(() => b.messages.find((m) => m.id === id1)?.edited, 10_000, 'edit arrives');
    await until(() => a.messages.find((m) => m.id === id1)?.reactions[0]?.users.includes(bob.userId), 10_000, 'reaction arrives');
    await b.markRead();
    await until(() => a.messages.find((m) => m.id === id1)?.readBy.includes(bob.userId), 10_000, 'read receipt');
    expect(a.unread).toBe(1);
    await a.markRead();
    expect(a.unread).toBe(0);
    await a.delete(id1);
    await until(() => b.messages.find((m) => m.id === id1)?.deleted, 10_000, 'delete arrives');

    // Creating the direct chat again returns the same conversation.
    const again = await bob.client.createDirect(alice.username);
    expect(again.id).toBe(a.id);
    const list = await alice.client.refreshConversations();
    expect(list[0]!.id).toBe(a.id);
    expect(list[0]!.lastMessage?.text).toBe('hi alice');
    expect(a.invalidFrames()).toEqual([]);
  });
});

describe('groups, removal, new devices, offline, forged membership (postgres)', () => {
  const setup = chatSetup('alice', 'bob', 'carol', 'dave');
  let srv: TestServer;
  let alice: TestUser;
  let bob: TestUser;
  let carol: TestUser;
  let dave: TestUser;
  beforeEach(() => {
    srv = setup.srv;
    [alice, bob, carol, dave] = setup.users as [TestUser, TestUser, TestUser, TestUser];
  });

  it('three users chat in a group with an encrypted name; a removed member gets no new key and cannot read on', async () => {
    const a = await alice.client.createGroup('Trip planning', [bob.username, carol.username]);
    const [b, c] = await Promise.all([bob.client.open(a.id), carol.client.open(a.id)]);
    await until(() => b.name === 'Trip planning' && c.name === 'Trip planning', 10_000, 'group name');
    await a.send('from alice');
    await b.send('from bob');
    await c.send('from carol');
    for (const conv of [a, b, c]) await until(() => texts(conv).length === 3, 10_000, 'three messages everywhere');
    expect(texts(a).sort()).toEqual(['from alice', 'from bob', 'from carol']);
    // The group name never reaches the server in the clear.
    const leak = await srv.query("SELECT count(*)::int AS n FROM doc_updates WHERE position('Trip planning'::bytea in update) > 0");
    expect(leak.rows[0].n).toBe(0);

    const carolEpochBefore = c.keyring.newest;
    await a.removeMember(carol.userId);
    await until(() => c.removed, 10_000, 'carol is told she was removed');
    expect(a.info.currentEpoch).toBe(1);
    await until(() => b.info.currentEpoch === 1 && b.keyring.key(1) !== undefined, 10_000, 'bob has epoch 1');
    await a.send('after removal');
    await until(() => texts(b).includes('after removal'), 10_000, 'bob reads after removal');
    await new Promise((r) => setTimeout(r, 300));
    expect(texts(c)).not.toContain('after removal');
    expect(c.keyring.newest).toBe(carolEpochBefore);
    expect(c.keyring.key(1)).toBeUndefined();
    // Her client cannot fetch keys any more either.
    await expect(c.keyring.refresh(() => true)).rejects.toMatchObject({ code: 'not_found' });
    // Members see the verified removal, and history before it stays readable for those who remain.
    expect(b.membership.members.has(carol.userId)).toBe(false);
    expect(texts(b)).toContain('from carol');
  });

  it('a user on a fresh device reads the whole history (all segments and epochs)', async () => {
    const a = await alice.client.createGroup('History', [bob.username, dave.username]);
    await a.send('epoch zero message');
    await a.whenDelivered();
    await a.removeMember(dave.userId);
    await a.send('epoch one message');
    await a.whenDelivered();
    const phone = await newDevice(srv.url, bob.username);
    try {
      const b = await phone.open(a.id);
      await until(() => texts(b).includes('epoch one message'), 10_000, 'newest segment first');
      expect(b.hasOlder).toBe(true);
      await b.loadAll();
      await until(() => texts(b).includes('epoch zero message'), 10_000, 'older segment');
      expect(b.keyring.key(0)).toBeDefined();
      expect(b.name).toBe('History');
    } finally {
      await phone.stop();
    }
  });

  it('history a fresh device fetched is cached once loading pauses (and at the latest on close), and reads offline after a restart', async () => {
    const a = await alice.client.createGroup('Cached history', [bob.username, dave.username]);
    await a.send('in the old segment');
    await a.whenDelivered();
    await a.removeMember(dave.userId); // rotation: a new segment, the old one is closed
    await a.send('in the new segment');
    await a.whenDelivered();
    const storage = new MemoryStorage();
    const phone = await newDevice(srv.url, bob.username, storage);
    const b = await phone.open(a.id);
    await b.loadAll();
    await until(() => texts(b).includes('in the old segment'), 10_000, 'older segment');
    const closed = b.info.segments.find((s) => s.state === 'closed')!;
    expect(closed).toBeDefined();
    // the sealed store keeps it as u/<userId>/segdone/<segmentId> (set only after the segment was saved)
    await until(async () => (await storage.list('')).some((k) => k.endsWith(`/segdone/${closed.id}`)), 10_000, 'history cached while idle');
    await phone.stop();
    const restarted = new ParleyClient({ baseUrl: srv.url, storage, account: phone.account });
    await restarted.start({ offline: true });
    try {
      const c = await restarted.open(a.id);
      await c.loadAll();
      await until(() => texts(c).includes('in the old segment') && texts(c).includes('in the new segment'), 5_000, 'offline history');
    } finally {
      await restarted.stop();
    }
  });

  it('a client offline for a while sends and reads, reconnects, and everyone converges', async () => {
    const a = await alice.client.createDirect(dave.username);
    const d = await dave.client.open(a.id);
    await a.send('before offline');
    await until(() => texts(d).includes('before offline'), 10_000, 'dave online');
    dave.client.goOffline();
    await d.send('written offline 1');
    await d.send('written offline 2');
    await a.send('while dave is away');
    await new Promise((r) => setTimeout(r, 300));
    expect(texts(a)).not.toContain('written offline 1');
    expect(d.messages.filter((m) => m.status === 'pending').map((m) => m.text).sort()).toEqual(['written offline 1', 'written offline 2']);
    await dave.client.goOnline();
    await until(() => texts(a).includes('written offline 2') && texts(d).includes('while dave is away'), 15_000, 'convergence');
    await until(() => d.messages.every((m) => m.status === 'sent'), 10_000, 'offline messages acknowledged');
    expect(texts(a)).toEqual(texts(d));
  });

  it('a member the server adds without an admin signature is flagged unverified and gets no key', async () => {
    const a = await alice.client.createGroup('Closed circle', [bob.username]);
    const b = await bob.client.open(a.id);
    await until(() => b.name === 'Closed circle', 10_000, 'bob sees group');
    // A malicious server: insert Dave as a member directly, with no signed add op and no wrap.
    await srv.query("INSERT INTO conversation_members (conv_id, user_id, role, joined_epoch) VALUES ($1, $2, 'member', 0)", [a.id, dave.userId]);
    const flagged = new Promise((resolve) => b.on('unverified', resolve));
    await b.refresh();
    await flagged;
    expect(b.unverifiedMembers).toEqual([dave.userId]);
    await a.refresh();
    expect(a.unverifiedMembers).toEqual([dave.userId]);
    // Nobody delivers a key to Dave (peer-assisted delivery skips unverified members).
    const d = await dave.client.open(a.id);
    await b.refresh();
    await new Promise((r) => setTimeout(r, 200));
    await d.refresh().catch(() => undefined);
    expect(d.keyring.key(0)).toBeUndefined();
    const wraps = await srv.query('SELECT count(*)::int AS n FROM key_wraps WHERE conv_id = $1 AND recipient_id = $2', [a.id, dave.userId]);
    expect(wraps.rows[0].n).toBe(0);
    // Removal-style rotations refuse to wrap for him too.
    await expect(a.removeMember(bob.userId)).rejects.toMatchObject({ code: 'forbidden' });
  });

  it('a properly added member gets the key and the history via the admin; leave triggers rotation by a remaining member', async () => {
    const a = await alice.client.createGroup('Open circle', [bob.username]);
    await a.send('before carol');
    await a.whenDelivered();
    await alice.client.addMember(a.id, carol.username);
    const c = await carol.client.open(a.id);
    await until(() => texts(c).includes('before carol'), 10_000, 'carol reads history');
    expect(c.unverifiedMembers).toEqual([]);
    const b = await bob.client.open(a.id);
    await until(() => b.membership.members.has(carol.userId), 10_000, 'bob verifies carol');

    await b.leave();
    expect(b.removed).toBe(true);
    // A remaining member creates the next epoch (alice or carol, whoever gets there first).
    await until(async () => {
      await a.refresh();
      return a.info.currentEpoch === 1 && !a.info.rotationDue;
    }, 15_000, 'rotation after leave');
    await until(() => c.keyring.key(1) !== undefined || (void c.refresh().catch(() => undefined), false), 10_000, 'carol has the new key');
    await a.send('after bob left');
    await until(() => texts(c).includes('after bob left'), 10_000, 'carol reads after rotation');
  });
});

describe('presence (postgres)', () => {
  const setup = chatSetup('alice', 'bob');
  let srv: TestServer;
  let alice: TestUser;
  let bob: TestUser;
  beforeEach(() => {
    srv = setup.srv;
    [alice, bob] = setup.users as [TestUser, TestUser];
  });

  it('typing travels as encrypted, signed awareness; contacts see online/offline from inbox notices', async () => {
    const a = await alice.client.createDirect(bob.username);
    const b = await bob.client.open(a.id);
    await a.send('hi');
    await until(() => texts(b).includes('hi'), 10_000, 'first message');
    b.setTyping(true);
    await until(() => a.typing.includes(bob.userId), 10_000, 'alice sees bob typing');
    b.setTyping(false);
    await until(() => a.typing.length === 0, 10_000, 'typing stops');

    const offline = new Promise((resolve) => alice.client.on('presence', (p) => p.userId === bob.userId && !p.online && resolve(p)));
    bob.client.goOffline();
    await offline;
    expect(alice.client.isOnline(bob.userId)).toBe(false);
    const online = new Promise((resolve) => alice.client.on('presence', (p) => p.userId === bob.userId && p.online && resolve(p)));
    await bob.client.goOnline();
    await online;
    expect(alice.client.isOnline(bob.userId)).toBe(true);
  });
});

describe('keys and compaction (postgres)', () => {
  const setup = chatSetup('alice', 'bob');
  let srv: TestServer;
  let alice: TestUser;
  let bob: TestUser;
  beforeEach(() => {
    srv = setup.srv;
    [alice, bob] = setup.users as [TestUser, TestUser];
  });

  it('a busy segment is compacted by a device and stays readable for peers and fresh devices', async () => {
    const a = await alice.client.createDirect(bob.username);
    const b = await bob.client.open(a.id);
    for (let i = 0; i < 210; i++) {
      await a.send(`m${i}`);
      await a.whenDelivered(); // one frame per message
    }
    await until(() => texts(b).length === 210, 20_000, 'bob has all 210');
    const segId = a.info.segments.find((s) => s.state === 'open')!.id;
    // One of the two devices compacts (jittered); the log shrinks to a snapshot plus a few frames.
    const frames = async () => {
      const phone = await newDevice(srv.url, bob.username);
      try {
        const c = await phone.open(a.id);
        await until(() => texts(c).length === 210, 20_000, 'fresh device reads all');
        return c.invalidFrames().length === 0;
      } finally {
        await phone.stop();
      }
    };
    await until(async () => {
      const s = (await srv.query('SELECT count(*)::int AS n FROM doc_updates WHERE doc = $1', [segId])).rows[0].n as number;
      return s > 0;
    });
    await until(() => texts(a).length === 210 && texts(b).length === 210, 10_000);
    const openFrames = () => a.segmentStats().find((x) => x.segmentId === segId)!.frames;
    await until(() => openFrames() < 20 && b.segmentStats().find((x) => x.segmentId === segId)!.frames < 20, 15_000, 'compaction');
    expect(await frames()).toBe(true);
    expect(texts(b)).toEqual(texts(a));
  });

  it('[COMPACT-1] devices do not compact a segment while messages keep coming, and do once it goes quiet', async () => {
    const a = await alice.client.createGroup('busy', [bob.username]); // its own conversation (the direct chat is shared by the tests)
    const b = await bob.client.open(a.id);
    for (let i = 0; i < 205; i++) {
      await a.send(`m${i}`);
      await a.whenDelivered(); // one frame per message: past the 200-frame threshold
    }
    const segId = a.info.segments.find((s) => s.state === 'open')!.id;
    const framesOf = (c: typeof a) => c.segmentStats().find((x) => x.segmentId === segId)!.frames;
    // Busy: a message every 400 ms for 5 s (under the quiet period, longer than any device's jitter). The logs
    // only grow: nobody sends the whole segment state to everyone in the middle of the conversation.
    let seen = { a: framesOf(a), b: framesOf(b) };
    for (let i = 0; i < 12; i++) {
      await a.send(`busy ${i}`);
      await new Promise((r) => setTimeout(r, 400));
      const now = { a: framesOf(a), b: framesOf(b) };
      expect(now.a, `a's log shrank while busy (message ${i})`).toBeGreaterThanOrEqual(seen.a);
      expect(now.b, `b's log shrank while busy (message ${i})`).toBeGreaterThanOrEqual(seen.b);
      seen = now;
    }
    expect(seen.a).toBeGreaterThan(205);
    // Quiet: one of the devices compacts.
    await until(() => framesOf(a) < 20 && framesOf(b) < 20, 15_000, 'compaction once quiet');
    await until(() => texts(a).length === 217 && texts(b).length === 217, 10_000).catch(() => undefined);
    expect([texts(a).length, texts(b).length]).toEqual([217, 217]);
    expect(texts(b)).toEqual(texts(a));
  });

  it('a restarted device opens offline from its sealed storage, writes, and syncs when back online', async () => {
    const a = await alice.client.createDirect(bob.username);
    await a.send('persisted before restart');
    await a.whenDelivered();
    const account = alice.client.account;
    await alice.client.stop();
    const restarted = new ParleyClient({ baseUrl: srv.url, storage: alice.storage, account });
    await restarted.start({ offline: true });
    alice.client = restarted;
    const c = await restarted.open(a.id);
    expect(texts(c)).toContain('persisted before restart');
    await c.send('written while offline after restart');
    await restarted.goOnline();
    const b = await bob.client.open(a.id);
    await until(() => texts(b).includes('written while offline after restart'), 15_000, 'offline write synced');
  });

  it('a key the server changes for a pinned contact is refused and reported (key_changed), pin kept', async () => {
    const before = alice.client.directory.pinned(bob.userId) ?? (await alice.client.directory.get(bob.userId));
    const changed = new Promise((resolve) => alice.client.on('key_changed', resolve));
    const mallory = await newUser(srv.url, 'mallory');
    await srv.query('UPDATE users SET identity_key = (SELECT identity_key FROM users WHERE id = $2), sealing_key = (SELECT sealing_key FROM users WHERE id = $2), sealing_sig = (SELECT sealing_sig FROM users WHERE id = $2) WHERE id = $1', [
      bob.userId,
      mallory.userId,
    ]);
    const after = await alice.client.directory.lookup(bob.username);
    await expect(changed).resolves.toMatchObject({ userId: bob.userId });
    expect(after.identity).toEqual(before.identity);
    expect(alice.client.directory.changedKeys).toEqual([bob.userId]);
    expect(alice.client.directory.safetyNumber(bob.userId)).toMatch(/^\d{60}$/);
    await mallory.client.stop();
  });
});

/**
 * Encrypted profiles ([PROFILE-*] in docs/protocol.md) and initial presence, with real clients against the
 * real server on port 0 and real PostgreSQL (KDF at the minimum: m=19456, t=2, p=1). Nothing is mocked.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AccountClient, MemoryStorage, ParleyClient, type Profile } from '@parley/shared/client';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { PASSWORD, newDevice, newUser, until, type TestUser } from './conversations-helpers.ts';

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

/** A "PNG" (valid signature) whose body carries a canary string. */
function canaryPng(marker: string): Uint8Array {
  const body = new TextEncoder().encode(`${marker}:${'x'.repeat(2000)}`);
  const out = new Uint8Array(PNG_SIGNATURE.length + body.length);
  out.set(PNG_SIGNATURE);
  out.set(body, PNG_SIGNATURE.length);
  return out;
}

const hex = (s: string) => Buffer.from(s, 'utf8').toString('hex');

describe('encrypted profiles (postgres)', () => {
  let srv: TestServer;
  let alice: TestUser;
  let bob: TestUser;
  let carol: TestUser;
  const extra: ParleyClient[] = [];
  const tag = randomBytes(6).toString('hex');
  const canary = {
    name: `CANARY-NAME-${tag}`,
    status: `CANARY-STATUS-${tag}`,
    status2: `CANARY-STATUS2-${tag}`,
    avatar: `CANARY-AVATAR-${tag}`,
  };

  beforeAll(async () => {
    srv = await startTestServer({ backend: 'postgres' });
    [alice, bob, carol] = await Promise.all([newUser(srv.url, 'alice'), newUser(srv.url, 'bob'), newUser(srv.url, 'carol')]);
    await alice.client.createDirect(bob.username);
    await bob.client.refreshConversations();
    // Carol has a conversation too, but not with Alice.
    await carol.client.createDirect(bob.username);
  });
  afterAll(async () => {
    await Promise.all([...extra, ...[alice, bob, carol].map((u) => u?.client)].map((c) => c?.stop()));
    await srv?.close();
  });

  it('a contact reads the profile, live-updated; a non-contact cannot; one key version; the owner reads it back', async () => {
    const avatar = canaryPng(canary.avatar);
    const mine = await alice.client.setProfile({ displayName: canary.name, status: canary.status, avatar: { mime: 'image/png', bytes: avatar } });
    expect(mine).toMatchObject({ userId: alice.userId, displayName: canary.name, status: canary.status });

    // Bob (shares a conversation) sees it.
    const seen = await until(async () => {
      const p = await bob.client.profile(alice.userId);
      return p?.displayName === canary.name ? p : undefined;
    }, 15_000, 'bob reads alice profile');
    expect(seen.status).toBe(canary.status);
    expect(seen.avatar?.mime).toBe('image/png');
    expect(Buffer.from(seen.avatar!.bytes).equals(Buffer.from(avatar))).toBe(true);
    expect(bob.client.profileAccess(alice.userId)).toBe('ready');

    // Live update: the open document delivers Alice's change as a `profile` event.
    const live = new Promise<Profile>((resolve) => bob.client.on('profile', (e) => e.userId === alice.userId && e.profile.status === canary.status2 && resolve(e.profile)));
    await alice.client.setProfile({ status: canary.status2 });
    const updated = await live;
    expect(updated.displayName).toBe(canary.name); // untouched fields stay
    expect(updated.avatar?.bytes.length).toBe(avatar.length);
    expect(bob.client.cachedProfile(alice.userId)?.status).toBe(canary.status2);

    // Carol (no shared conversation): the server refuses the document and holds no wrap for her.
    expect(await carol.client.profile(alice.userId)).toBeUndefined();
    expect(carol.client.profileAccess(alice.userId)).toBe('forbidden');
    const carolKeys = await carol.client.refreshProfileKeys();
    expect(carolKeys.learned.filter((l) => l.ownerId === alice.userId)).toEqual([]);
    const forCarol = await srv.query('SELECT count(*)::int AS n FROM profile_key_wraps WHERE owner_id = $1 AND recipient_id = $2', [alice.userId, carol.userId]);
    expect(forCarol.rows[0].n).toBe(0);

    // Alice shared exactly one key version, with herself and Bob.
    const wraps = await srv.query('SELECT recipient_id::text AS r, version FROM profile_key_wraps WHERE owner_id = $1 ORDER BY recipient_id', [alice.userId]);
    expect(wraps.rows.map((r) => r.version)).toEqual([0, 0]);
    expect(wraps.rows.map((r) => r.r).sort()).toEqual([alice.userId, bob.userId].sort());

    // A fresh device of Alice reads her own profile (key from her self-wrap) and writes with the same key.
    const phone = await newDevice(srv.url, alice.username);
    extra.push(phone);
    const own = await until(async () => {
      const p = await phone.profile(alice.userId);
      return p?.status === canary.status2 ? p : undefined;
    }, 15_000, 'fresh device reads own profile');
    expect(own.displayName).toBe(canary.name);
    await phone.setProfile({ displayName: `${canary.name}-phone` });
    await until(async () => (await bob.client.profile(alice.userId))?.displayName === `${canary.name}-phone`, 15_000, 'bob sees the phone edit');
    const versions = await srv.query('SELECT DISTINCT version FROM profile_key_wraps WHERE owner_id = $1', [alice.userId]);
    expect(versions.rows.map((r) => r.version)).toEqual([0]);
  });

  it('the profile is shared with a contact added later (contact set grows)', async () => {
    // Dave becomes Alice's contact only now; Alice's conversation refresh wraps her key for him.
    const dave = await newUser(srv.url, 'dave');
    extra.push(dave.client);
    await alice.client.createDirect(dave.username);
    const p = await until(async () => {
      const x = await dave.client.profile(alice.userId);
      return x?.status === canary.status2 ? x : undefined;
    }, 15_000, 'dave reads alice profile');
    expect(p.displayName).toBe(`${canary.name}-phone`);
  });

  it('no canary (plain, hex) appears anywhere in the database, including doc_updates and profile_key_wraps', async () => {
    const tables = (await srv.query("SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE'")).rows.map(
      (r) => r.table_name as string,
    );
    expect(tables).toEqual(expect.arrayContaining(['doc_updates', 'profile_key_wraps']));
    // The profile documents exist and hold ciphertext.
    const docs = await srv.query("SELECT count(*)::int AS n FROM doc_updates WHERE doc = 'p_' || replace($1, '-', '')", [alice.userId]);
    expect(docs.rows[0].n).toBeGreaterThan(0);
    // Positive control: the same searches find a string that IS stored (Alice's username, in users).
    const control = await srv.query(`SELECT count(*)::int AS n FROM users x WHERE position($1 IN x::text) > 0`, [alice.username]);
    expect(control.rows[0].n).toBe(1);
    const controlHex = await srv.query(`SELECT count(*)::int AS n FROM doc_updates x WHERE position($1 IN lower(x::text)) > 0`, [hex('log')]);
    expect(controlHex.rows[0].n).toBeGreaterThan(0); // the envelope root name is in every update
    for (const needle of Object.values(canary)) {
      // Raw bytes of the two tables that carry profile material.
      const raw = await srv.query(
        `SELECT (SELECT count(*) FROM doc_updates WHERE position(convert_to($1, 'UTF8') IN update) > 0 OR position($2 IN encode(update, 'hex')) > 0)::int
              + (SELECT count(*) FROM profile_key_wraps WHERE position(convert_to($1, 'UTF8') IN wrap || sig) > 0 OR position($2 IN encode(wrap || sig, 'hex')) > 0)::int AS n`,
        [needle, hex(needle)],
      );
      expect(raw.rows[0].n, needle).toBe(0);
      // Every row of every table, as text (bytea renders as hex there).
      for (const t of tables) {
        const r = await srv.query(`SELECT count(*)::int AS n FROM "${t}" x WHERE position($1 IN x::text) > 0 OR position($2 IN lower(x::text)) > 0`, [needle, hex(needle)]);
        expect(r.rows[0].n, `${needle} in ${t}`).toBe(0);
      }
    }
  });
});

describe('initial presence (postgres)', () => {
  let srv: TestServer;
  let alice: TestUser;
  let bob: TestUser;
  const extra: ParleyClient[] = [];
  beforeAll(async () => {
    srv = await startTestServer({ backend: 'postgres' });
    [alice, bob] = await Promise.all([newUser(srv.url, 'alice'), newUser(srv.url, 'bob')]);
    await alice.client.createDirect(bob.username);
  });
  afterAll(async () => {
    await Promise.all([...extra, alice?.client].map((c) => c?.stop()));
    await srv?.close();
  });

  it('a device that starts after a contact came online sees them online at once; a reconnect re-seeds', async () => {
    await bob.client.stop();
    const account = new AccountClient({ baseUrl: srv.url });
    await account.login({ username: bob.username, password: PASSWORD });
    const late = new ParleyClient({ baseUrl: srv.url, storage: new MemoryStorage(), account });
    extra.push(late);
    const events: Array<{ userId: string; online: boolean }> = [];
    late.on('presence', (e) => events.push(e));
    await late.start();
    // No inbox notice was ever sent to this device about Alice: only GET /api/presence can know.
    expect(late.isOnline(alice.userId)).toBe(true);
    expect(events).toContainEqual({ userId: alice.userId, online: true });

    // Offline, Bob's device cannot know who is online: nobody shows online (it used to keep the last answer).
    late.goOffline();
    expect(late.isOnline(alice.userId)).toBe(false);
    expect(events.at(-1)).toEqual({ userId: alice.userId, online: false });
    // Alice is still online: the reconnect re-seeds her presence.
    await late.goOnline();
    await until(() => late.isOnline(alice.userId), 10_000, 'alice online again after the reconnect');

    // While Bob's device is offline, Alice leaves: Bob misses the notice; his reconnect does not show her online.
    late.goOffline();
    alice.client.goOffline();
    await new Promise((r) => setTimeout(r, 300));
    await late.goOnline();
    expect(late.isOnline(alice.userId)).toBe(false);

    // And back: the inbox notice (or the next seed) reports her online again.
    await alice.client.goOnline();
    await until(() => late.isOnline(alice.userId), 10_000, 'alice back online');
  });

  it('a new contact who is already online is seen online without any notice (the contact set grew)', async () => {
    const carol = await newUser(srv.url, 'carol');
    extra.push(carol.client);
    expect(alice.client.isOnline(carol.userId)).toBe(false);
    await alice.client.createDirect(carol.username);
    // Alice's own refresh after creating re-seeds presence; Carol's refresh follows the server's notice.
    expect(alice.client.isOnline(carol.userId)).toBe(true);
    await until(() => carol.client.isOnline(alice.userId), 10_000, 'carol sees alice online');
  });
});

/**
 * Unit tests of the client core's pure parts: sealed device storage, signed membership replay, encrypted
 * awareness. The end-to-end behaviour against a real server is in sync-server/test/integration/conversations.
 */
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { generateSigningKeyPair, randomBytes } from '../src/crypto/index.ts';
import { fromBase64Url, toBase64Url, utf8 } from '../src/protocol/index.ts';
import {
  HttpTransport,
  KeyDirectory,
  MemoryStorage,
  SealedStore,
  generateAccountKeys,
  publicKeysOf,
  StoredCounters,
  computeMembership,
  deriveLocalKey,
  MembershipSignatures,
  openAwareness,
  sealAwareness,
  signMembershipOp,
} from '../src/client/index.ts';

const CONV = '0b7c6c52-8a3e-4a4c-9f55-2f1d1c7f3a10';
const uid = () => crypto.randomUUID();

function person() {
  const k = generateSigningKeyPair();
  return { userId: uid(), signingKey: k.secretKey, publicKey: k.publicKey };
}

describe('SealedStore', () => {
  it('stores nothing in the clear, binds values to their names, and reads corrupt values as missing', async () => {
    const storage = new MemoryStorage();
    const user = uid();
    const corrupt: string[] = [];
    const store = new SealedStore(storage, deriveLocalKey(randomBytes(32), user), user, (n) => corrupt.push(n));
    await store.setJson('pin/x', { secret: 'canary-7f3a' });
    for (const v of storage.rawValues()) expect(new TextDecoder().decode(v)).not.toContain('canary-7f3a');
    expect(await store.getJson('pin/x', z.object({ secret: z.string() }).strict())).toEqual({ secret: 'canary-7f3a' });
    // Moving a value under another name does not open.
    await storage.set(`u/${user}/pin/y`, (await storage.get(`u/${user}/pin/x`))!);
    expect(await store.get('pin/y')).toBeUndefined();
    expect(corrupt).toEqual(['pin/y']);
    // Another account's key does not open it either.
    const other = new SealedStore(storage, deriveLocalKey(randomBytes(32), user), user);
    expect(await other.get('pin/x')).toBeUndefined();
    expect(await store.list('pin/')).toEqual(['pin/x', 'pin/y']);
  });

  it('StoredCounters are strictly increasing, concurrent-safe and survive a restart', async () => {
    const storage = new MemoryStorage();
    const user = uid();
    const key = deriveLocalKey(randomBytes(32), user);
    const c1 = new StoredCounters(new SealedStore(storage, key, user));
    const got = await Promise.all([c1.next('s', 1), c1.next('s', 1), c1.next('s', 1)]);
    expect(got).toEqual([1, 2, 3]);
    const c2 = new StoredCounters(new SealedStore(storage, key, user));
    expect(await c2.next('s', 1)).toBe(4);
    expect(await c2.next('s', 10)).toBe(10);
    expect(await c2.next('other', 1)).toBe(1);
  });
});

describe('computeMembership', () => {
  const admin = person();
  const member = person();
  const outsider = person();
  const keys = new Map<string, Uint8Array>([admin, member, outsider].map((p) => [p.userId, p.publicKey]));
  const opts = { convId: CONV, creatorId: admin.userId, identityKey: (u: string) => keys.get(u) };

  it('accepts the creator\'s create and an admin\'s add; rejects adds by members, forged signatures and a foreign create', () => {
    const ops = [
      signMembershipOp(CONV, admin, { type: 'create', kind: 'group', members: [{ userId: admin.userId, role: 'admin' }, { userId: member.userId, role: 'member' }] }, 1),
      signMembershipOp(CONV, member, { type: 'add', userId: outsider.userId, role: 'member' }, 2), // not an admin
      { ...signMembershipOp(CONV, admin, { type: 'add', userId: outsider.userId, role: 'admin' }, 3), author: member.userId }, // forged author
      signMembershipOp(CONV, outsider, { type: 'create', kind: 'group', members: [{ userId: outsider.userId, role: 'admin' }] }, 4),
      signMembershipOp(CONV, admin, { type: 'rename', name: 'Team' }, 5),
      signMembershipOp(CONV, member, { type: 'rename', name: 'Hijacked' }, 6),
      { v: 1, garbage: true },
    ];
    const m = computeMembership(ops, opts);
    expect([...m.members.keys()].sort()).toEqual([admin.userId, member.userId].sort());
    expect(m.name).toBe('Team');
    expect(m.dropped).toBe(5);
    // The same op for another conversation does not verify (convId is signed).
    const elsewhere = signMembershipOp('11111111-1111-4111-8111-111111111111', admin, { type: 'create', kind: 'group', members: [{ userId: admin.userId, role: 'admin' }] }, 1);
    expect(computeMembership([elsewhere], opts).created).toBe(false);
  });

  it('an add of someone who is a member already changes nothing (an admin adding themself stays admin)', () => {
    const ops = [
      signMembershipOp(CONV, admin, { type: 'create', kind: 'group', members: [{ userId: admin.userId, role: 'admin' }, { userId: member.userId, role: 'member' }] }, 1),
      signMembershipOp(CONV, admin, { type: 'add', userId: admin.userId, role: 'member' }, 2),
      signMembershipOp(CONV, admin, { type: 'add', userId: member.userId, role: 'admin' }, 3),
      signMembershipOp(CONV, admin, { type: 'add', userId: outsider.userId, role: 'member' }, 4),
    ];
    const m = computeMembership(ops, opts);
    expect(m.members.get(admin.userId)).toBe('admin');
    expect(m.members.get(member.userId)).toBe('member');
    expect(m.members.get(outsider.userId)).toBe('member');
    expect(m.dropped).toBe(2);
    // The timeline holds only what was applied.
    expect(m.events.map((e) => [e.type, e.actor, e.target ?? null])).toEqual([
      ['create', admin.userId, null],
      ['add', admin.userId, outsider.userId],
    ]);
  });

  it('signatures checked ahead natively give the same result, and an answer applies only to the exact op it checked', async () => {
    const ops: unknown[] = [
      signMembershipOp(CONV, admin, { type: 'create', kind: 'group', members: [{ userId: admin.userId, role: 'admin' }, { userId: member.userId, role: 'member' }] }, 1),
      { ...signMembershipOp(CONV, admin, { type: 'add', userId: outsider.userId, role: 'admin' }, 3), author: member.userId }, // forged author
      signMembershipOp(CONV, admin, { type: 'rename', name: 'Team' }, 5),
    ];
    const signatures = new MembershipSignatures();
    await signatures.prepare(ops, opts);
    const plain = computeMembership(ops, opts);
    const ahead = computeMembership(ops, { ...opts, signatures });
    expect(ahead).toEqual(plain);
    expect([ahead.name, ahead.dropped]).toEqual(['Team', 1]);
    // The rename's signature, reused on other content after it was checked: not a cached yes, refused.
    const rename = ops[2] as { op: { type: string; name: string } };
    const tampered = [...ops.slice(0, 2), { ...rename, op: { type: 'rename', name: 'Hijacked' } }];
    expect(computeMembership(tampered, { ...opts, signatures }).name).toBeUndefined();
    // A "yes" is only ever what the native check answered: a signature it refused stays refused.
    expect(computeMembership([ops[0], ops[1]], { ...opts, signatures }).members.has(outsider.userId)).toBe(false);
  });

  it('a remove takes effect, leave by the last admin hands admin to the longest-standing member, and everMembers keeps history authors', () => {
    const ops = [
      signMembershipOp(CONV, admin, { type: 'create', kind: 'group', members: [{ userId: admin.userId, role: 'admin' }, { userId: member.userId, role: 'member' }] }, 1),
      signMembershipOp(CONV, admin, { type: 'add', userId: outsider.userId, role: 'member' }, 2),
      signMembershipOp(CONV, admin, { type: 'remove', userId: outsider.userId }, 3),
      signMembershipOp(CONV, admin, { type: 'leave' }, 4),
    ];
    const m = computeMembership(ops, opts);
    expect([...m.members]).toEqual([[member.userId, 'admin']]);
    expect(m.everMembers.has(outsider.userId)).toBe(true);
  });
});

describe('encrypted awareness', () => {
  const me = person();
  const epochKey = randomBytes(32);
  const args = { convId: CONV, segmentId: 's_' + '0'.repeat(32), epochKey: () => epochKey, identityKey: (u: string) => (u === me.userId ? me.publicKey : undefined) };
  const body = { userId: me.userId, deviceId: 'ab'.repeat(16), typing: true, lastRead: null, ts: Date.now(), ctr: 7 };

  it('round-trips, and rejects tampering, another segment, unknown signers and stale states', () => {
    const st = sealAwareness({ convId: CONV, segmentId: args.segmentId, epoch: 3, epochKey, signingKey: me.signingKey, body });
    expect(Object.keys(st).sort()).toEqual(['ciphertext', 'epoch', 'v']);
    expect(st.ciphertext).not.toContain(toBase64Url(utf8('typing')));
    expect(openAwareness(st, args)).toEqual({ ok: true, body });
    const flipped = st.ciphertext.slice(0, 10) + (st.ciphertext[10] === 'A' ? 'B' : 'A') + st.ciphertext.slice(11);
    expect(openAwareness({ ...st, ciphertext: flipped }, args)).toMatchObject({ ok: false, code: 'decrypt_failed' });
    expect(openAwareness(st, { ...args, segmentId: 's_' + '1'.repeat(32) })).toMatchObject({ ok: false, code: 'decrypt_failed' });
    expect(openAwareness({ ...st, epoch: 4 }, args)).toMatchObject({ ok: false, code: 'decrypt_failed' });
    expect(openAwareness(st, { ...args, identityKey: () => person().publicKey })).toMatchObject({ ok: false, code: 'bad_signature' });
    expect(openAwareness(st, { ...args, now: Date.now() + 120_000 })).toMatchObject({ ok: false, code: 'stale' });
    expect(openAwareness({ v: 1, epoch: 0, ciphertext: 'x', extra: 1 }, args)).toMatchObject({ ok: false, code: 'malformed' });
    expect(openAwareness(st, { ...args, epochKey: () => undefined })).toMatchObject({ ok: false, code: 'unknown_epoch' });
  });
});

describe('KeyDirectory verification cache', () => {
  // `observe` never touches the network; the transport points nowhere.
  const directory = () => {
    const me = generateAccountKeys();
    const user = uid();
    const store = new SealedStore(new MemoryStorage(), deriveLocalKey(randomBytes(32), user), user);
    return new KeyDirectory(new HttpTransport({ baseUrl: 'http://127.0.0.1:9' }), store, { userId: user, username: 'me', publicKeys: publicKeysOf(me) });
  };

  it('remembers a verified key set without weakening the check: a bad signature is refused even after the good one was seen', async () => {
    const dir = directory();
    const bob = publicKeysOf(generateAccountKeys());
    const invalid: string[] = [];
    dir.on('invalid_keys', ({ userId }) => invalid.push(userId));
    const bobId = uid();
    const first = await dir.observe({ userId: bobId, username: 'bob', publicKeys: bob });
    const again = await dir.observe({ userId: bobId, username: 'bob', publicKeys: { ...bob } });
    expect(again?.identity).toEqual(first?.identity);
    // Same keys, another signature (a different valid one cannot be made without bob's key: flip a byte).
    const sig = fromBase64Url(bob.sealingSig);
    sig[0] = sig[0]! ^ 1;
    const carolId = uid();
    expect(await dir.observe({ userId: carolId, username: 'carol', publicKeys: { ...bob, sealingSig: toBase64Url(sig) } })).toBeUndefined();
    expect(invalid).toEqual([carolId]);
    // Bob's sealing key under Mallory's identity: the cached (identity, sealing, sig) of bob does not match.
    const mallory = publicKeysOf(generateAccountKeys());
    const daveId = uid();
    expect(await dir.observe({ userId: daveId, username: 'dave', publicKeys: { ...bob, identity: mallory.identity } })).toBeUndefined();
    expect(invalid).toEqual([carolId, daveId]);
    expect(dir.pinned(carolId)).toBeUndefined();
    expect(dir.pinned(daveId)).toBeUndefined();
  });

  it('hands out copies: changing returned keys does not change what the next observe returns', async () => {
    const dir = directory();
    const bob = publicKeysOf(generateAccountKeys());
    const a = await dir.observe({ userId: uid(), username: 'bob', publicKeys: bob });
    a!.identity.fill(0);
    const b = await dir.observe({ userId: uid(), username: 'bob2', publicKeys: bob });
    expect(toBase64Url(b!.identity)).toBe(bob.identity);
  });
});

/**
 * REST authorization for conversations (docs/api.md), against a real server on port 0 with real
 * PostgreSQL, with real key wraps (sealed boxes signed by the wrapper, bound to a client-chosen id).
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fromBase64Url, KeyWrapsResponse, toBase64Url, UserDirectoryEntry, type Conversation } from '@parley/shared/protocol';
import { unwrapEpochKey } from '../../shared/src/crypto/wrap.ts';
import { call, errorCode } from './helpers/accounts.ts';
import { startTestServer, type TestServer } from './helpers/server.ts';
import { createConversation, epochUpload, openSegment, registerUser, registerUsers, type TestUser } from './sync/support.ts';

let srv: TestServer;
let admin: TestUser, member: TestUser, third: TestUser, outsider: TestUser, extra: TestUser;

beforeAll(async () => {
  srv = await startTestServer({ backend: 'postgres' });
  [admin, member, third, outsider, extra] = await registerUsers(srv.url, ['admin', 'member', 'third', 'outsider', 'extra']);
});
afterAll(async () => {
  await srv?.close();
});

const api = (method: string, path: string, user: TestUser, json?: unknown) => call(srv.url, method, path, { token: user.token, ...(json !== undefined ? { json } : {}) });
const conv = (body: unknown): Conversation => (body as { conversation: Conversation }).conversation;

async function dump(): Promise<string> {
  const r = await srv.query(`SELECT
      (SELECT json_agg(c ORDER BY id) FROM conversations c) AS conversations,
      (SELECT json_agg(m ORDER BY conv_id, user_id) FROM conversation_members m) AS members,
      (SELECT json_agg(s ORDER BY id) FROM segments s) AS segments,
      (SELECT json_agg(e ORDER BY conv_id, epoch) FROM epochs e) AS epochs,
      (SELECT json_agg(w ORDER BY conv_id, epoch, recipient_id) FROM key_wraps w) AS wraps,
      (SELECT json_agg(w ORDER BY conv_id, to_epoch) FROM chain_wraps w) AS chains,
      (SELECT count(*) FROM doc_updates) AS updates`);
  return JSON.stringify(r.rows);
}

/** The caller's epoch key of `epoch`, opened from GET /keys with its real sealing key. */
async function myKey(user: TestUser, convId: string, epoch: number, wrapper: TestUser): Promise<Uint8Array | null> {
  const res = await api('GET', `/api/conversations/${convId}/keys`, user);
  expect(res.status).toBe(200);
  const keys = KeyWrapsResponse.parse(res.body);
  const e = keys.epochs.find((x) => x.epoch === epoch);
  if (!e?.wrap) return null;
  const r = unwrapEpochKey({
    convId,
    epoch,
    recipientId: user.id,
    recipient: user.sealing,
    wrap: fromBase64Url(e.wrap.wrap),
    sig: fromBase64Url(e.wrap.sig),
    wrapperIdentityPublic: wrapper.identity.publicKey,
    commitment: fromBase64Url(e.keyCommitment),
  });
  return r.ok ? r.key : null;
}

describe('creating conversations', () => {
  it('a direct chat is unique per pair: asking again (either side) returns the same one with 200', async () => {
    const a = await registerUser(srv.url, 'da');
    const b = await registerUser(srv.url, 'db');
    const first = await createConversation(srv.url, a, [b], 'direct');
    expect(first.status).toBe(201);
    const again = await createConversation(srv.url, a, [b], 'direct');
    expect(again.status).toBe(200);
    expect(again.conversation.id).toBe(first.conversation.id);
    const reverse = await createConversation(srv.url, b, [a], 'direct');
    expect(reverse.status).toBe(200);
    expect(reverse.conversation.id).toBe(first.conversation.id);
    expect(first.conversation.members.map((m) => m.role)).toEqual(['admin', 'admin']);
    // The wraps are real: each side opens the epoch-0 key, and it is the creator's key.
    expect(await myKey(b, first.conversation.id, 0, a)).toEqual(first.key);
    expect(await myKey(a, first.conversation.id, 0, a)).toEqual(first.key);
    // A direct chat with two others, or with oneself only, is refused.
    const up = epochUpload(randomUUID(), 0, a, [a, b, outsider]);
    const bad = await api('POST', '/api/conversations', a, { kind: 'direct', memberIds: [b.id, outsider.id], epoch: up.body });
    expect([bad.status, errorCode(bad.body)]).toEqual([400, 'invalid_request']);
  });

  it('a group has the creator as admin, one open segment at epoch 0, and real wraps for everyone', async () => {
    const { conversation, key, status } = await createConversation(srv.url, admin, [member, third]);
    expect(status).toBe(201);
    expect(conversation.kind).toBe('group');
    expect(conversation.myRole).toBe('admin');
    expect(conversation.members.find((m) => m.userId === member.id)?.role).toBe('member');
    expect(conversation.segments).toEqual([{ id: expect.stringMatching(/^s_[0-9a-f]{32}$/), idx: 0, epoch: 0, state: 'open' }]);
    for (const u of [admin, member, third]) expect(await myKey(u, conversation.id, 0, admin)).toEqual(key);
    // Visible to members only.
    const list = await api('GET', '/api/conversations', member);
    expect((list.body as { conversations: Conversation[] }).conversations.map((c) => c.id)).toContain(conversation.id);
    const outsiders = await api('GET', '/api/conversations', outsider);
    expect((outsiders.body as { conversations: Conversation[] }).conversations.map((c) => c.id)).not.toContain(conversation.id);
  });

  it('refuses wraps that do not cover exactly the members, unknown members, and a reused id', async () => {
    const id = randomUUID();
    const before = await dump();
    const cases = [
      epochUpload(id, 0, admin, [admin]).body, // missing member
      epochUpload(id, 0, admin, [admin, member, outsider]).body, // extra recipient
      { ...epochUpload(id, 0, admin, [admin, member]).body, epoch: 1 }, // must start at 0
    ];
    const dup = epochUpload(id, 0, admin, [admin, member]).body;
    cases.push({ ...dup, wraps: [...dup.wraps, dup.wraps[1]!] }); // duplicate recipient
    for (const epoch of cases) {
      const res = await api('POST', '/api/conversations', admin, { id, kind: 'group', memberIds: [member.id], epoch });
      expect([res.status, errorCode(res.body)]).toEqual([400, 'invalid_request']);
    }
    const ghost = randomUUID();
    const res = await api('POST', '/api/conversations', admin, { id, kind: 'group', memberIds: [ghost], epoch: epochUpload(id, 0, admin, [admin, { ...member, id: ghost }]).body });
    expect([res.status, errorCode(res.body)]).toEqual([404, 'not_found']);
    expect(await dump()).toBe(before);
    const { conversation } = await createConversation(srv.url, admin, [member]);
    const reuse = await api('POST', '/api/conversations', outsider, { id: conversation.id, kind: 'group', memberIds: [extra.id], epoch: epochUpload(conversation.id, 0, outsider, [outsider, extra]).body });
    expect(reuse.status).toBe(409);
    expect((await api('GET', `/api/conversations/${conversation.id}`, outsider)).status).toBe(404);
  });
});

describe('authorization', () => {
  it('non-members get 404 (never 403) on every conversation route', async () => {
    const { conversation } = await createConversation(srv.url, admin, [member]);
    const id = conversation.id;
    const seg = openSegment(conversation);
    const before = await dump();
    const attempts: [string, string, unknown?][] = [
      ['GET', `/api/conversations/${id}`],
      ['GET', `/api/conversations/${id}/keys`],
      ['POST', `/api/conversations/${id}/members`, { userId: outsider.id, wrap: epochUpload(id, 0, outsider, [outsider]).body.wraps[0] }],
      ['POST', `/api/conversations/${id}/members/${member.id}/remove`, { epoch: epochUpload(id, 1, outsider, [admin]).body }],
      ['POST', `/api/conversations/${id}/members/${member.id}/role`, { role: 'admin' }],
      ['POST', `/api/conversations/${id}/epochs`, epochUpload(id, 1, outsider, [admin, member]).body],
      ['POST', `/api/conversations/${id}/epochs/0/wraps`, { keyCommitment: toBase64Url(new Uint8Array(32)), wraps: epochUpload(id, 0, outsider, [outsider]).body.wraps }],
      ['POST', `/api/conversations/${id}/segments/rollover`, { fromSegmentId: seg }],
      ['POST', `/api/conversations/${id}/segments/next`, { fromSegmentId: seg }],
      ['POST', `/api/conversations/${id}/leave`],
      ['GET', `/api/conversations/${randomUUID()}`],
    ];
    for (const [method, path, json] of attempts) {
      const res = await api(method, path, outsider, json);
      expect([res.status, errorCode(res.body)], `${method} ${path}`).toEqual([404, 'not_found']);
    }
    // Without a token: 401.
    const anon = await call(srv.url, 'GET', `/api/conversations/${id}`);
    expect([anon.status, errorCode(anon.body)]).toEqual([401, 'unauthorized']);
    expect(await dump()).toBe(before);
  });

  it('only admins add members, remove members and set roles; the last admin cannot demote themself', async () => {
    const { conversation, key } = await createConversation(srv.url, admin, [member]);
    const id = conversation.id;
    const wrapFor = (wrapper: TestUser, u: TestUser) => epochUpload(id, 0, wrapper, [u], key).body.wraps[0]!;
    let res = await api('POST', `/api/conversations/${id}/members`, member, { userId: third.id, wrap: wrapFor(member, third) });
    expect([res.status, errorCode(res.body)]).toEqual([403, 'forbidden']);
    res = await api('POST', `/api/conversations/${id}/members/${admin.id}/role`, member, { role: 'member' });
    expect([res.status, errorCode(res.body)]).toEqual([403, 'forbidden']);
    res = await api('POST', `/api/conversations/${id}/members/${admin.id}/remove`, member, { epoch: epochUpload(id, 1, member, [member]).body });
    expect([res.status, errorCode(res.body)]).toEqual([403, 'forbidden']);

    res = await api('POST', `/api/conversations/${id}/members`, admin, { userId: third.id, wrap: wrapFor(admin, third) });
    expect(res.status).toBe(200);
    expect(await myKey(third, id, 0, admin)).toEqual(key);
    res = await api('POST', `/api/conversations/${id}/members`, admin, { userId: third.id, wrap: wrapFor(admin, third) });
    expect([res.status, errorCode(res.body)]).toEqual([409, 'conflict']);
    // The wrap must be for the new member.
    res = await api('POST', `/api/conversations/${id}/members`, admin, { userId: extra.id, wrap: wrapFor(admin, third) });
    expect([res.status, errorCode(res.body)]).toEqual([400, 'invalid_request']);

    res = await api('POST', `/api/conversations/${id}/members/${admin.id}/role`, admin, { role: 'member' });
    expect([res.status, errorCode(res.body)]).toEqual([409, 'conflict']);
    res = await api('POST', `/api/conversations/${id}/members/${member.id}/role`, admin, { role: 'admin' });
    expect(res.status).toBe(200);
    expect(conv(res.body).members.find((m) => m.userId === member.id)?.role).toBe('admin');
    // Now member (an admin) may add.
    res = await api('POST', `/api/conversations/${id}/members`, member, { userId: extra.id, wrap: wrapFor(member, extra) });
    expect(res.status).toBe(200);
  });

  it('removal needs the next epoch wrapped for exactly the remaining members; it closes the segment and opens a new one', async () => {
    const { conversation } = await createConversation(srv.url, admin, [member, third]);
    const id = conversation.id;
    const seg0 = openSegment(conversation);
    const path = `/api/conversations/${id}/members/${third.id}/remove`;
    const before = await dump();
    for (const [recipients, epoch] of [
      [[admin, member, third], 1], // includes the removed member
      [[admin], 1], // misses a remaining member
      [[admin, member], 2], // skips an epoch
      [[admin, member], 0], // reuses an epoch
    ] as const) {
      const res = await api('POST', path, admin, { epoch: epochUpload(id, epoch, admin, recipients).body });
      expect(res.status, `${recipients.length} wraps, epoch ${epoch}`).toBeGreaterThanOrEqual(400);
      expect(res.status).toBeLessThan(500);
      if (epoch === 1) expect(errorCode(res.body)).toBe('invalid_request');
    }
    expect(await dump()).toBe(before);
    const up = epochUpload(id, 1, admin, [admin, member]);
    const res = await api('POST', path, admin, { epoch: up.body });
    expect(res.status).toBe(200);
    const after = conv(res.body);
    expect(after.currentEpoch).toBe(1);
    expect(after.members.map((m) => m.userId).sort()).toEqual([admin.id, member.id].sort());
    expect(after.segments.find((s) => s.id === seg0)?.state).toBe('closed');
    const open = after.segments.filter((s) => s.state === 'open');
    expect(open).toHaveLength(1);
    expect(open[0]).toMatchObject({ idx: 1, epoch: 1 });
    expect(await myKey(member, id, 1, admin)).toEqual(up.key);
    // The removed member is gone: 404 everywhere, and their epoch-1 wrap never existed.
    expect((await api('GET', `/api/conversations/${id}`, third)).status).toBe(404);
    expect((await srv.query('SELECT count(*)::int AS n FROM key_wraps WHERE conv_id = $1 AND recipient_id = $2 AND epoch = 1', [id, third.id])).rows[0].n).toBe(0);
    // Removing them again: 404.
    const again = await api('POST', path, admin, { epoch: epochUpload(id, 2, admin, [admin, member]).body });
    expect(again.status).toBe(404);
  });

  it('leave marks rotationDue; a remaining member uploads the next epoch (CAS: the second attempt gets 409)', async () => {
    const { conversation } = await createConversation(srv.url, admin, [member, third]);
    const id = conversation.id;
    const res = await call(srv.url, 'POST', `/api/conversations/${id}/leave`, { token: third.token });
    expect(res.status).toBe(204);
    const seen = conv((await api('GET', `/api/conversations/${id}`, member)).body);
    expect(seen.rotationDue).toBe(true);
    expect(seen.members.map((m) => m.userId)).not.toContain(third.id);
    // Adding during a due rotation is refused.
    const add = await api('POST', `/api/conversations/${id}/members`, admin, { userId: extra.id, wrap: epochUpload(id, 0, admin, [extra]).body.wraps[0] });
    expect(add.status).toBe(409);

    // Two remaining members race to rotate: exactly one wins.
    const ups = [epochUpload(id, 1, member, [admin, member]), epochUpload(id, 1, admin, [admin, member])];
    const results = await Promise.all([api('POST', `/api/conversations/${id}/epochs`, member, ups[0]!.body), api('POST', `/api/conversations/${id}/epochs`, admin, ups[1]!.body)]);
    expect(results.map((r) => r.status).sort()).toEqual([201, 409]);
    const winner = results[0]!.status === 201 ? 0 : 1;
    const c = conv(results[winner]!.body);
    expect(c.rotationDue).toBe(false);
    expect(c.currentEpoch).toBe(1);
    expect(c.segments.filter((s) => s.state === 'open')).toHaveLength(1);
    expect(await myKey(admin, id, 1, winner === 0 ? member : admin)).toEqual(ups[winner]!.key);
    // Sequential retry of the same epoch: 409 again; a plain member cannot rotate when nothing is due.
    const retry = await api('POST', `/api/conversations/${id}/epochs`, member, ups[0]!.body);
    expect(retry.status).toBe(409);
    const noDue = await api('POST', `/api/conversations/${id}/epochs`, member, epochUpload(id, 2, member, [admin, member]).body);
    expect([noDue.status, errorCode(noDue.body)]).toEqual([403, 'forbidden']);
    // The leaver is out.
    expect((await call(srv.url, 'GET', `/api/conversations/${id}`, { token: third.token })).status).toBe(404);
  });

  it('the last admin leaving hands admin to the longest-standing member', async () => {
    const { conversation } = await createConversation(srv.url, admin, [member, third]);
    expect((await api('POST', `/api/conversations/${conversation.id}/leave`, admin)).status).toBe(204);
    const c = conv((await api('GET', `/api/conversations/${conversation.id}`, member)).body);
    expect(c.members.filter((m) => m.role === 'admin')).toHaveLength(1);
  });

  it('delivering wraps is idempotent, first wrap wins, and checks the commitment and recipients', async () => {
    const { conversation, key } = await createConversation(srv.url, admin, [member]);
    const id = conversation.id;
    // Add third with a wrap, then delete it to simulate a member missing a wrap (e.g. added while keys were rotating).
    await api('POST', `/api/conversations/${id}/members`, admin, { userId: third.id, wrap: epochUpload(id, 0, admin, [third], key).body.wraps[0] });
    await srv.query('DELETE FROM key_wraps WHERE conv_id = $1 AND recipient_id = $2', [id, third.id]);
    const keys = KeyWrapsResponse.parse((await api('GET', `/api/conversations/${id}/keys`, member)).body);
    expect(keys.missing).toEqual([third.id]);
    const commitment = keys.epochs[0]!.keyCommitment;
    const body = { keyCommitment: commitment, wraps: epochUpload(id, 0, member, [third], key).body.wraps };
    for (let i = 0; i < 2; i++) expect((await api('POST', `/api/conversations/${id}/epochs/0/wraps`, member, body)).status).toBe(204);
    // A different later wrap does not replace the first.
    expect((await api('POST', `/api/conversations/${id}/epochs/0/wraps`, admin, { keyCommitment: commitment, wraps: epochUpload(id, 0, admin, [third], key).body.wraps })).status).toBe(204);
    expect(await myKey(third, id, 0, member)).toEqual(key);
    const wrong = await api('POST', `/api/conversations/${id}/epochs/0/wraps`, member, { keyCommitment: toBase64Url(new Uint8Array(32)), wraps: body.wraps });
    expect([wrong.status, errorCode(wrong.body)]).toEqual([409, 'conflict']);
    const stranger = await api('POST', `/api/conversations/${id}/epochs/0/wraps`, member, { keyCommitment: commitment, wraps: epochUpload(id, 0, member, [outsider], key).body.wraps });
    expect([stranger.status, errorCode(stranger.body)]).toEqual([400, 'invalid_request']);
    const noEpoch = await api('POST', `/api/conversations/${id}/epochs/7/wraps`, member, body);
    expect([noEpoch.status, errorCode(noEpoch.body)]).toEqual([404, 'not_found']);
    expect(KeyWrapsResponse.parse((await api('GET', `/api/conversations/${id}/keys`, member)).body).missing).toEqual([]);
  });

  it('size-cap rollover is a CAS on the open segment and idempotent', async () => {
    const { conversation } = await createConversation(srv.url, admin, [member]);
    const seg0 = openSegment(conversation);
    const [a, b] = await Promise.all([
      api('POST', `/api/conversations/${conversation.id}/segments/rollover`, admin, { fromSegmentId: seg0 }),
      api('POST', `/api/conversations/${conversation.id}/segments/rollover`, member, { fromSegmentId: seg0 }),
    ]);
    expect([a.status, b.status]).toEqual([200, 200]);
    const segs = conv(b.body).segments;
    expect(segs).toHaveLength(2);
    expect(segs.filter((s) => s.state === 'open')).toHaveLength(1);
    expect(segs.find((s) => s.id === seg0)?.state).toBe('closed');
  });

  it('[SEG-4] a segment prepared ahead is created once, for the open segment only, and the rollover opens it', async () => {
    const { conversation } = await createConversation(srv.url, admin, [member]);
    const id = conversation.id;
    const seg0 = openSegment(conversation);
    const next = (who: TestUser, from: string) => api('POST', `/api/conversations/${id}/segments/next`, who, { fromSegmentId: from });
    const [a, b] = await Promise.all([next(admin, seg0), next(member, seg0)]);
    expect([a.status, b.status]).toEqual([200, 200]);
    const prepared = conv(b.body).segments.filter((s) => s.state === 'next');
    expect(prepared).toHaveLength(1); // two devices asking at once: one segment
    expect(prepared[0]).toMatchObject({ idx: 1, epoch: 0 });
    expect(conv(b.body).segments.find((s) => s.id === seg0)?.state).toBe('open');
    // Not for a segment that is not the open one; not for outsiders.
    expect(conv((await next(admin, prepared[0]!.id)).body).segments).toHaveLength(2);
    expect((await next(outsider, seg0)).status).toBe(404);
    // Members can sync it (writable: the writer switches before the server closes the old segment).
    expect((await srv.query('SELECT state FROM segments WHERE id = $1', [prepared[0]!.id])).rows[0].state).toBe('next');
    const rolled = conv((await api('POST', `/api/conversations/${id}/segments/rollover`, member, { fromSegmentId: seg0 })).body);
    expect(rolled.segments.map((s) => [s.id, s.state])).toEqual([
      [seg0, 'closed'],
      [prepared[0]!.id, 'open'],
    ]);
    // The next one can be prepared again, from the new open segment.
    const again = conv((await next(admin, prepared[0]!.id)).body);
    expect(again.segments.filter((s) => s.state === 'next')).toMatchObject([{ idx: 2, epoch: 0 }]);
  });

  it('[SEG-4] a key rotation closes a segment prepared ahead (old epoch) and opens the new epoch after it', async () => {
    const { conversation } = await createConversation(srv.url, admin, [member, third]);
    const id = conversation.id;
    const seg0 = openSegment(conversation);
    const prepared = conv((await api('POST', `/api/conversations/${id}/segments/next`, admin, { fromSegmentId: seg0 })).body).segments.find((s) => s.state === 'next')!;
    const res = await api('POST', `/api/conversations/${id}/members/${third.id}/remove`, admin, { epoch: epochUpload(id, 1, admin, [admin, member]).body });
    expect(res.status).toBe(200);
    const after = conv(res.body);
    expect(after.segments.find((s) => s.id === prepared.id)?.state).toBe('closed');
    expect(after.segments.filter((s) => s.state === 'next')).toEqual([]);
    expect(after.segments.filter((s) => s.state === 'open')).toMatchObject([{ idx: prepared.idx + 1, epoch: 1 }]);
  });
});

describe('user directory', () => {
  it('looks users up by username (case-insensitive) and by id; unknown is 404', async () => {
    let res = await api('POST', '/api/users/lookup', admin, { username: member.username.toUpperCase() });
    expect(res.status).toBe(200);
    const entry = UserDirectoryEntry.parse(res.body);
    expect(entry).toEqual({ id: member.id, username: member.username, publicKeys: { identity: toBase64Url(member.identity.publicKey), sealing: toBase64Url(member.sealing.publicKey), sealingSig: expect.any(String) } });
    res = await api('GET', `/api/users/${member.id}`, outsider);
    expect(UserDirectoryEntry.parse(res.body).username).toBe(member.username);
    res = await api('POST', '/api/users/lookup', admin, { username: 'nobodyhere123' });
    expect([res.status, errorCode(res.body)]).toEqual([404, 'not_found']);
    res = await api('GET', `/api/users/${randomUUID()}`, admin);
    expect([res.status, errorCode(res.body)]).toEqual([404, 'not_found']);
    res = await call(srv.url, 'POST', '/api/users/lookup', { json: { username: member.username } });
    expect(res.status).toBe(401);
  });
});

describe('hostile input', () => {
  const HOSTILE = ["' OR '1'='1", "x'); DROP TABLE conversations; --", '<script>alert(1)</script>', '\u0000', 'a'.repeat(5000), 42, -1, 1e308, true, null, [], {}, { $gt: '' }];

  it('malformed JSON, wrong types, extra fields and injection strings get a 4xx with a code and change nothing', async () => {
    const { conversation, key } = await createConversation(srv.url, admin, [member]);
    const id = conversation.id;
    const goodCreate = () => {
      const cid = randomUUID();
      return { id: cid, kind: 'group', memberIds: [member.id], epoch: epochUpload(cid, 0, admin, [admin, member]).body } as Record<string, unknown>;
    };
    const before = await dump();
    const bodies: [string, string, unknown][] = [];
    for (const v of HOSTILE) {
      bodies.push(['POST', '/api/conversations', { ...goodCreate(), kind: v }]);
      bodies.push(['POST', '/api/conversations', { ...goodCreate(), memberIds: [v] }]);
      bodies.push(['POST', '/api/conversations', { ...goodCreate(), id: v }]);
      const g = goodCreate();
      bodies.push(['POST', '/api/conversations', { ...g, epoch: { ...(g['epoch'] as object), keyCommitment: v } }]);
      bodies.push(['POST', `/api/conversations/${id}/members`, { userId: v, wrap: epochUpload(id, 0, admin, [third], key).body.wraps[0] }]);
      bodies.push(['POST', `/api/conversations/${id}/members/${member.id}/role`, { role: v }]);
      bodies.push(['POST', `/api/conversations/${id}/segments/rollover`, { fromSegmentId: v }]);
      bodies.push(['POST', `/api/conversations/${id}/segments/next`, { fromSegmentId: v }]);
      bodies.push(['POST', '/api/users/lookup', { username: v }]);
    }
    bodies.push(['POST', '/api/conversations', { ...goodCreate(), admin: true }]); // extra field
    bodies.push(['POST', `/api/conversations/${id}/leave`, { now: true }]);
    bodies.push(['POST', `/api/conversations/${id}/members/${member.id}/role`, { role: 'admin', userId: admin.id }]);
    for (const [method, path, json] of bodies) {
      const res = await api(method, path, admin, json);
      const tag = `${path} ${JSON.stringify(json).slice(0, 120)}`;
      expect(res.status, tag).toBeGreaterThanOrEqual(400);
      expect(res.status, tag).toBeLessThan(500);
      expect(errorCode(res.body), tag).toBeDefined();
    }
    // Hostile path parameters.
    for (const p of [`/api/conversations/${encodeURIComponent("' OR 1=1 --")}`, '/api/conversations/1', `/api/conversations/${id}/epochs/-1/wraps`, `/api/conversations/${id}/epochs/99999999999/wraps`, `/api/users/${encodeURIComponent('<script>')}`]) {
      const res = await api(p.includes('wraps') ? 'POST' : 'GET', p, admin, p.includes('wraps') ? { keyCommitment: toBase64Url(new Uint8Array(32)), wraps: [] } : undefined);
      expect(res.status, p).toBeGreaterThanOrEqual(400);
      expect(res.status, p).toBeLessThan(500);
    }
    // Malformed JSON, wrong media type, and a 1 MB body.
    const raw = [
      { rawBody: '{"kind":"group",', contentType: 'application/json' },
      { rawBody: '[]', contentType: 'application/json' },
      { rawBody: 'null', contentType: 'application/json' },
      { rawBody: 'kind=group', contentType: 'application/x-www-form-urlencoded' },
      { rawBody: JSON.stringify({ ...goodCreate(), pad: 'x'.repeat(1024 * 1024) }), contentType: 'application/json' },
    ];
    for (const r of raw) {
      const res = await call(srv.url, 'POST', '/api/conversations', { token: admin.token, ...r });
      expect(res.status, r.rawBody.slice(0, 40)).toBeGreaterThanOrEqual(400);
      expect(res.status).toBeLessThan(500);
      expect(errorCode(res.body), r.rawBody.slice(0, 40)).toBeDefined();
    }
    expect(await dump()).toBe(before);
    expect((await fetch(`${srv.url}/healthz`)).status).toBe(200);
  });
});

import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { innerRoots, materialize, putMessage, signMessage, signOp, VerificationCache, identityVerifier } from '../../src/envelope/index.ts';
import { makeUser, newDeviceId, Peer, SCOPE, World } from './helpers.ts';

describe('inner model', () => {
  const [alice, bob, eve] = [makeUser(), makeUser(), makeUser()];
  const world = new World([alice, bob]);

  it('[INNER-5] edits, deletes, reactions, replies and receipts, only when authorized', () => {
    const a = new Peer(world, alice);
    const b = new Peer(world, bob);
    b.inner = a.inner; // same doc, two authors (the binding is not involved here)
    const m1 = a.send('hi', 1);
    const m2 = b.send('hello', 2, m1);
    a.op(m1, { type: 'edit', text: 'hi!' }, 3);
    b.op(m1, { type: 'edit', text: 'hijacked' }, 4); // not the author: dropped
    b.op(m1, { type: 'delete' }, 5); // not the author: dropped
    b.op(m1, { type: 'react', emoji: '👍', on: true }, 6);
    a.op(m1, { type: 'react', emoji: '👍', on: true }, 7);
    a.op(m1, { type: 'react', emoji: '👍', on: false }, 8);
    b.op(m2, { type: 'delete' }, 9);
    a.op(m1, { type: 'read' }, 10);
    a.op(m2, { type: 'read' }, 11);
    b.op(m1, { type: 'read' }, 12);
    a.op('ff'.repeat(16) + ':1', { type: 'react', emoji: '🎉', on: true }, 13); // target in an older segment
    const v = a.view();
    expect(v.messages).toEqual([
      { id: m1, author: alice.userId, ts: 1, text: 'hi!', replyTo: undefined, attachments: [], edited: true, deleted: false, reactions: [{ emoji: '👍', users: [bob.userId] }] },
      { id: m2, author: bob.userId, ts: 2, text: '', replyTo: m1, attachments: [], edited: false, deleted: true, reactions: [] },
    ]);
    expect(v.dropped).toEqual({ malformed: 0, badSignature: 0, unauthorized: 2 });
    expect(v.orphans.length).toBe(1);
    expect(v.receipts).toEqual(
      [
        { userId: alice.userId, msgId: m2 },
        { userId: bob.userId, msgId: m1 },
      ].sort((x, y) => (x.userId < y.userId ? -1 : 1)),
    );
  });

  it('[INNER-1] [INNER-4] garbage, wrong-key entries, forged signatures and replays across conversations are dropped', () => {
    const doc = new Y.Doc();
    const { messages, ops } = innerRoots(doc);
    const dev = newDeviceId();
    const good = signMessage(SCOPE.convId, { userId: alice.userId, deviceId: dev, signingKey: alice.secretKey }, { counter: 1, ts: 1, text: 'ok' });
    putMessage(doc, good);
    messages.set(`${dev}:2`, { ...good, id: `${dev}:2` }); // signature does not cover the new id
    messages.set(`${dev}:3`, { ...good, id: `${dev}:9` }); // key and id disagree
    messages.set(`${dev}:4`, { v: 1, id: `${dev}:4`, author: alice.userId, ts: 1, text: 'x', sig: 'A'.repeat(86), extra: 1 });
    messages.set(`${dev}:5`, 'just a string');
    const other = signMessage('c_other', { userId: alice.userId, deviceId: dev, signingKey: alice.secretKey }, { counter: 6, ts: 1, text: 'elsewhere' });
    messages.set(other.id, other); // signed for another conversation
    const forged = signMessage(SCOPE.convId, { userId: alice.userId, deviceId: dev, signingKey: eve.secretKey }, { counter: 7, ts: 1, text: 'eve as alice' });
    messages.set(forged.id, forged);
    ops.push([{ nope: true }]);
    ops.push([signOp(SCOPE.convId, { userId: eve.userId, deviceId: dev, signingKey: eve.secretKey }, { counter: 8, ts: 2, target: good.id, op: { type: 'react', emoji: 'x', on: true } })]);
    const v = materialize(doc, { convId: SCOPE.convId, verify: world.verify(), isMember: (u) => u !== eve.userId });
    expect(v.messages.map((m) => m.text)).toEqual(['ok']);
    expect(v.dropped).toEqual({ malformed: 4, badSignature: 4, unauthorized: 0 }); // eve's key is unknown here
  });

  it('[INNER-6] newest-N materialization verifies only the window, and the cache avoids re-verifying', () => {
    const a = new Peer(world, alice);
    for (let i = 0; i < 300; i++) a.send(`m${i}`, i + 1);
    const cache = new VerificationCache();
    const verify = cache.wrap(identityVerifier((u) => world.users.get(u)?.publicKey));
    const first = materialize(a.inner, { convId: SCOPE.convId, verify, newest: 50 });
    expect(first.messages.length).toBe(50);
    expect(first.messages[0]!.text).toBe('m250');
    expect(first.unverified).toBe(250);
    expect(cache.misses).toBe(50);
    const again = materialize(a.inner, { convId: SCOPE.convId, verify, newest: 60 });
    expect(again.messages.length).toBe(60);
    expect(cache.misses).toBe(60);
  });

  it('[INNER-6] the cache key covers content, so a reused signature with new text does not hit', () => {
    const cache = new VerificationCache();
    const verify = cache.wrap(identityVerifier((u) => world.users.get(u)?.publicKey));
    const doc = new Y.Doc();
    const dev = newDeviceId();
    const good = signMessage(SCOPE.convId, { userId: alice.userId, deviceId: dev, signingKey: alice.secretKey }, { counter: 1, ts: 1, text: 'real' });
    putMessage(doc, good);
    expect(materialize(doc, { convId: SCOPE.convId, verify }).messages.length).toBe(1);
    const doc2 = new Y.Doc();
    innerRoots(doc2).messages.set(good.id, { ...good, text: 'fake' });
    expect(materialize(doc2, { convId: SCOPE.convId, verify }).messages.length).toBe(0);
  });
});

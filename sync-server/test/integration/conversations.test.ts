/**
 * The headless client core (shared/src/client: ParleyClient, Conversation, Keyring, membership) against the
 * real server on port 0 with real PostgreSQL: real accounts, sockets, crypto and storage; nothing mocked.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { newUser, texts, until, type TestUser } from './conversations-helpers.ts';

describe('conversations: client core against the real server (postgres)', () => {
  let srv: TestServer;
  let alice: TestUser;
  let bob: TestUser;
  beforeAll(async () => {
    srv = await startTestServer({ backend: 'postgres' });
    [alice, bob] = await Promise.all([newUser(srv.url, 'alice'), newUser(srv.url, 'bob')]);
  });
  afterAll(async () => {
    await Promise.all([alice?.client.stop(), bob?.client.stop()]);
    await srv?.close();
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

/**
 * A conversation handle closed by its owner and opened again at once: `ParleyClient.open` used to hand back the
 * closed handle, whose sends went to the device outbox and never to the server. Now a new handle opens (after
 * the old one has detached its documents from the shared socket) and delivers.
 */
import { describe, expect, it } from 'vitest';
import { chatSetup, texts, until, type TestUser } from './conversations-helpers.ts';

describe('closing and reopening a conversation (postgres)', () => {
  const setup = chatSetup('alice', 'bob');
  it('open() after close() gives a new handle that sends and receives at once, five times in a row', async () => {
    const [alice, bob] = setup.users as [TestUser, TestUser];
    for (let i = 0; i < 5; i++) {
      const a = await alice.client.createGroup(`g${i}`, [bob.username]);
      await a.send(`before ${i}`);
      await a.close();
      const again = await alice.client.open(a.id);
      expect(again).not.toBe(a);
      await again.send(`hello ${i}`);
      const b = await bob.client.open(a.id);
      await until(() => texts(b).includes(`hello ${i}`), 10_000, `bob sees hello ${i}`);
      expect(await again.whenDelivered(10_000)).toBe(true);
    }
  }, 90_000);
});

/**
 * [ARCHIVE-1] A conversation this user is no longer a member of stays on the device, read-only: listed as
 * archived, opened from storage (also after a restart) without a request or a sync link, until the user
 * deletes it from the device; a re-add makes it live again. Client core against the real server (PostgreSQL).
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { ParleyClient } from '@parley/shared/client';
import { docNameFor } from '@parley/shared/protocol';
import { chatSetup, newDevice, texts, until, type TestUser } from './conversations-helpers.ts';

describe('[ARCHIVE-1] conversations this user was removed from (postgres)', () => {
  const setup = chatSetup('alice', 'carol');
  let alice: TestUser;
  let carol: TestUser;
  beforeEach(() => {
    [alice, carol] = setup.users as [TestUser, TestUser];
  });

  /** Carol's list row for `convId` (undefined when not listed). */
  const row = async (client: ParleyClient, convId: string) => (await client.conversations()).find((r) => r.id === convId);

  it('a removed member keeps the history: listed as archived, reopened read-only after a restart, nothing sent', async () => {
    const a = await alice.client.createGroup('Book club', [carol.username]);
    await a.send('first chapter by Friday');
    await a.send('bring snacks');
    await a.whenDelivered();
    let c = await carol.client.open(a.id);
    await until(() => texts(c).length === 2 && c.name === 'Book club', 10_000, 'carol reads the group');
    await c.send('I will bring tea');
    await c.whenDelivered();
    expect((await row(carol.client, a.id))?.archived).toBeUndefined();

    await alice.client.removeMember(a.id, carol.userId);
    await until(() => c.removed, 10_000, 'carol is told she was removed');
    await carol.client.refreshConversations(); // what the app does on `removed`
    const archived = await row(carol.client, a.id);
    expect(archived).toMatchObject({ archived: true, name: 'Book club', unread: 0 });
    expect(archived?.lastMessage?.text).toBe('I will bring tea');
    await a.send('a secret after the removal');
    await a.whenDelivered();

    // A restart (online): the archived group is still listed and opens from storage, read-only.
    const account = carol.client.account;
    await carol.client.stop();
    carol.client = new ParleyClient({ baseUrl: setup.srv.url, storage: carol.storage, account });
    await carol.client.start();
    expect(await row(carol.client, a.id)).toMatchObject({ archived: true });
    c = await carol.client.open(a.id);
    expect(c.removed).toBe(true);
    await c.loadAll();
    expect(texts(c)).toEqual(['first chapter by Friday', 'bring snacks', 'I will bring tea']);
    expect(c.name).toBe('Book club');
    expect(c.isLiveDoc(c.info.segments[0]!.id)).toBe(false);
    await expect(c.send('still here?')).rejects.toMatchObject({ code: 'forbidden' });
    await c.markRead(); // no receipt can be written; not an error
    await new Promise((r) => setTimeout(r, 500));
    expect(texts(c)).not.toContain('a secret after the removal');
    // Only a conversation this user left the server's list for can be deleted from the device.
    const live = await alice.client.createDirect(carol.username);
    await expect(carol.client.forget(live.id)).rejects.toMatchObject({ code: 'invalid_input' });
  });

  it('leaving on one device reads as leaving on the others (not as a removal)', async () => {
    const a = await alice.client.createGroup('Hiking', [carol.username]);
    const laptop = await carol.client.open(a.id);
    const phone = await newDevice(setup.srv.url, carol.username);
    try {
      const onPhone = await phone.open(a.id);
      await until(() => onPhone.name === 'Hiking' && laptop.name === 'Hiking', 10_000, 'both devices have the group');
      const told = laptop.once('removed', () => true);
      await onPhone.leave();
      expect(await told).toEqual({ left: true });
      // A removal by an admin still reads as one.
      const b = await alice.client.createGroup('Climbing', [carol.username]);
      const again = await phone.open(b.id);
      await until(() => again.name === 'Climbing', 10_000, 'the phone has the second group');
      const removed = again.once('removed', () => true);
      await alice.client.removeMember(b.id, carol.userId);
      expect(await removed).toEqual({ left: false });
    } finally {
      await phone.stop();
    }
  });

  it('re-added, the group syncs live again; removed again and deleted from the device, nothing of it stays', async () => {
    const a = await alice.client.createGroup('Choir', [carol.username]);
    await a.send('rehearsal on Monday');
    await a.whenDelivered();
    const before = await carol.client.open(a.id);
    await until(() => texts(before).includes('rehearsal on Monday'), 10_000, 'carol reads');
    await alice.client.removeMember(a.id, carol.userId);
    await until(() => before.removed, 10_000, 'removed');
    await carol.client.refreshConversations();
    expect(await row(carol.client, a.id)).toMatchObject({ archived: true });

    await alice.client.addMember(a.id, carol.username);
    await until(async () => (await row(carol.client, a.id))?.archived === undefined, 10_000, 'listed as a member again');
    // Adding her (or herself) again is refused before anything is signed: no admin is demoted by an add.
    await until(() => a.membership.members.has(carol.userId), 10_000, 'alice verifies the add');
    await expect(alice.client.addMember(a.id, carol.username)).rejects.toMatchObject({ code: 'invalid_input' });
    await expect(alice.client.addMember(a.id, alice.username)).rejects.toMatchObject({ code: 'invalid_input' });
    expect(a.membership.members.get(alice.userId)).toBe('admin');
    const again = await carol.client.open(a.id);
    expect(again).not.toBe(before);
    expect(again.removed).toBe(false);
    await a.send('welcome back');
    await until(() => texts(again).includes('welcome back'), 10_000, 'carol reads live again');
    await again.send('glad to be back');
    await until(() => texts(a).includes('glad to be back'), 10_000, 'alice reads carol');

    await alice.client.removeMember(a.id, carol.userId);
    await until(() => again.removed, 10_000, 'removed again');
    await carol.client.refreshConversations();
    const stored = async () => (await carol.storage.list('')).filter((k) => [a.id, docNameFor('m', a.id), ...again.info.segments.map((s) => s.id)].some((id) => k.includes(id)));
    // What stays after forgetting: only the message counters (they never go back, or a re-add could reuse one).
    const counters = (k: string) => /\/m?ctr\//.test(k);
    expect((await stored()).filter((k) => !counters(k)).length).toBeGreaterThan(0);
    await carol.client.forget(a.id);
    expect(await row(carol.client, a.id)).toBeUndefined();
    expect((await stored()).filter((k) => !counters(k))).toEqual([]);
    await expect(carol.client.open(a.id)).rejects.toMatchObject({ code: 'not_found' });
  });
});

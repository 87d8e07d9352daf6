/**
 * [INNER-11] against the real server and PostgreSQL: a client's device id names its user, and a client that
 * stored a legacy (random) device id replaces it when it starts, keeps the new one across restarts and keeps
 * chatting. (That readers still accept keys under legacy ids is tested at the envelope level, device-keys.test.ts.)
 */
import { describe, expect, it } from 'vitest';
import { randomBytes } from '../../../shared/src/crypto/index.ts';
import { deriveLocalKey, MemoryStorage, ParleyClient, SealedStore } from '../../../shared/src/client/index.ts';
import { isDeviceIdOf, isTaggedDeviceId } from '../../../shared/src/envelope/index.ts';
import { toHex } from '../../../shared/src/protocol/index.ts';
import { chatSetup, newDevice, texts, until, type TestUser } from './conversations-helpers.ts';

describe('device ids that name their user (postgres)', () => {
  const setup = chatSetup('alice', 'bob');

  it('a new device gets a tagged id; a stored legacy id is replaced at start and the device keeps chatting', async () => {
    const [alice, bob] = setup.users as [TestUser, TestUser];
    expect(isDeviceIdOf(alice.client.deviceId, alice.userId)).toBe(true);
    expect(isDeviceIdOf(alice.client.deviceId, bob.userId)).toBe(false);

    // A second device of bob's whose storage holds a random id, as clients stored before the rule.
    const storage = new MemoryStorage();
    const legacyDevice = await newDevice(setup.srv.url, bob.username, storage);
    const chat = await alice.client.createDirect(bob.username);
    const keys = legacyDevice.account.keys!;
    const store = new SealedStore(storage, deriveLocalKey(keys.identity.secretKey, bob.userId), bob.userId);
    await legacyDevice.stop();
    const legacy = randomBytes(16);
    await store.set('device', legacy);
    const before = new ParleyClient({ baseUrl: setup.srv.url, storage, account: legacyDevice.account });
    expect(isTaggedDeviceId(toHex(legacy))).toBe(false);
    await before.start();
    expect(before.deviceId).not.toBe(toHex(legacy));
    expect(isDeviceIdOf(before.deviceId, bob.userId)).toBe(true);
    expect(await store.get('device')).toEqual(Uint8Array.from(Buffer.from(before.deviceId, 'hex')));
    // The replaced id sticks across restarts, and the device sends and receives.
    await before.stop();
    const again = new ParleyClient({ baseUrl: setup.srv.url, storage, account: legacyDevice.account });
    await again.start();
    expect(again.deviceId).toBe(before.deviceId);
    const mine = await again.open(chat.id);
    await mine.send('from the migrated device');
    const aliceView = await alice.client.open(chat.id);
    await until(() => texts(aliceView).includes('from the migrated device'), 15_000, 'alice to see the migrated device');
    expect(aliceView.invalidFrames()).toEqual([]);
    expect(aliceView.messages.find((m) => m.text === 'from the migrated device')?.id.startsWith(`${again.deviceId}:`)).toBe(true);
    await chat.send('back to bob');
    await until(() => texts(mine).includes('back to bob'), 15_000, 'the migrated device to receive');
    await again.stop();
  }, 60_000);
});

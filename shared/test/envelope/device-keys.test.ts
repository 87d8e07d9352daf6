/**
 * [INNER-11] Message keys are `deviceId:counter`, and a device id names its user. Without that, a member who saw
 * someone's message could write an entry under its key and place that frame before the owner's in the envelope
 * log: Yjs keeps one item per map key, [INNER-9] refuses whichever frame comes second, so every device that had
 * not applied the owner's frame yet (offline, new, loading history) refused the real message and showed the
 * squat. Real keys, real frames, real bindings; the first test fails without the rule (it shows the squat).
 */
import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { deviceTag, innerRoots, isDeviceIdOf, isTaggedDeviceId, mayWriteAsDevice, newDeviceIdFor, signMessage } from '../../src/envelope/index.ts';
import { makeUser, newDeviceId, Peer, SCOPE, World } from './helpers.ts';

const [ursula, mallory, rita] = [makeUser(), makeUser(), makeUser()];
const world = new World([ursula, mallory, rita]);

/**
 * Ursula's message and Mallory's entry under the same key, written without seeing Ursula's (so no overwrite in
 * Yjs terms), sealed by Mallory and merged into one envelope with Mallory's frame `first` or second in the log
 * (concurrent inserts at the log's start are ordered by the envelope clientID, which a writer picks).
 */
async function squatted(first: boolean, ursulaDevice?: string) {
  const u = new Peer(world, ursula, ursulaDevice ? { deviceId: ursulaDevice } : {});
  u.envelope.clientID = first ? 2 ** 31 : 1;
  const key = u.send('the real message', 1);
  await u.settle();
  const m = new Peer(world, mallory);
  m.envelope.clientID = first ? 1 : 2 ** 31;
  const [deviceId, counter] = key.split(':') as [string, string];
  innerRoots(m.inner).messages.set(key, signMessage(SCOPE.convId, { ...m.author, deviceId }, { counter: Number(counter), ts: 2, text: 'squat' }));
  await m.settle();
  const merged = new Y.Doc();
  Y.applyUpdate(merged, Y.encodeStateAsUpdate(u.envelope));
  Y.applyUpdate(merged, Y.encodeStateAsUpdate(m.envelope));
  const log = merged.getArray<Uint8Array>('log').toArray();
  expect(log.length).toBe(2);
  const squatFrame = m.envelope.getArray<Uint8Array>('log').get(0);
  expect(log.findIndex((f) => f.length === squatFrame.length && f.every((b, i) => b === squatFrame[i]))).toBe(first ? 0 : 1);
  // A reader that gets both at once: a new device, or one that was offline.
  const r = new Peer(world, rita, { envelope: Y.encodeStateAsUpdate(merged) });
  await r.binding.whenIdle();
  const who = (id: string) => (id === ursula.userId ? 'ursula' : id === mallory.userId ? 'mallory' : id);
  return {
    key,
    refused: r.binding.invalid.map((f) => [f.code, who(f.userId ?? '')]),
    shown: r.view().messages.map((x) => [x.id, who(x.author), x.text]),
  };
}

describe('[INNER-11] a member cannot take another member’s message key', () => {
  for (const first of [true, false]) {
    it(`a squat on a key of a tagged device is refused for a new reader, the squat ${first ? 'first' : 'second'} in the log`, async () => {
      const r = await squatted(first);
      expect(r.refused).toEqual([['overwrite', 'mallory']]);
      expect(r.shown).toEqual([[r.key, 'ursula', 'the real message']]);
    });
  }

  it('keys of legacy (untagged) device ids still apply from their writer (history from before the rule)', async () => {
    const legacy = new Peer(world, ursula, { deviceId: newDeviceId() });
    expect(isTaggedDeviceId(legacy.deviceId)).toBe(false);
    const key = legacy.send('written before the rule', 1);
    await legacy.settle();
    const r = new Peer(world, rita, { envelope: Y.encodeStateAsUpdate(legacy.envelope) });
    await r.binding.whenIdle();
    expect(r.binding.invalid).toEqual([]);
    expect(r.view().messages.map((x) => [x.id, x.text])).toEqual([[key, 'written before the rule']]);
  });

  it('a member’s own tagged keys pass, on every device of theirs', async () => {
    const a = new Peer(world, mallory);
    const b = new Peer(world, mallory);
    expect(a.deviceId).not.toBe(b.deviceId);
    const k1 = a.send('from one device', 1);
    const k2 = b.send('from another', 2);
    await a.settle();
    await b.settle();
    const merged = new Y.Doc();
    Y.applyUpdate(merged, Y.encodeStateAsUpdate(a.envelope));
    Y.applyUpdate(merged, Y.encodeStateAsUpdate(b.envelope));
    const r = new Peer(world, rita, { envelope: Y.encodeStateAsUpdate(merged) });
    await r.binding.whenIdle();
    expect(r.binding.invalid).toEqual([]);
    expect(r.view().messages.map((x) => x.id).sort()).toEqual([k1, k2].sort());
  });
});

describe('tagged device ids', () => {
  it('name their user: 32 hex digits, the tag of the user, random otherwise', () => {
    const id = newDeviceIdFor(ursula.userId);
    expect(id).toMatch(/^[0-9a-f]{32}$/);
    expect(id.slice(8, 20)).toBe(deviceTag(ursula.userId));
    expect(newDeviceIdFor(ursula.userId)).not.toBe(id);
    expect(deviceTag(ursula.userId)).not.toBe(deviceTag(mallory.userId));
    expect([isDeviceIdOf(id, ursula.userId), isDeviceIdOf(id, mallory.userId)]).toEqual([true, false]);
    expect([mayWriteAsDevice(id, ursula.userId), mayWriteAsDevice(id, mallory.userId)]).toEqual([true, false]);
  });

  it('legacy random ids name nobody: anyone may write under them, and a client replaces them', () => {
    const legacy = newDeviceId();
    expect(isTaggedDeviceId(legacy)).toBe(legacy.startsWith('70647631'));
    expect(mayWriteAsDevice(legacy, mallory.userId)).toBe(true);
    expect(isDeviceIdOf(legacy, ursula.userId)).toBe(false);
    expect(isDeviceIdOf('', ursula.userId)).toBe(false);
  });
});

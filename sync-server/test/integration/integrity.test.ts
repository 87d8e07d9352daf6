/**
 * The conversation reports tampering in its membership document like in a segment: a frame pushed into the
 * meta document (`m_…`) through the real server with one signature byte flipped is rejected by the other
 * member's client and shows up in `invalidFrames()` and an `invalid` event under the meta document's name.
 */
import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { SyncConnection } from '@parley/shared/client';
import { docNameFor } from '@parley/shared/protocol';
import { chatSetup, until, type TestUser } from './conversations-helpers.ts';

describe('integrity of the membership document (postgres)', () => {
  const setup = chatSetup('alice', 'bob');
  it('a forged frame in the meta document is reported as invalid under its name', async () => {
    const [alice, bob] = setup.users as [TestUser, TestUser];
    const a = await alice.client.createGroup('integrity', [bob.username]);
    await a.send('hello');
    const events: string[] = [];
    a.on('invalid', (e) => events.push(`${e.segmentId} ${e.frame.code}`));
    const metaName = docNameFor('m', a.id);
    // Bob (a member) writes a copy of a genuine meta frame with one signature byte flipped.
    const sync = new SyncConnection(setup.srv.url, () => bob.client.account.accessToken());
    try {
      const doc = new Y.Doc();
      const link = sync.open(metaName, doc);
      await link.whenSynced();
      const log = doc.getArray<Uint8Array>('log');
      const genuine = log.get(0);
      expect(genuine).toBeInstanceOf(Uint8Array);
      const forged = genuine.slice();
      forged[forged.length - 1] = forged.at(-1)! ^ 1;
      log.push([forged]);
      await link.whenAcked();
    } finally {
      sync.destroy();
    }
    await until(() => events.length > 0, 10_000, 'an invalid event');
    expect(events).toEqual([`${metaName} bad_signature`]);
    expect(a.invalidFrames()).toEqual([{ segmentId: metaName, frame: expect.objectContaining({ code: 'bad_signature' }) }]);
    expect(a.membership.members.has(bob.userId)).toBe(true); // the genuine membership still stands
  }, 60_000);
});

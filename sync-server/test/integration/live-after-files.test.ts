/**
 * After bob downloads attachments (file and thumbnail) and marks them read, alice's next messages (text and
 * a file alone) still reach him live. Guards the client-core half of the live-update stall seen in the app
 * (e2e/tests/files.spec.ts, fixme): with in-memory storage the core keeps delivering.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { chatSetup, texts, until, type TestUser } from './conversations-helpers.ts';

const bytes = (n: number, seed: number) => Uint8Array.from({ length: n }, (_, i) => (i * 31 + seed * 7 + (i >> 8)) & 0xff);

describe('live delivery after downloading attachments (client core)', () => {
  const setup = chatSetup('alice', 'bob');
  let alice: TestUser;
  let bob: TestUser;
  beforeEach(() => {
    [alice, bob] = setup.users as [TestUser, TestUser];
  });

  it('text and file-only messages keep arriving live after downloads and a read receipt', async () => {
    const a = await alice.client.createDirect(bob.username);
    const b = await bob.client.open(a.id);
    const img = await a.uploadAttachment({ name: 'x.png', type: 'image/png', data: bytes(100_000, 1), thumbnail: { data: bytes(2000, 2), type: 'image/webp', width: 10, height: 10 } });
    const pdf = await a.uploadAttachment({ name: 'r.pdf', type: 'application/pdf', data: bytes(5000, 3) });
    await a.send('Here are the files', { attachments: [img, pdf] });
    const m = await until(() => b.messages.find((x) => x.text === 'Here are the files'), 10_000, 'bob sees files');
    for (const att of m.attachments) {
      expect((await b.downloadAttachment(att.file)).ok).toBe(true);
      if (att.thumb) expect((await b.downloadAttachment(att.thumb)).ok).toBe(true);
    }
    await b.markRead();
    await a.send('ping after files');
    await until(() => texts(b).includes('ping after files'), 10_000, 'bob sees ping');
    await a.sendFile({ name: 'p.txt', type: 'text/plain', data: new TextEncoder().encode('pasted') });
    await until(() => b.messages.some((x) => x.attachments[0]?.file.name === 'p.txt'), 10_000, 'bob sees file-only');
  });
});

/**
 * [SEG-4] Segments prepared ahead of the size cap, with real clients against the real server: the writer asks
 * for the next segment at 75% of the cap, a reader with the conversation open attaches to it on the server's
 * notice before the cap, the writer switches to it at the cap and the server closes the old one; nothing is
 * lost or reordered on the way, and a fresh device reads the whole history across both segments.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { SEGMENT_MAX_BYTES, SEGMENT_PREPARE_BYTES } from '@parley/shared/envelope';
import type { TestServer } from '../helpers/server.ts';
import { chatSetup, newDevice, texts, until, type TestUser } from './conversations-helpers.ts';

/** ~12 KB of text that differs per message (frames are encrypted, so repetition does not shrink them). */
const bigText = (i: number) => `${i} ` + Array.from({ length: 1200 }, (_, k) => ((i * 7919 + k * 104729) % 1_000_003).toString(36).padStart(4, '0')).join(' ').slice(0, 12_000);

describe('[SEG-4] next segment prepared ahead (postgres)', () => {
  const setup = chatSetup('alice', 'bob');
  let srv: TestServer;
  let alice: TestUser;
  let bob: TestUser;
  beforeEach(() => {
    srv = setup.srv;
    [alice, bob] = setup.users as [TestUser, TestUser];
  });

  it('a reader attaches to the next segment before the cap; the writer switches to it; nothing is lost or reordered', async () => {
    const a = await alice.client.createGroup('segments', [bob.username]);
    const b = await bob.client.open(a.id);
    const seg0 = a.info.segments.find((s) => s.state === 'open')!.id;
    const sent: string[] = [];
    const send = async () => {
      const t = bigText(sent.length);
      sent.push(t);
      await a.send(t);
    };
    const next = () => a.info.segments.find((s) => s.state === 'next');
    // Below 75% of the cap nothing is prepared.
    while (sent.length * 12_000 < SEGMENT_PREPARE_BYTES * 0.9) await send();
    expect(next()).toBeUndefined();
    // Past it, the writer prepares the next segment, and the reader attaches to it on the server's notice.
    const prepared = await until(async () => {
      await send();
      return next();
    }, 30_000, 'next segment prepared');
    expect(prepared.epoch).toBe(a.info.currentEpoch);
    await until(() => b.isLiveDoc(prepared.id), 15_000, 'reader attached ahead');
    expect(a.info.segments.find((s) => s.id === seg0)?.state).toBe('open'); // before the rollover
    // The writer crosses the cap: it writes to the prepared segment and the server closes the old one.
    await until(async () => {
      await send();
      return a.info.segments.find((s) => s.id === prepared.id)?.state === 'open';
    }, 60_000, 'rollover to the prepared segment');
    expect(sent.length * 12_000).toBeGreaterThan(SEGMENT_MAX_BYTES * 0.9);
    for (let i = 0; i < 5; i++) await send();
    expect(await a.whenDelivered(30_000)).toBe(true);
    await until(() => texts(b).length === sent.length, 30_000, 'reader has every message');
    expect(texts(b)).toEqual(sent);
    expect(texts(a)).toEqual(sent);
    expect(b.invalidFrames()).toEqual([]);
    const rows = await srv.query('SELECT id, state FROM segments WHERE conv_id = $1 ORDER BY idx', [a.id]);
    expect(rows.rows.map((r) => [r.id, r.state])).toEqual([
      [seg0, 'closed'],
      [prepared.id, 'open'],
    ]);

    // A fresh device of the reader gets both segments: the open one first, the closed one as history.
    const fresh = await newDevice(srv.url, bob.username);
    try {
      const f = await fresh.open(a.id);
      while (await f.loadOlder());
      await until(() => texts(f).length === sent.length, 30_000, 'fresh device has the whole history');
      expect(texts(f)).toEqual(sent);
    } finally {
      await fresh.stop();
    }
  });
});

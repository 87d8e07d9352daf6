/**
 * A device whose clock is behind does not put its reply above the message it answers: an entry's `ts` is at
 * least the newest seen message's plus 1 ms (messages are ordered by `(ts, id)`, [INNER-5]). Client core
 * against the real server (PostgreSQL).
 */
import { describe, expect, it, vi } from 'vitest';
import { chatSetup, texts, until, type TestUser } from './conversations-helpers.ts';

describe('clock skew (postgres)', () => {
  const setup = chatSetup('alice', 'bob');

  it('a reply from a device with a slower clock sorts after the message it answers', async () => {
    const [alice, bob] = setup.users as [TestUser, TestUser];
    const a = await alice.client.createDirect(bob.username);
    const b = await bob.client.open(a.id);
    // Alice's clock runs 5 minutes ahead of Bob's while she writes (the same as Bob's being 5 minutes behind).
    const real = Date.now.bind(Date);
    const ahead = vi.spyOn(Date, 'now').mockImplementation(() => real() + 5 * 60_000);
    try {
      await a.send('are you coming?');
    } finally {
      ahead.mockRestore();
    }
    await until(() => texts(b).includes('are you coming?'), 10_000, 'bob reads the question');
    await b.send('yes, on my way');
    await until(() => texts(a).includes('yes, on my way'), 10_000, 'alice reads the answer');
    for (const c of [a, b]) expect(texts(c)).toEqual(['are you coming?', 'yes, on my way']);
    const [q, r] = b.messages;
    expect(r!.ts).toBeGreaterThan(q!.ts);
    // A message stamped more than a day ahead is not followed: the next one keeps the writer's own clock (or
    // just after its own last entry, here the answer above).
    const far = vi.spyOn(Date, 'now').mockImplementation(() => real() + 3 * 24 * 3600_000);
    try {
      await a.send('from the far future');
    } finally {
      far.mockRestore();
    }
    await until(() => texts(b).includes('from the far future'), 10_000, 'bob reads it');
    const before = Date.now();
    await b.send('back to now');
    const mine = await until(() => b.messages.find((m) => m.text === 'back to now'), 10_000, 'bob sees his message');
    expect(mine.ts).toBeGreaterThanOrEqual(before);
    expect(mine.ts).toBeLessThan(before + 6 * 60_000);
    expect(texts(b).at(-1)).toBe('from the far future');
  });
});

/** `withTimeout`: the value, or undefined at the deadline; a wait that ended early leaves no timer behind. */
import { describe, expect, it } from 'vitest';
import { withTimeout } from '../src/client/timeout.ts';

/** Node's count of pending timers (shared's tests are typed without Node's globals). */
const node = (globalThis as unknown as { process: { getActiveResourcesInfo(): string[] } }).process;
const timers = () => node.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;

describe('withTimeout', () => {
  it('answers with the value and clears its timer at once', async () => {
    const before = timers();
    const v = withTimeout(Promise.resolve(42), 60_000);
    expect(timers()).toBe(before + 1);
    expect(await v).toBe(42);
    expect(timers()).toBe(before);
  });

  it('answers undefined at the deadline while the promise is still pending', async () => {
    const never = new Promise<number>(() => undefined);
    const t0 = performance.now();
    expect(await withTimeout(never, 30)).toBeUndefined();
    expect(performance.now() - t0).toBeGreaterThanOrEqual(25);
  });

  it('passes a rejection on and clears its timer', async () => {
    const before = timers();
    await expect(withTimeout(Promise.reject(new Error('boom')), 60_000)).rejects.toThrow('boom');
    expect(timers()).toBe(before);
  });
});

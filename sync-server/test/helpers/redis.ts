/**
 * Redis for tests: the machine's Redis (TEST_REDIS_URL, default redis://127.0.0.1:6379) with a unique
 * key prefix per run and a sweep of that prefix afterwards, and a private `redis-server` on a free port
 * that a test may pause (SIGSTOP: connections stay open, nothing answers) or kill, to play an outage.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { Redis as IORedis } from 'ioredis';

/** The shared test Redis. */
export const TEST_REDIS_URL = process.env['TEST_REDIS_URL'] ?? 'redis://127.0.0.1:6379';

/** A key prefix no other run uses: `parley-test:<random>:rl:`. */
export function uniqueRedisPrefix(): string {
  return `parley-test:${randomBytes(6).toString('hex')}:rl:`;
}

/** Every key under `prefix`, sorted (for assertions on key names and for cleanup). */
export async function redisKeys(url: string, prefix: string): Promise<string[]> {
  const redis = new IORedis(url);
  try {
    const keys: string[] = [];
    for await (const batch of redis.scanStream({ match: `${prefix}*`, count: 1000 })) keys.push(...(batch as string[]));
    return keys.sort();
  } finally {
    redis.disconnect();
  }
}

/** Deletes every key under `prefix` (cleanup after a test file). */
export async function deleteRedisKeys(url: string, prefix: string): Promise<void> {
  const keys = await redisKeys(url, prefix);
  if (keys.length === 0) return;
  const redis = new IORedis(url);
  try {
    await redis.del(...keys);
  } finally {
    redis.disconnect();
  }
}

/** A `redis-server` child process only this test talks to. */
export interface PrivateRedis {
  url: string;
  /** SIGSTOP: the TCP connections stay up but no command is answered. */
  pause(): void;
  resume(): void;
  /** SIGKILL and wait for exit. Idempotent. */
  kill(): Promise<void>;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

/** Starts `redis-server` (no persistence) on a free loopback port and waits until it answers PING. */
export async function startPrivateRedis(): Promise<PrivateRedis> {
  const port = await freePort();
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = `redis://127.0.0.1:${port}`;
  const deadline = Date.now() + 10_000;
  for (;;) {
    const probe = new IORedis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    probe.on('error', () => {});
    try {
      await probe.connect();
      await probe.ping();
      break;
    } catch (error) {
      if (Date.now() > deadline) {
        child.kill('SIGKILL');
        throw error;
      }
      await new Promise((r) => setTimeout(r, 50));
    } finally {
      probe.disconnect();
    }
  }
  let killed = false;
  return {
    url,
    pause: () => child.kill('SIGSTOP'),
    resume: () => child.kill('SIGCONT'),
    async kill() {
      if (killed) return;
      killed = true;
      child.kill('SIGKILL');
      await exited;
    },
  };
}

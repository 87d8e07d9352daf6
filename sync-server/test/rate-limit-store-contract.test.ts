/**
 * The `RateLimitStore` contract (STYLE.md: one contract suite for every interface with two
 * implementations): the in-memory store, the Redis store on the real test Redis, and the shared store
 * (Redis with memory behind it) must pass it unchanged. All run on an injected clock; the Redis store takes
 * it in place of Redis `TIME` (tests only). Then what only Redis has: key names without usernames or IPs,
 * TTLs, the real `TIME` clock, and atomicity across connections.
 */
import { randomBytes } from 'node:crypto';
import { Redis as IORedis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../src/log.ts';
import { DEFAULT_RATE_LIMITS, MemoryRateLimitStore, SharedRateLimitStore, type RateLimits, type RateLimitStore } from '../src/auth/rate-limit.ts';
import { RedisRateLimitStore } from '../src/auth/rate-limit-redis.ts';
import { deleteRedisKeys, redisKeys, TEST_REDIS_URL, uniqueRedisPrefix } from './helpers/redis.ts';

const LIMITS: RateLimits = {
  ...DEFAULT_RATE_LIMITS,
  auth: { capacity: 3, refillPerSecond: 1 / 10 },
  loginFailures: { capacity: 1, refillPerSecond: 1 },
  recoveryFailures: { capacity: 2, refillPerSecond: 1 / 60 },
  trustedPairSeconds: 60,
};

const PREFIX = uniqueRedisPrefix();
const SECRET = randomBytes(32).toString('base64url');

interface Harness {
  store: RateLimitStore;
  /** Moves the injected clock forward. */
  advance(ms: number): void;
}

/** Every implementation, each on its own clock and (for Redis) its own key namespace. */
const IMPLEMENTATIONS: Array<[string, () => Promise<Harness>]> = [
  [
    'MemoryRateLimitStore',
    async () => {
      let now = 1_000_000;
      return { store: new MemoryRateLimitStore(LIMITS, () => now), advance: (ms) => void (now += ms) };
    },
  ],
  [
    'RedisRateLimitStore',
    async () => {
      let now = 1_000_000;
      const store = new RedisRateLimitStore({ url: TEST_REDIS_URL, secret: SECRET, limits: LIMITS, prefix: `${PREFIX}${randomBytes(4).toString('hex')}:`, now: () => now });
      await store.connect();
      return { store, advance: (ms) => void (now += ms) };
    },
  ],
  [
    'SharedRateLimitStore (Redis + memory)',
    async () => {
      let now = 1_000_000;
      const clock = () => now;
      const redis = new RedisRateLimitStore({ url: TEST_REDIS_URL, secret: SECRET, limits: LIMITS, prefix: `${PREFIX}${randomBytes(4).toString('hex')}:`, now: clock });
      await redis.connect();
      const store = new SharedRateLimitStore(redis, new MemoryRateLimitStore(LIMITS, clock), { log: createLogger({ level: 'error' }), now: clock });
      return { store, advance: (ms) => void (now += ms) };
    },
  ],
];

afterAll(async () => {
  await deleteRedisKeys(TEST_REDIS_URL, PREFIX);
});

for (const [name, make] of IMPLEMENTATIONS) {
  describe(`RateLimitStore contract: ${name}`, () => {
    let h: Harness;
    beforeAll(async () => {
      h = await make();
    });
    afterAll(async () => {
      await h?.store.close();
    });

    it('allows a burst, then refills at the configured rate with an honest wait', async () => {
      const { store } = h;
      for (let i = 0; i < 3; i++) expect(await store.take('auth', '203.0.113.1')).toBe(0);
      expect(await store.take('auth', '203.0.113.1')).toBe(10);
      h.advance(4_000);
      expect(await store.waitSeconds('auth', '203.0.113.1')).toBe(6);
      h.advance(6_000);
      expect(await store.take('auth', '203.0.113.1')).toBe(0);
      expect(await store.take('auth', '203.0.113.1')).toBeGreaterThan(0);
      // Keys and buckets are independent.
      expect(await store.take('auth', '203.0.113.2')).toBe(0);
      expect(await store.take('register', '203.0.113.1')).toBe(0);
    });

    it('a refused take consumes nothing; a full bucket starts over at full', async () => {
      const { store } = h;
      for (let i = 0; i < 3; i++) await store.take('auth', 'refused');
      for (let i = 0; i < 5; i++) expect(await store.take('auth', 'refused')).toBe(10);
      h.advance(10_000); // exactly one token back: the refused takes left no debt
      expect(await store.take('auth', 'refused')).toBe(0);
      h.advance(3_600_000);
      for (let i = 0; i < 3; i++) expect(await store.take('auth', 'refused')).toBe(0);
      expect(await store.take('auth', 'refused')).toBe(10);
    });

    it('charge never fails and leaves no debt; waitSeconds never consumes', async () => {
      const { store } = h;
      expect(await store.waitSeconds('loginFailures', 'alice')).toBe(0);
      expect(await store.waitSeconds('loginFailures', 'alice')).toBe(0);
      await store.charge('loginFailures', 'alice');
      await store.charge('loginFailures', 'alice');
      await store.charge('loginFailures', 'alice');
      expect(await store.waitSeconds('loginFailures', 'alice')).toBe(1);
      h.advance(1_000);
      expect(await store.waitSeconds('loginFailures', 'alice')).toBe(0);
      expect(await store.waitSeconds('loginFailures', 'bob')).toBe(0);
    });

    it('fractional refill: the wait counts down second by second', async () => {
      const { store } = h;
      await store.charge('recoveryFailures', 'carol');
      await store.charge('recoveryFailures', 'carol');
      expect(await store.waitSeconds('recoveryFailures', 'carol')).toBe(60);
      h.advance(30_500);
      expect(await store.waitSeconds('recoveryFailures', 'carol')).toBe(30);
      h.advance(29_500);
      expect(await store.take('recoveryFailures', 'carol')).toBe(0);
      expect(await store.take('recoveryFailures', 'carol')).toBe(60);
    });

    it('a trusted (username, IP) pair is exactly that pair, and expires', async () => {
      const { store } = h;
      await store.trustPair('dave', '10.0.0.1');
      expect(await store.isTrustedPair('dave', '10.0.0.1')).toBe(true);
      expect(await store.isTrustedPair('dave', '10.0.0.2')).toBe(false);
      expect(await store.isTrustedPair('dave2', '10.0.0.1')).toBe(false);
      expect(await store.isTrustedPair('dave\u000010.0.0', '1')).toBe(false);
      h.advance(59_000);
      expect(await store.isTrustedPair('dave', '10.0.0.1')).toBe(true);
      await store.trustPair('dave', '10.0.0.1'); // a new login renews the exemption
      h.advance(59_000);
      expect(await store.isTrustedPair('dave', '10.0.0.1')).toBe(true);
      h.advance(2_000);
      expect(await store.isTrustedPair('dave', '10.0.0.1')).toBe(false);
    });
  });
}

describe('RedisRateLimitStore specifics', () => {
  const prefix = `${PREFIX}specific:`;
  const stores: RedisRateLimitStore[] = [];
  let redis: IORedis;
  const open = async (limits: RateLimits = LIMITS, secret = SECRET): Promise<RedisRateLimitStore> => {
    const store = new RedisRateLimitStore({ url: TEST_REDIS_URL, secret, limits, prefix });
    await store.connect();
    stores.push(store);
    return store;
  };
  beforeAll(() => {
    redis = new IORedis(TEST_REDIS_URL);
  });
  afterAll(async () => {
    for (const s of stores) await s.close();
    redis?.disconnect();
  });

  it('names keys <prefix><bucket>:<hash>, with no username or IP anywhere in Redis', async () => {
    const store = await open();
    const username = `canary${randomBytes(4).toString('hex')}`;
    const ip = '198.51.100.231';
    await store.take('auth', ip);
    await store.charge('loginFailures', username);
    await store.charge('recoveryFailures', username);
    await store.trustPair(username, ip);
    const keys = await redisKeys(TEST_REDIS_URL, prefix);
    expect(keys).toHaveLength(4);
    for (const key of keys) expect(key).toMatch(/^parley-test:[0-9a-f]{12}:rl:specific:(auth|loginFailures|recoveryFailures|trusted):[0-9a-f]{32}$/);
    // One username in two buckets does not give the same hash (not linkable across buckets).
    const hashes = keys.map((k) => k.split(':').at(-1));
    expect(new Set(hashes).size).toBe(4);
    for (const key of keys) {
      const value = (await redis.type(key)) === 'hash' ? JSON.stringify(await redis.hgetall(key)) : String(await redis.get(key));
      expect(`${key} ${value}`).not.toContain(username);
      expect(`${key} ${value}`).not.toContain(ip);
    }
    // Another server secret names other keys: the hash is keyed, not a plain digest of the username.
    const other = await open(LIMITS, randomBytes(32).toString('base64url'));
    await other.charge('loginFailures', username);
    expect(await redisKeys(TEST_REDIS_URL, prefix)).toHaveLength(5);
  });

  it('sets a TTL on every key: buckets until full again, pairs for the exemption', async () => {
    const store = await open({ ...LIMITS, trustedPairSeconds: 3600 });
    const before = new Set(await redisKeys(TEST_REDIS_URL, prefix));
    await store.charge('recoveryFailures', 'ttl-user'); // 1 of 2 tokens gone at 1/60 per second: full in 60 s
    await store.trustPair('ttl-user', '10.1.1.1');
    const added = (await redisKeys(TEST_REDIS_URL, prefix)).filter((k) => !before.has(k));
    expect(added).toHaveLength(2);
    for (const key of added) {
      const ttl = await redis.pttl(key);
      if (key.includes(':trusted:')) expect(ttl).toBeGreaterThan(3_590_000);
      else expect(ttl).toBeGreaterThan(55_000);
      expect(ttl).toBeLessThanOrEqual(key.includes(':trusted:') ? 3_600_000 : 60_000);
    }
  });

  it('refills on the Redis server clock (TIME), and a bucket that is full again is gone', async () => {
    const store = await open({ ...LIMITS, auth: { capacity: 1, refillPerSecond: 5 } });
    const before = new Set(await redisKeys(TEST_REDIS_URL, prefix));
    expect(await store.take('auth', 'clock')).toBe(0);
    expect(await store.take('auth', 'clock')).toBe(1);
    const [key] = (await redisKeys(TEST_REDIS_URL, prefix)).filter((k) => !before.has(k));
    expect(await redis.pttl(key!)).toBeLessThanOrEqual(200);
    await new Promise((r) => setTimeout(r, 250));
    expect(await redis.exists(key!)).toBe(0);
    expect(await store.take('auth', 'clock')).toBe(0);
  });

  it('is atomic across connections: 60 racing takes on a 10-token bucket from 3 clients win exactly 10', async () => {
    const limits = { ...LIMITS, auth: { capacity: 10, refillPerSecond: 1 / 3600 } };
    const clients = [await open(limits), await open(limits), await open(limits)];
    const results = await Promise.all(Array.from({ length: 60 }, (_, i) => clients[i % 3]!.take('auth', 'race')));
    expect(results.filter((w) => w === 0)).toHaveLength(10);
    expect(results.filter((w) => w > 0).every((w) => w >= 1)).toBe(true);
  });
});

/**
 * Account rate limits across instances (DESIGN §3, §6): two real servers on one PostgreSQL database and one
 * Redis grant ONE budget per username, not one each, and a (username, IP) pair trusted by one instance is
 * exempt on the other. Then a Redis outage mid-run (a private redis-server, paused then killed): requests
 * still finish promptly, decided from the instance's own memory, with one warning and no key material.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_RATE_LIMITS, type RateLimits } from '../src/auth/rate-limit.ts';
import { openSharedRateLimitStore, REDIS_TIMEOUT_MS } from '../src/auth/rate-limit-redis.ts';
import { createLogger } from '../src/log.ts';
import { b64, call, newAccount, uniqueName, type JsonResponse } from './helpers/accounts.ts';
import { deleteRedisKeys, redisKeys, startPrivateRedis, TEST_REDIS_URL, uniqueRedisPrefix, type PrivateRedis } from './helpers/redis.ts';
import { createTestDatabase, startTestServer, type TestDatabase, type TestServer } from './helpers/server.ts';

/** Four failed logins per username, then one per hour; everything else out of the way. */
const LIMITS: RateLimits = {
  ...DEFAULT_RATE_LIMITS,
  auth: { capacity: 1000, refillPerSecond: 1000 },
  register: { capacity: 1000, refillPerSecond: 1000 },
  loginFailures: { capacity: 4, refillPerSecond: 1 / 3600 },
};
const from = (ip: string) => ({ 'x-forwarded-for': ip });
const login = (url: string, username: string, authKey: string, ip: string): Promise<JsonResponse> =>
  call(url, 'POST', '/api/auth/login', { json: { username, authKey }, headers: from(ip) });

describe('two instances share one budget through Redis', () => {
  const prefix = uniqueRedisPrefix();
  let db: TestDatabase;
  let one: TestServer;
  let two: TestServer;
  beforeAll(async () => {
    db = await createTestDatabase();
    // TRUST_PROXY=loopback lets the test speak for different client IPs via X-Forwarded-For.
    const env = { JWT_SECRET: randomBytes(32).toString('base64url'), REDIS_URL: TEST_REDIS_URL, TRUST_PROXY: 'loopback' };
    const options = { backend: 'postgres', databaseUrl: db.url, rateLimits: LIMITS, rateLimitKeyPrefix: prefix, env } as const;
    one = await startTestServer(options);
    two = await startTestServer(options);
  });
  afterAll(async () => {
    await one?.close();
    await two?.close();
    await db?.drop();
    await deleteRedisKeys(TEST_REDIS_URL, prefix);
  });

  it('failed logins for one username spread over both instances exhaust one budget', async () => {
    const account = newAccount(uniqueName('spread'));
    expect((await call(one.url, 'POST', '/api/auth/register', { json: account.body })).status).toBe(201);
    // Four guesses, alternating instances and IPs: with per-instance buckets each instance would allow four.
    for (let i = 0; i < 4; i++) {
      const res = await login(i % 2 === 0 ? one.url : two.url, account.username, b64(32), `192.0.2.${i + 1}`);
      expect(res.status).toBe(401);
    }
    for (const server of [two, one]) {
      const limited = await login(server.url, account.username, account.authKey, '192.0.2.50');
      expect(limited.status).toBe(429);
      expect(Number(limited.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    }
    // Another username is untouched on both.
    const other = uniqueName('bystander');
    expect((await login(two.url, other, b64(32), '192.0.2.1')).status).toBe(401);
    expect(one.server.metrics.rateLimitFallbacks.get() + two.server.metrics.rateLimitFallbacks.get()).toBe(0);
  });

  it('a pair that logged in on one instance is exempt on the other while an attacker holds the username', async () => {
    const account = newAccount(uniqueName('owner'));
    const home = '198.51.100.7';
    expect((await call(one.url, 'POST', '/api/auth/register', { json: account.body, headers: from(home) })).status).toBe(201);
    expect((await login(one.url, account.username, account.authKey, home)).status).toBe(200);

    for (let i = 0; i < 4; i++) expect((await login(two.url, account.username, b64(32), `203.0.113.${i + 1}`)).status).toBe(401);
    expect((await login(two.url, account.username, account.authKey, '203.0.113.99')).status).toBe(429);
    expect((await login(one.url, account.username, account.authKey, '203.0.113.99')).status).toBe(429);

    // Instance two never saw the owner log in, yet knows the pair: no lock-out.
    const owner = await login(two.url, account.username, account.authKey, home);
    expect(owner.status).toBe(200);
    // The owner's own typo from home is not charged to the username either.
    expect((await login(two.url, account.username, b64(32), home)).status).toBe(401);
    expect((await login(one.url, account.username, account.authKey, home)).status).toBe(200);
  });

  it('keeps no username or IP in Redis key names', async () => {
    const keys = await redisKeys(TEST_REDIS_URL, prefix);
    expect(keys.length).toBeGreaterThan(0);
    for (const key of keys) expect(key.slice(prefix.length)).toMatch(/^(auth|register|loginFailures|trusted):[0-9a-f]{32}$/);
  });
});

describe('Redis outage mid-run', () => {
  const limits: RateLimits = { ...LIMITS, loginFailures: { capacity: 3, refillPerSecond: 1 / 3600 } };
  let redis: PrivateRedis;
  let t: TestServer;
  beforeAll(async () => {
    redis = await startPrivateRedis();
    t = await startTestServer({ backend: 'postgres', rateLimits: limits, env: { REDIS_URL: redis.url, TRUST_PROXY: 'loopback' } });
  });
  afterAll(async () => {
    await redis?.kill();
    await t?.close();
  });

  /** A login that must answer well within the request timeout (one bounded Redis call at most). */
  const timedLogin = async (username: string, authKey: string, ip: string): Promise<JsonResponse> => {
    const started = performance.now();
    const res = await login(t.url, username, authKey, ip);
    expect(performance.now() - started).toBeLessThan(REDIS_TIMEOUT_MS + 1_500);
    return res;
  };

  it('Redis paused, then gone: logins still answer promptly, limited by the instance memory', async () => {
    const account = newAccount(uniqueName('outage'));
    const home = '198.51.100.20';
    expect((await call(t.url, 'POST', '/api/auth/register', { json: account.body, headers: from(home) })).status).toBe(201);
    expect((await timedLogin(account.username, account.authKey, home)).status).toBe(200);
    // Two failures while Redis answers: charged in Redis and mirrored in memory.
    for (const ip of ['192.0.2.31', '192.0.2.32']) expect((await timedLogin(account.username, b64(32), ip)).status).toBe(401);
    expect(t.server.metrics.rateLimitFallbacks.get()).toBe(0);

    redis.pause(); // connections stay open, nothing answers: only the timeout ends a call
    expect((await timedLogin(account.username, account.authKey, home)).status).toBe(200);
    expect((await timedLogin(account.username, b64(32), '192.0.2.33')).status).toBe(401);
    // The third failure was the last token: memory remembered the two charged before the outage.
    const limited = await timedLogin(account.username, account.authKey, '192.0.2.34');
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    // The pair trusted before the outage is still exempt.
    expect((await timedLogin(account.username, account.authKey, home)).status).toBe(200);

    redis.resume();
    await redis.kill(); // connection refused from now on
    expect((await timedLogin(account.username, account.authKey, home)).status).toBe(200);
    expect((await timedLogin(account.username, account.authKey, '192.0.2.35')).status).toBe(429);
    expect((await call(t.url, 'POST', '/api/auth/prelogin', { json: { username: account.username }, headers: from('192.0.2.36') })).status).toBe(200);

    expect(t.server.metrics.rateLimitFallbacks.get()).toBeGreaterThan(0);
    const warnings = t.logs.filter((line) => line.includes('rate_limit.shared_store_unavailable'));
    expect(warnings).toHaveLength(1); // once a minute, however many calls failed
    for (const line of t.logs.filter((l) => l.includes('rate_limit'))) {
      expect(line).not.toContain(account.username);
      expect(line).not.toMatch(/192\.0\.2\.|198\.51\.100\./);
      expect(line).not.toContain('parley:rl:');
    }
  });
});

describe('Redis unreachable at start', () => {
  it('the shared store refuses promptly (the server does not start, as with the fan-out)', async () => {
    const redis = await startPrivateRedis();
    await redis.kill(); // a port nothing listens on any more
    const started = performance.now();
    await expect(
      openSharedRateLimitStore({ url: redis.url, secret: randomBytes(32).toString('base64url'), limits: LIMITS, log: createLogger({ level: 'error' }) }),
    ).rejects.toThrow();
    expect(performance.now() - started).toBeLessThan(3_000);
  });
});

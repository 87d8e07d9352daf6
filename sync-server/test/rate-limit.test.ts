/**
 * Rate limits: token-bucket arithmetic on a fake clock, then the documented budgets against a real server
 * (per-IP bursts, per-username failure bucket, and the lock-out exemption for a known (user, IP) pair).
 * The stores behind the limiter: rate-limit-store-contract.test.ts; several instances sharing them through
 * Redis, and Redis outages: rate-limit-shared.test.ts.
 */
import { SessionResponse } from '@parley/shared/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuthRateLimiter, DEFAULT_RATE_LIMITS, MemoryRateLimitStore, TokenBuckets } from '../src/auth/rate-limit.ts';
import { b64, call, errorCode, newAccount, uniqueName } from './helpers/accounts.ts';
import { startTestServer, type TestServer } from './helpers/server.ts';

describe('TokenBuckets (fake clock)', () => {
  it('allows a burst, then refills at the configured rate with an honest Retry-After', () => {
    let now = 0;
    const b = new TokenBuckets({ capacity: 3, refillPerSecond: 1 / 10 }, () => now);
    for (let i = 0; i < 3; i++) b.take('k');
    expect(() => b.take('k')).toThrowError(expect.objectContaining({ code: 'rate_limited', retryAfter: 10 }));
    now += 4_000;
    expect(b.waitSeconds('k')).toBe(6);
    now += 6_000;
    b.take('k');
    expect(() => b.take('k')).toThrow();
    b.take('other'); // keys are independent
  });

  it('charge never throws and check never consumes', () => {
    let now = 0;
    const b = new TokenBuckets({ capacity: 1, refillPerSecond: 1 }, () => now);
    b.check('k');
    b.check('k');
    b.charge('k');
    b.charge('k');
    expect(() => b.check('k')).toThrow();
    now += 1_000;
    b.check('k');
  });

});

describe('AuthRateLimiter over a store (fake clock; the stores have their own contract suite)', () => {
  it('take and check throw rate_limited with retryAfter; check never consumes; trusted pairs expire', async () => {
    let now = 0;
    const limits = { ...DEFAULT_RATE_LIMITS, auth: { capacity: 2, refillPerSecond: 1 / 30 }, trustedPairSeconds: 60 };
    const limiter = new AuthRateLimiter(limits, new MemoryRateLimitStore(limits, () => now));
    await limiter.auth.check('10.0.0.1');
    await limiter.auth.take('10.0.0.1');
    await limiter.auth.take('10.0.0.1');
    await expect(limiter.auth.take('10.0.0.1')).rejects.toMatchObject({ code: 'rate_limited', retryAfter: 30 });
    await expect(limiter.auth.check('10.0.0.1')).rejects.toMatchObject({ code: 'rate_limited', retryAfter: 30 });
    await limiter.loginFailures.charge('alice');
    await limiter.loginFailures.check('alice');
    await limiter.trustPair('alice', '10.0.0.1');
    expect(await limiter.isTrustedPair('alice', '10.0.0.1')).toBe(true);
    expect(await limiter.isTrustedPair('alice', '10.0.0.2')).toBe(false);
    now += 61_000;
    expect(await limiter.isTrustedPair('alice', '10.0.0.1')).toBe(false);
  });
});

describe('documented budgets on a real server', () => {
  let t: TestServer;
  beforeAll(async () => {
    // TRUST_PROXY=loopback lets the test speak for different client IPs via X-Forwarded-For.
    t = await startTestServer({ backend: 'postgres', rateLimits: DEFAULT_RATE_LIMITS, env: { TRUST_PROXY: 'loopback' } });
  });
  afterAll(async () => {
    await t?.close();
  });
  const from = (ip: string) => ({ 'x-forwarded-for': ip });

  it('prelogin + login: 30 per minute per IP, then 429 with Retry-After', async () => {
    for (let i = 0; i < 30; i++) {
      const res = await call(t.url, 'POST', '/api/auth/prelogin', { json: { username: 'alice' }, headers: from('203.0.113.1') });
      expect(res.status).toBe(200);
    }
    const limited = await call(t.url, 'POST', '/api/auth/login', { json: { username: 'alice', authKey: b64(32) }, headers: from('203.0.113.1') });
    expect(limited.status).toBe(429);
    expect(errorCode(limited.body)).toBe('rate_limited');
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    // Another IP is unaffected.
    expect((await call(t.url, 'POST', '/api/auth/prelogin', { json: { username: 'alice' }, headers: from('203.0.113.2') })).status).toBe(200);
  });

  it('register: 10 per hour per IP', async () => {
    for (let i = 0; i < 10; i++) {
      const res = await call(t.url, 'POST', '/api/auth/register', { json: {}, headers: from('203.0.113.3') });
      expect(res.status).toBe(400);
    }
    const limited = await call(t.url, 'POST', '/api/auth/register', { json: newAccount().body, headers: from('203.0.113.3') });
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(60);
  });

  it('failed logins slow down a username, but not its owner on a known IP', async () => {
    const account = newAccount(uniqueName('victim'));
    expect((await call(t.url, 'POST', '/api/auth/register', { json: account.body, headers: from('198.51.100.7') })).status).toBe(201);
    const owner = await call(t.url, 'POST', '/api/auth/login', { json: { username: account.username, authKey: account.authKey }, headers: from('198.51.100.7') });
    expect(owner.status).toBe(200);

    // The attacker spreads guesses over IPs to dodge the per-IP bucket; the per-username bucket still bites.
    for (let i = 0; i < 10; i++) {
      const res = await call(t.url, 'POST', '/api/auth/login', { json: { username: account.username, authKey: b64(32) }, headers: from(`192.0.2.${i + 1}`) });
      expect(res.status).toBe(401);
    }
    const blocked = await call(t.url, 'POST', '/api/auth/login', { json: { username: account.username, authKey: account.authKey }, headers: from('192.0.2.99') });
    expect(blocked.status).toBe(429);
    expect(Number(blocked.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);

    // The owner's known (username, IP) pair is exempt: no lock-out.
    const again = await call(t.url, 'POST', '/api/auth/login', { json: { username: account.username, authKey: account.authKey }, headers: from('198.51.100.7') });
    expect(again.status).toBe(200);
    SessionResponse.parse(again.body);
  });

  it('failed recoveries are limited per username too', async () => {
    const name = uniqueName('nobody');
    for (let i = 0; i < 10; i++) {
      const res = await call(t.url, 'POST', '/api/auth/recovery/start', { json: { username: name, recoveryAuthKey: b64(32) }, headers: from(`192.0.2.${100 + i}`) });
      expect(res.status).toBe(401);
    }
    const res = await call(t.url, 'POST', '/api/auth/recovery/start', { json: { username: name, recoveryAuthKey: b64(32) }, headers: from('192.0.2.200') });
    expect(res.status).toBe(429);
  });
});

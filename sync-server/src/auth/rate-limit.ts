/**
 * Token buckets for the account endpoints, and where they are kept.
 *
 * Default budgets (see `DEFAULT_RATE_LIMITS`):
 * | bucket                    | key             | burst | refill            | charged when             |
 * |---------------------------|-----------------|-------|-------------------|--------------------------|
 * | auth (prelogin + login)   | client IP       | 30    | 30 per minute     | every request            |
 * | register                  | client IP       | 10    | 10 per hour       | every request            |
 * | recovery (start+complete) | client IP       | 10    | 10 per hour       | every request            |
 * | login failures            | username key    | 10    | 1 per minute      | each failed login        |
 * | recovery failures         | username key    | 10    | 1 per minute      | each failed recovery     |
 *
 * Lock-out protection: a (username key, IP) pair that logged in successfully in the last 7 days is exempt
 * from the per-username login bucket, so an attacker hammering a name from elsewhere slows down only
 * themselves; the owner's usual device keeps working.
 *
 * Storage (`RateLimitStore`): a single instance keeps everything in memory (`MemoryRateLimitStore`). With
 * `REDIS_URL`, every instance uses the same buckets and trusted pairs in Redis (`RedisRateLimitStore` in
 * rate-limit-redis.ts, one atomic Lua script per operation), so N instances behind a load balancer grant
 * one budget, not N, and a pair trusted on one instance is trusted on all. Every instance must run with
 * the same budgets (RATE_LIMIT_MULTIPLIER) and the same JWT_SECRET (it keys the hashed Redis key names).
 *
 * Redis outage: `SharedRateLimitStore` bounds every Redis call by a short timeout and, when one fails,
 * decides that request from this instance's own in-memory buckets (which it keeps charged all along), so
 * logins keep working at per-instance strictness instead of hanging (fail-closed) or going unlimited
 * (fail-open). A warning is logged at most once a minute, never with key material.
 */
import { AppError } from '@parley/shared/protocol';
import type { Logger } from '../log.ts';

/** Burst size and refill rate of one bucket kind. */
export interface BucketSpec {
  readonly capacity: number;
  /** Tokens added per second. */
  readonly refillPerSecond: number;
}

/** All budgets; override in tests via `startServer(config, { rateLimits })`. */
export interface RateLimits {
  readonly auth: BucketSpec;
  readonly register: BucketSpec;
  readonly recovery: BucketSpec;
  readonly loginFailures: BucketSpec;
  readonly recoveryFailures: BucketSpec;
  /** How long a successful (username, IP) login exempts that pair from the per-username bucket. */
  readonly trustedPairSeconds: number;
}

/** The documented production budgets. */
export const DEFAULT_RATE_LIMITS: RateLimits = Object.freeze({
  auth: { capacity: 30, refillPerSecond: 30 / 60 },
  register: { capacity: 10, refillPerSecond: 10 / 3600 },
  recovery: { capacity: 10, refillPerSecond: 10 / 3600 },
  loginFailures: { capacity: 10, refillPerSecond: 1 / 60 },
  recoveryFailures: { capacity: 10, refillPerSecond: 1 / 60 },
  trustedPairSeconds: 7 * 24 * 3600,
});

/** `limits` with every bucket's burst and refill multiplied by `factor` (RATE_LIMIT_MULTIPLIER). */
export function scaleRateLimits(limits: RateLimits, factor: number): RateLimits {
  if (factor === 1) return limits;
  const scale = (b: BucketSpec): BucketSpec => ({ capacity: b.capacity * factor, refillPerSecond: b.refillPerSecond * factor });
  return Object.freeze({
    auth: scale(limits.auth),
    register: scale(limits.register),
    recovery: scale(limits.recovery),
    loginFailures: scale(limits.loginFailures),
    recoveryFailures: scale(limits.recoveryFailures),
    trustedPairSeconds: limits.trustedPairSeconds,
  });
}

/** The `rate_limited` error every bucket throws, carrying the seconds to wait. */
function rateLimited(retryAfter: number): AppError {
  return new AppError('rate_limited', 'Too many attempts; try again later', { retryAfter });
}

/** Upper bound on remembered keys per bucket kind, so a flood of distinct IPs cannot exhaust memory. */
const MAX_KEYS = 100_000;

interface Bucket {
  tokens: number;
  updatedMs: number;
}

/**
 * One kind of token bucket keyed by string. `take` either consumes a token or throws
 * `AppError('rate_limited')` carrying `retryAfter` seconds.
 */
export class TokenBuckets {
  readonly #spec: BucketSpec;
  readonly #now: () => number;
  readonly #buckets = new Map<string, Bucket>();

  constructor(spec: BucketSpec, now: () => number) {
    this.#spec = spec;
    this.#now = now;
  }

  #refill(key: string): Bucket {
    const now = this.#now();
    const bucket = this.#buckets.get(key) ?? { tokens: this.#spec.capacity, updatedMs: now };
    const elapsed = Math.max(0, now - bucket.updatedMs) / 1000;
    bucket.tokens = Math.min(this.#spec.capacity, bucket.tokens + elapsed * this.#spec.refillPerSecond);
    bucket.updatedMs = now;
    return bucket;
  }

  #store(key: string, bucket: Bucket): void {
    if (bucket.tokens >= this.#spec.capacity) {
      // A full bucket carries no information; forgetting it keeps the map small.
      this.#buckets.delete(key);
      return;
    }
    if (!this.#buckets.has(key) && this.#buckets.size >= MAX_KEYS) this.#sweep();
    this.#buckets.set(key, bucket);
  }

  #sweep(): void {
    for (const key of [...this.#buckets.keys()]) {
      if (this.#refill(key).tokens >= this.#spec.capacity) this.#buckets.delete(key);
    }
    // Still full of hot keys: drop the oldest entries (Map keeps insertion order) rather than grow.
    const excess = this.#buckets.size - MAX_KEYS + 1;
    if (excess > 0) for (const key of [...this.#buckets.keys()].slice(0, excess)) this.#buckets.delete(key);
  }

  /** Seconds until one token is available for `key` (0 when one is available now). */
  waitSeconds(key: string): number {
    const bucket = this.#refill(key);
    this.#store(key, bucket);
    if (bucket.tokens >= 1) return 0;
    return Math.max(1, Math.ceil((1 - bucket.tokens) / this.#spec.refillPerSecond));
  }

  /** Throws `rate_limited` when `key` has no token left; otherwise does nothing (peek, no charge). */
  check(key: string): void {
    const wait = this.waitSeconds(key);
    if (wait > 0) throw rateLimited(wait);
  }

  /** Consumes one token for `key` and returns 0, or consumes nothing and returns `waitSeconds(key)`. */
  tryTake(key: string): number {
    const wait = this.waitSeconds(key);
    if (wait > 0) return wait;
    const bucket = this.#refill(key);
    bucket.tokens -= 1;
    this.#store(key, bucket);
    return 0;
  }

  /** Consumes one token for `key`, or throws `rate_limited` when there is none. */
  take(key: string): void {
    const wait = this.tryTake(key);
    if (wait > 0) throw rateLimited(wait);
  }

  /** Consumes one token when available, never throws (used to charge failures after the fact). */
  charge(key: string): void {
    const bucket = this.#refill(key);
    bucket.tokens = Math.max(0, bucket.tokens - 1);
    this.#store(key, bucket);
  }
}

/** Names of the account buckets; each has a `BucketSpec` in `RateLimits`. */
export type BucketName = 'auth' | 'register' | 'recovery' | 'loginFailures' | 'recoveryFailures';

/**
 * Where the account limiter keeps its buckets and trusted pairs. Implementations receive their
 * `RateLimits` at construction and must pass `test/rate-limit-store-contract.test.ts`. Methods reject only
 * when the storage itself fails (never for want of tokens).
 */
export interface RateLimitStore {
  /** Seconds until `key` has a token in `bucket` (0: one is available now). Consumes nothing. */
  waitSeconds(bucket: BucketName, key: string): Promise<number>;
  /** Consumes one token and resolves 0 when one is available; otherwise consumes nothing and resolves the wait. */
  take(bucket: BucketName, key: string): Promise<number>;
  /** Consumes one token when there is one left; an empty bucket stays empty (no debt). */
  charge(bucket: BucketName, key: string): Promise<void>;
  /** Remembers for `trustedPairSeconds` that `usernameKey` logged in successfully from `ip`. */
  trustPair(usernameKey: string, ip: string): Promise<void>;
  /** True when the pair was trusted less than `trustedPairSeconds` ago. */
  isTrustedPair(usernameKey: string, ip: string): Promise<boolean>;
  /** Releases connections; later calls may reject. Idempotent. */
  close(): Promise<void>;
}

/** One instance's buckets and trusted pairs, in memory (bounded to `MAX_KEYS` entries each). */
export class MemoryRateLimitStore implements RateLimitStore {
  readonly #buckets: Readonly<Record<BucketName, TokenBuckets>>;
  readonly #trusted = new Map<string, number>();
  readonly #trustedMs: number;
  readonly #now: () => number;

  /** `now` returns milliseconds; inject a fake clock in tests. */
  constructor(limits: RateLimits, now: () => number = Date.now) {
    this.#now = now;
    this.#trustedMs = limits.trustedPairSeconds * 1000;
    this.#buckets = {
      auth: new TokenBuckets(limits.auth, now),
      register: new TokenBuckets(limits.register, now),
      recovery: new TokenBuckets(limits.recovery, now),
      loginFailures: new TokenBuckets(limits.loginFailures, now),
      recoveryFailures: new TokenBuckets(limits.recoveryFailures, now),
    };
  }

  async waitSeconds(bucket: BucketName, key: string): Promise<number> {
    return this.#buckets[bucket].waitSeconds(key);
  }

  async take(bucket: BucketName, key: string): Promise<number> {
    return this.#buckets[bucket].tryTake(key);
  }

  async charge(bucket: BucketName, key: string): Promise<void> {
    this.#buckets[bucket].charge(key);
  }

  async trustPair(usernameKey: string, ip: string): Promise<void> {
    const key = `${usernameKey}\u0000${ip}`;
    this.#trusted.delete(key);
    if (this.#trusted.size >= MAX_KEYS) {
      const oldest = this.#trusted.keys().next();
      if (oldest.done !== true) this.#trusted.delete(oldest.value);
    }
    this.#trusted.set(key, this.#now() + this.#trustedMs);
  }

  async isTrustedPair(usernameKey: string, ip: string): Promise<boolean> {
    const key = `${usernameKey}\u0000${ip}`;
    const until = this.#trusted.get(key);
    if (until === undefined) return false;
    if (until <= this.#now()) {
      this.#trusted.delete(key);
      return false;
    }
    return true;
  }

  async close(): Promise<void> {}
}

/** After a failed shared-store call, how long this instance decides alone before trying Redis again. */
const SHARED_RETRY_MS = 5_000;
/** At most one outage warning per this many milliseconds. */
const WARN_EVERY_MS = 60_000;
const FAILED: unique symbol = Symbol('failed');

/** Options for `SharedRateLimitStore`. */
export interface SharedRateLimitStoreOptions {
  log: Logger;
  /** Called once per decision taken locally because the shared store failed (a metrics counter). */
  onFallback?: () => void;
  /** Milliseconds clock for the retry pause and the warning interval (tests). */
  now?: () => number;
}

/**
 * The shared store (Redis) with this instance's memory behind it. While the shared store answers, it
 * decides; every charge and trusted pair is also written to memory, so the local view is warm when the
 * shared one fails. When a call fails (error or timeout: the shared store bounds its own calls), that
 * decision comes from memory, and memory alone decides for `SHARED_RETRY_MS`, so an outage costs at most
 * one timeout per pause instead of one per call. A pair trusted in either store counts as trusted (a
 * restarted Redis without persistence forgets pairs; the owner's usual instance still remembers).
 */
export class SharedRateLimitStore implements RateLimitStore {
  readonly #shared: RateLimitStore;
  readonly #local: MemoryRateLimitStore;
  readonly #log: Logger;
  readonly #onFallback: () => void;
  readonly #now: () => number;
  #pauseUntil = 0;
  #lastWarning = -Infinity;
  #unreported = 0;

  constructor(shared: RateLimitStore, local: MemoryRateLimitStore, options: SharedRateLimitStoreOptions) {
    this.#shared = shared;
    this.#local = local;
    this.#log = options.log;
    this.#onFallback = options.onFallback ?? (() => {});
    this.#now = options.now ?? Date.now;
  }

  /** Counts a shared-store failure and logs it at most once per `WARN_EVERY_MS` (message only, no keys). */
  reportFailure(error: unknown): void {
    this.#unreported += 1;
    const now = this.#now();
    if (now - this.#lastWarning < WARN_EVERY_MS) return;
    this.#lastWarning = now;
    const reason = error instanceof Error ? error.message.slice(0, 200) : 'unknown';
    this.#log.warn('rate_limit.shared_store_unavailable', { reason, failures: this.#unreported, fallback: 'instance memory' });
    this.#unreported = 0;
  }

  async #tryShared<T>(op: (store: RateLimitStore) => Promise<T>): Promise<T | typeof FAILED> {
    if (this.#now() >= this.#pauseUntil) {
      try {
        return await op(this.#shared);
      } catch (error) {
        this.#pauseUntil = this.#now() + SHARED_RETRY_MS;
        this.reportFailure(error);
      }
    }
    this.#onFallback();
    return FAILED;
  }

  async waitSeconds(bucket: BucketName, key: string): Promise<number> {
    const wait = await this.#tryShared((s) => s.waitSeconds(bucket, key));
    return wait === FAILED ? this.#local.waitSeconds(bucket, key) : wait;
  }

  async take(bucket: BucketName, key: string): Promise<number> {
    const wait = await this.#tryShared((s) => s.take(bucket, key));
    if (wait === FAILED) return this.#local.take(bucket, key);
    if (wait === 0) await this.#local.charge(bucket, key);
    return wait;
  }

  async charge(bucket: BucketName, key: string): Promise<void> {
    await this.#tryShared((s) => s.charge(bucket, key));
    await this.#local.charge(bucket, key);
  }

  async trustPair(usernameKey: string, ip: string): Promise<void> {
    await this.#tryShared((s) => s.trustPair(usernameKey, ip));
    await this.#local.trustPair(usernameKey, ip);
  }

  async isTrustedPair(usernameKey: string, ip: string): Promise<boolean> {
    if (await this.#local.isTrustedPair(usernameKey, ip)) return true;
    return (await this.#tryShared((s) => s.isTrustedPair(usernameKey, ip))) === true;
  }

  async close(): Promise<void> {
    await this.#shared.close();
    await this.#local.close();
  }
}

/** One bucket kind of the limiter: `take` and `check` throw `AppError('rate_limited')` with `retryAfter`. */
export interface LimiterBucket {
  /** Consumes one token for `key`, or throws `rate_limited` when there is none. */
  take(key: string): Promise<void>;
  /** Throws `rate_limited` when `key` has no token left; otherwise does nothing (peek, no charge). */
  check(key: string): Promise<void>;
  /** Consumes one token when available, never throws for want of one (charges failures after the fact). */
  charge(key: string): Promise<void>;
}

/** The limiter the account routes use: the documented buckets over one `RateLimitStore`. */
export class AuthRateLimiter {
  readonly auth: LimiterBucket;
  readonly register: LimiterBucket;
  readonly recovery: LimiterBucket;
  readonly loginFailures: LimiterBucket;
  readonly recoveryFailures: LimiterBucket;
  readonly #store: RateLimitStore;

  /** Defaults to an in-memory store (single instance); `startServer` passes a shared one with REDIS_URL. */
  constructor(limits: RateLimits = DEFAULT_RATE_LIMITS, store: RateLimitStore = new MemoryRateLimitStore(limits)) {
    this.#store = store;
    const bucket = (name: BucketName): LimiterBucket => ({
      take: async (key) => {
        const wait = await store.take(name, key);
        if (wait > 0) throw rateLimited(wait);
      },
      check: async (key) => {
        const wait = await store.waitSeconds(name, key);
        if (wait > 0) throw rateLimited(wait);
      },
      charge: (key) => store.charge(name, key),
    });
    this.auth = bucket('auth');
    this.register = bucket('register');
    this.recovery = bucket('recovery');
    this.loginFailures = bucket('loginFailures');
    this.recoveryFailures = bucket('recoveryFailures');
  }

  /** Remembers that `usernameKey` logged in successfully from `ip`. */
  trustPair(usernameKey: string, ip: string): Promise<void> {
    return this.#store.trustPair(usernameKey, ip);
  }

  /** True when the pair logged in successfully within `trustedPairSeconds`. */
  isTrustedPair(usernameKey: string, ip: string): Promise<boolean> {
    return this.#store.isTrustedPair(usernameKey, ip);
  }

  /** Releases the store's connections (server shutdown). */
  close(): Promise<void> {
    return this.#store.close();
  }
}

/**
 * In-memory token buckets for the account endpoints (per instance; with several instances each enforces
 * its own budget, which multiplies the allowance by the instance count: acceptable for these limits).
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
 */
import { AppError } from '@parley/shared/protocol';

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
    if (wait > 0) throw new AppError('rate_limited', 'Too many attempts; try again later', { retryAfter: wait });
  }

  /** Consumes one token for `key`, or throws `rate_limited` when there is none. */
  take(key: string): void {
    this.check(key);
    const bucket = this.#refill(key);
    bucket.tokens -= 1;
    this.#store(key, bucket);
  }

  /** Consumes one token when available, never throws (used to charge failures after the fact). */
  charge(key: string): void {
    const bucket = this.#refill(key);
    bucket.tokens = Math.max(0, bucket.tokens - 1);
    this.#store(key, bucket);
  }
}

/** The limiter the account routes use. */
export class AuthRateLimiter {
  readonly auth: TokenBuckets;
  readonly register: TokenBuckets;
  readonly recovery: TokenBuckets;
  readonly loginFailures: TokenBuckets;
  readonly recoveryFailures: TokenBuckets;
  readonly #trusted = new Map<string, number>();
  readonly #limits: RateLimits;
  readonly #now: () => number;

  /** `now` returns milliseconds; inject a fake clock in tests. */
  constructor(limits: RateLimits = DEFAULT_RATE_LIMITS, now: () => number = Date.now) {
    this.#limits = limits;
    this.#now = now;
    this.auth = new TokenBuckets(limits.auth, now);
    this.register = new TokenBuckets(limits.register, now);
    this.recovery = new TokenBuckets(limits.recovery, now);
    this.loginFailures = new TokenBuckets(limits.loginFailures, now);
    this.recoveryFailures = new TokenBuckets(limits.recoveryFailures, now);
  }

  /** Remembers that `usernameKey` logged in successfully from `ip`. */
  trustPair(usernameKey: string, ip: string): void {
    const key = `${usernameKey}\u0000${ip}`;
    this.#trusted.delete(key);
    if (this.#trusted.size >= MAX_KEYS) {
      const oldest = this.#trusted.keys().next();
      if (oldest.done !== true) this.#trusted.delete(oldest.value);
    }
    this.#trusted.set(key, this.#now() + this.#limits.trustedPairSeconds * 1000);
  }

  /** True when the pair logged in successfully within `trustedPairSeconds`. */
  isTrustedPair(usernameKey: string, ip: string): boolean {
    const key = `${usernameKey}\u0000${ip}`;
    const until = this.#trusted.get(key);
    if (until === undefined) return false;
    if (until <= this.#now()) {
      this.#trusted.delete(key);
      return false;
    }
    return true;
  }
}

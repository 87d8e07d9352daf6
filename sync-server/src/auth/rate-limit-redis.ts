/**
 * The account rate limits in Redis, shared by every instance (docs/operations.md "Scaling").
 *
 * Each operation is one Lua script, so a bucket is refilled, checked and charged atomically however many
 * instances race on it. The refill uses the Redis server's clock (`TIME`), so instances with skewed
 * clocks still agree. A bucket is a hash `{t: tokens, ms: last update}` that expires when it would be
 * full again (a full bucket carries no information); a trusted pair is a string holding its expiry, with
 * the exemption's TTL. Requires Redis >= 5 (scripts replicate their effects, so `TIME` is allowed).
 *
 * Key names never hold a username or an IP in clear: `<prefix><bucket>:<HMAC-SHA-256 of the key>`, keyed
 * from the server secret (the same JWT_SECRET on every instance, so all instances name a bucket alike).
 *
 * Every call is bounded by `REDIS_TIMEOUT_MS` and fails at once while the connection is down (no offline
 * queue): `SharedRateLimitStore` turns a failure into a local decision, never a hung request.
 */
import { createHmac } from 'node:crypto';
import { Redis as IORedis } from 'ioredis';
import type { Logger } from '../log.ts';
import { deriveServerKey } from './tokens.ts';
import { MemoryRateLimitStore, SharedRateLimitStore, type BucketName, type RateLimits, type RateLimitStore } from './rate-limit.ts';

/** Context string for the key that hashes rate-limit key names. */
export const RATE_LIMIT_KEY_CONTEXT = 'parley/server/rate-limit-keys/v1';

/** Default namespace of the limiter's Redis keys. */
export const RATE_LIMIT_KEY_PREFIX = 'parley:rl:';

/** Upper bound on one Redis call (a login makes up to four); a slower answer counts as a failure. */
export const REDIS_TIMEOUT_MS = 250;

/** Bytes of the HMAC kept in key names (128 bits: collisions are not a concern). */
const HASH_BYTES = 16;

/** Lua setting `now` (ms) from the argument `arg` when the store has an injected clock, else from Redis `TIME`. */
function luaNow(arg: string): string {
  return `local now = tonumber(${arg})
if now == nil then
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
`;
}

/** KEYS[1] bucket. ARGV: capacity, refill per second, op (check | take | charge), now in ms or ''. Returns the wait in seconds. */
const BUCKET_SCRIPT = `
local capacity = tonumber(ARGV[1])
local rate = tonumber(ARGV[2])
local op = ARGV[3]
${luaNow('ARGV[4]')}
local state = redis.call('HMGET', KEYS[1], 't', 'ms')
local tokens = tonumber(state[1])
local last = tonumber(state[2])
if tokens == nil or last == nil then
  tokens = capacity
  last = now
end
tokens = math.min(capacity, tokens + math.max(0, now - last) / 1000 * rate)
local wait = 0
if tokens < 1 then wait = math.max(1, math.ceil((1 - tokens) / rate)) end
if op == 'check' then return wait end
if op == 'take' then
  if wait > 0 then return wait end
  tokens = tokens - 1
else
  tokens = math.max(0, tokens - 1)
end
if tokens >= capacity then
  redis.call('DEL', KEYS[1])
else
  redis.call('HSET', KEYS[1], 't', tostring(tokens), 'ms', tostring(now))
  redis.call('PEXPIRE', KEYS[1], math.ceil((capacity - tokens) / rate * 1000))
end
if op == 'take' then return 0 end
return wait
`;

/** KEYS[1] pair. ARGV: TTL in ms, now in ms or ''. Stores the expiry, with that TTL. */
const TRUST_SCRIPT = `
local ttl = tonumber(ARGV[1])
${luaNow('ARGV[2]')}
redis.call('SET', KEYS[1], tostring(now + ttl), 'PX', ttl)
return 1
`;

/** KEYS[1] pair. ARGV: now in ms or ''. Returns 1 while the stored expiry is in the future. */
const TRUSTED_SCRIPT = `
local untilMs = tonumber(redis.call('GET', KEYS[1]))
if untilMs == nil then return 0 end
${luaNow('ARGV[1]')}
if untilMs > now then return 1 end
return 0
`;

/** The client with the scripts defined on it (ioredis `defineCommand`: EVALSHA, EVAL on NOSCRIPT). */
type ScriptedRedis = IORedis & {
  parleyBucket(key: string, capacity: string, rate: string, op: string, now: string): Promise<number>;
  parleyTrust(key: string, ttlMs: string, now: string): Promise<number>;
  parleyTrusted(key: string, now: string): Promise<number>;
};

/** Options for `RedisRateLimitStore`. */
export interface RedisRateLimitStoreOptions {
  url: string;
  /** The server secret (JWT_SECRET); only a derived key is kept, to hash key names. */
  secret: string;
  limits: RateLimits;
  /** Namespace of every key (default `RATE_LIMIT_KEY_PREFIX`; tests use a unique one per run). */
  prefix?: string;
  /** Connection errors (the client reconnects by itself); calls made meanwhile reject at once. */
  onError?: (error: Error) => void;
  /**
   * Milliseconds clock passed to the scripts instead of Redis `TIME` (contract tests only: production
   * must use the one clock every instance shares).
   */
  now?: () => number;
}

/** Token buckets and trusted pairs in Redis. Calls reject on timeout or a lost connection. */
export class RedisRateLimitStore implements RateLimitStore {
  readonly #redis: ScriptedRedis;
  readonly #limits: RateLimits;
  readonly #prefix: string;
  readonly #hashKey: Buffer;
  readonly #now: (() => number) | null;

  constructor(options: RedisRateLimitStoreOptions) {
    const redis = new IORedis(options.url, {
      lazyConnect: true,
      enableOfflineQueue: false,
      commandTimeout: REDIS_TIMEOUT_MS,
      maxRetriesPerRequest: 0,
      connectTimeout: 2_000,
    });
    redis.on('error', (error: Error) => options.onError?.(error));
    redis.defineCommand('parleyBucket', { numberOfKeys: 1, lua: BUCKET_SCRIPT });
    redis.defineCommand('parleyTrust', { numberOfKeys: 1, lua: TRUST_SCRIPT });
    redis.defineCommand('parleyTrusted', { numberOfKeys: 1, lua: TRUSTED_SCRIPT });
    this.#redis = redis as ScriptedRedis;
    this.#limits = options.limits;
    this.#prefix = options.prefix ?? RATE_LIMIT_KEY_PREFIX;
    this.#hashKey = deriveServerKey(options.secret, RATE_LIMIT_KEY_CONTEXT);
    this.#now = options.now ?? null;
  }

  /** Connects (startServer awaits this, so the first requests already share budgets). Rejects when Redis is unreachable. */
  async connect(): Promise<void> {
    await this.#redis.connect();
  }

  /** `<prefix><kind>:<hex HMAC of kind and key>`: namespaced, and no username or IP in clear. */
  #key(kind: BucketName | 'trusted', key: string): string {
    const hash = createHmac('sha256', this.#hashKey).update(`${kind}\u0000${key}`).digest().subarray(0, HASH_BYTES);
    return `${this.#prefix}${kind}:${hash.toString('hex')}`;
  }

  #nowArg(): string {
    return this.#now === null ? '' : String(this.#now());
  }

  #bucket(bucket: BucketName, key: string, op: 'check' | 'take' | 'charge'): Promise<number> {
    const spec = this.#limits[bucket];
    return this.#redis.parleyBucket(this.#key(bucket, key), String(spec.capacity), String(spec.refillPerSecond), op, this.#nowArg());
  }

  async waitSeconds(bucket: BucketName, key: string): Promise<number> {
    return this.#bucket(bucket, key, 'check');
  }

  async take(bucket: BucketName, key: string): Promise<number> {
    return this.#bucket(bucket, key, 'take');
  }

  async charge(bucket: BucketName, key: string): Promise<void> {
    await this.#bucket(bucket, key, 'charge');
  }

  async trustPair(usernameKey: string, ip: string): Promise<void> {
    const ttlMs = Math.max(1, Math.round(this.#limits.trustedPairSeconds * 1000));
    await this.#redis.parleyTrust(this.#key('trusted', `${usernameKey}\u0000${ip}`), String(ttlMs), this.#nowArg());
  }

  async isTrustedPair(usernameKey: string, ip: string): Promise<boolean> {
    return (await this.#redis.parleyTrusted(this.#key('trusted', `${usernameKey}\u0000${ip}`), this.#nowArg())) === 1;
  }

  async close(): Promise<void> {
    this.#redis.disconnect();
  }
}

/** Options for `openSharedRateLimitStore`. */
export interface SharedRateLimitOptions {
  url: string;
  secret: string;
  limits: RateLimits;
  log: Logger;
  prefix?: string;
  /** Called once per decision taken from this instance's memory because Redis failed. */
  onFallback?: () => void;
}

/**
 * The account limiter's store when REDIS_URL is set: Redis shared by every instance, this instance's
 * memory behind it for outages. Connects first; rejects (having closed its connection) when Redis is
 * unreachable at start, like the fan-out does.
 */
export async function openSharedRateLimitStore(options: SharedRateLimitOptions): Promise<SharedRateLimitStore> {
  let shared: SharedRateLimitStore | null = null;
  const redis = new RedisRateLimitStore({
    url: options.url,
    secret: options.secret,
    limits: options.limits,
    ...(options.prefix !== undefined ? { prefix: options.prefix } : {}),
    onError: (error) => shared?.reportFailure(error),
  });
  try {
    await redis.connect();
  } catch (error) {
    await redis.close();
    throw error;
  }
  shared = new SharedRateLimitStore(redis, new MemoryRateLimitStore(options.limits), {
    log: options.log,
    ...(options.onFallback ? { onFallback: options.onFallback } : {}),
  });
  return shared;
}

/**
 * Server configuration: the ONLY module that reads environment variables (they are passed in, so tests
 * can hand over a plain object). Everything is validated with zod and returned as a frozen object.
 *
 * Path rule: a relative DATA_DIR (and TLS file paths) are resolved against the directory the operator typed
 * the command in: `INIT_CWD` when npm set it (so `npm start` from the repo root keeps data in `<repo>/data`
 * even though the workspace script runs with cwd = sync-server/), else the process working directory.
 */
import { isIP } from 'node:net';
import path from 'node:path';
import { z } from 'zod';

/** Log levels, most verbose first. */
export const LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** Express `trust proxy` setting: false, true, a hop count, or a list of addresses / CIDRs / keywords. */
export type TrustProxy = boolean | number | readonly string[];

/** Validated, frozen server configuration. */
export interface Config {
  readonly port: number;
  readonly host: string;
  /** Absolute path of the data directory (PGlite files, generated JWT secret). */
  readonly dataDir: string;
  /** PostgreSQL connection string; null means embedded PGlite in `<dataDir>/pglite`. */
  readonly databaseUrl: string | null;
  /** Redis URL linking instances (document relay, fan-out, presence, account rate limits); null means a single instance. */
  readonly redisUrl: string | null;
  /** JWT signing secret (>= 32 chars); null means "load or create `<dataDir>/jwt-secret`" at start. */
  readonly jwtSecret: string | null;
  /** Extra origins allowed to make state-changing requests (same-origin is always allowed). */
  readonly allowedOrigins: readonly string[];
  /** TLS certificate and key files (absolute), both or neither. */
  readonly tls: { readonly certFile: string; readonly keyFile: string } | null;
  readonly trustProxy: TrustProxy;
  readonly logLevel: LogLevel;
  readonly accessTokenTtlSeconds: number;
  /** Largest file one blob may hold (plaintext bytes). */
  readonly blobMaxBytes: number;
  /** Most sealed blob bytes one user may store (uploads in progress included). */
  readonly blobQuotaBytes: number;
  /** Seconds an unattached or incomplete blob is kept before garbage collection. */
  readonly blobGraceSeconds: number;
  /** Multiplies every account rate-limit budget (1 in production; larger for test and benchmark rigs). */
  readonly rateLimitMultiplier: number;
  /** Directory of the built PWA to serve (absolute); null means the repository's app/dist. */
  readonly appDir: string | null;
}

/** One row per environment variable, kept next to the parser so the README can be checked against it. */
export const CONFIG_DOCS: ReadonlyArray<{ readonly name: string; readonly default: string; readonly description: string }> = [
  { name: 'PORT', default: '8080', description: 'TCP port (0 picks a free port).' },
  { name: 'HOST', default: '127.0.0.1', description: 'Listen address. A non-loopback address needs TLS_CERT_FILE/TLS_KEY_FILE or TRUST_PROXY.' },
  { name: 'DATA_DIR', default: './data', description: 'Data directory (PGlite files, generated JWT secret). Relative paths resolve against INIT_CWD (where `npm start` was typed), else the working directory.' },
  { name: 'DATABASE_URL', default: '(unset)', description: 'postgres:// URL. Unset: embedded PGlite in DATA_DIR/pglite.' },
  { name: 'REDIS_URL', default: '(unset)', description: 'redis:// URL for running several instances. Unset: single instance. Requires JWT_SECRET.' },
  { name: 'JWT_SECRET', default: '(generated)', description: 'At least 32 characters. Unset: 32 random bytes generated once into DATA_DIR/jwt-secret (mode 0600) and reused.' },
  { name: 'ALLOWED_ORIGINS', default: '(none)', description: 'Comma-separated extra origins (https://host[:port]) allowed to make state-changing requests. Same-origin is always allowed.' },
  { name: 'TLS_CERT_FILE', default: '(unset)', description: 'PEM certificate; with TLS_KEY_FILE the server speaks HTTPS and sends HSTS. Both or neither.' },
  { name: 'TLS_KEY_FILE', default: '(unset)', description: 'PEM private key for TLS_CERT_FILE.' },
  { name: 'TRUST_PROXY', default: 'false', description: 'Set when behind a TLS-terminating proxy: "true", "loopback", a hop count, or a comma list of IPs/CIDRs (express "trust proxy").' },
  { name: 'LOG_LEVEL', default: 'info', description: 'debug | info | warn | error.' },
  { name: 'ACCESS_TOKEN_TTL_SECONDS', default: '600', description: 'Lifetime of access JWTs (60..3600).' },
  { name: 'BLOB_MAX_BYTES', default: '104857600', description: 'Largest file (bytes, before encryption) one upload may hold; larger uploads are refused with 413 before any byte is stored.' },
  { name: 'BLOB_QUOTA_BYTES', default: '1073741824', description: 'Most encrypted file bytes one user may have stored, uploads in progress included (413 quota_exceeded beyond).' },
  { name: 'RATE_LIMIT_MULTIPLIER', default: '1', description: 'Multiplies every account rate-limit budget (burst and refill). Keep 1 in production; test rigs that register many users from one IP raise it (1..10000).' },
  { name: 'APP_DIR', default: '(app/dist)', description: 'Directory of the built PWA to serve (index.html, assets, service worker), e.g. a build made in another CI step. Relative paths resolve like DATA_DIR.' },
  { name: 'BLOB_GRACE_SECONDS', default: '86400', description: 'Seconds an upload may stay incomplete, or complete but never attached to a sent message, before garbage collection deletes it (1..2592000).' },
];

/** Thrown by `loadConfig` with one line per bad variable; never includes the values themselves. */
export class ConfigError extends Error {
  readonly problems: readonly string[];
  constructor(problems: readonly string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

const optionalText = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v.trim() === '' ? undefined : v.trim()));

const TRUST_KEYWORDS = new Set(['loopback', 'linklocal', 'uniquelocal']);

function isAddressOrCidr(entry: string): boolean {
  if (TRUST_KEYWORDS.has(entry)) return true;
  const [addr, bits, ...rest] = entry.split('/');
  if (rest.length > 0 || addr === undefined) return false;
  const family = isIP(addr);
  if (family === 0) return false;
  if (bits === undefined) return true;
  if (!/^\d{1,3}$/.test(bits)) return false;
  return Number(bits) <= (family === 4 ? 32 : 128);
}

const EnvSchema = z
  .object({
    PORT: optionalText.pipe(
      z
        .string()
        .regex(/^\d{1,5}$/, 'must be an integer 0..65535')
        .transform(Number)
        .refine((n) => n <= 65535, 'must be an integer 0..65535')
        .default(8080),
    ),
    HOST: optionalText.pipe(z.string().min(1).max(255).regex(/^[A-Za-z0-9.:%-]+$/, 'must be an IP address or hostname').default('127.0.0.1')),
    DATA_DIR: optionalText.pipe(z.string().default('./data')),
    APP_DIR: optionalText,
    INIT_CWD: optionalText,
    DATABASE_URL: optionalText.pipe(
      z.string().regex(/^postgres(ql)?:\/\/./, 'must be a postgres:// or postgresql:// URL').optional(),
    ),
    REDIS_URL: optionalText.pipe(z.string().regex(/^rediss?:\/\/./, 'must be a redis:// or rediss:// URL').optional()),
    JWT_SECRET: optionalText.pipe(z.string().min(32, 'must be at least 32 characters').max(1024).optional()),
    ALLOWED_ORIGINS: optionalText.pipe(
      z
        .string()
        .transform((s) => s.split(',').map((o) => o.trim().replace(/\/$/, '')).filter((o) => o !== ''))
        .refine((list) => list.every(isOrigin), 'must be a comma-separated list of origins like https://chat.example.org')
        .default([]),
    ),
    TLS_CERT_FILE: optionalText,
    TLS_KEY_FILE: optionalText,
    TRUST_PROXY: optionalText.pipe(
      z
        .string()
        .transform((s): TrustProxy => {
          if (s === 'true') return true;
          if (s === 'false') return false;
          if (/^\d{1,2}$/.test(s)) return Number(s);
          return s.split(',').map((e) => e.trim()).filter((e) => e !== '');
        })
        .refine(
          (v) => typeof v !== 'object' || (v.length > 0 && v.every(isAddressOrCidr)),
          'must be "true", "false", a hop count, or a comma list of IPs/CIDRs/loopback/linklocal/uniquelocal',
        )
        .default(false),
    ),
    LOG_LEVEL: optionalText.pipe(z.enum(LOG_LEVELS).default('info')),
    ACCESS_TOKEN_TTL_SECONDS: optionalText.pipe(
      z
        .string()
        .regex(/^\d{1,5}$/, 'must be an integer 60..3600')
        .transform(Number)
        .refine((n) => n >= 60 && n <= 3600, 'must be an integer 60..3600')
        .default(600),
    ),
    RATE_LIMIT_MULTIPLIER: optionalText.pipe(
      z
        .string()
        .regex(/^\d{1,5}$/, 'must be an integer 1..10000')
        .transform(Number)
        .refine((n) => n >= 1 && n <= 10_000, 'must be an integer 1..10000')
        .default(1),
    ),
    BLOB_MAX_BYTES: byteCount(104_857_600),
    BLOB_QUOTA_BYTES: byteCount(1_073_741_824),
    BLOB_GRACE_SECONDS: optionalText.pipe(
      z
        .string()
        .regex(/^\d{1,7}$/, 'must be an integer 1..2592000')
        .transform(Number)
        .refine((n) => n >= 1 && n <= 2_592_000, 'must be an integer 1..2592000')
        .default(86_400),
    ),
  });

/** A byte count variable: an integer from 1 to 2^40 (1 TiB). */
function byteCount(fallback: number) {
  return optionalText.pipe(
    z
      .string()
      .regex(/^\d{1,13}$/, 'must be an integer number of bytes, 1..1099511627776')
      .transform(Number)
      .refine((n) => n >= 1 && n <= 2 ** 40, 'must be an integer number of bytes, 1..1099511627776')
      .default(fallback),
  );
}

/**
 * Rules spanning several variables. Checked on the raw values (presence only) so they are reported in
 * the same run as per-variable problems.
 */
function crossProblems(env: Record<string, string | undefined>): string[] {
  const set = (name: string) => (env[name] ?? '').trim() !== '';
  const out: string[] = [];
  if (set('TLS_CERT_FILE') !== set('TLS_KEY_FILE')) out.push('TLS_CERT_FILE: TLS_CERT_FILE and TLS_KEY_FILE must be set together');
  if (set('REDIS_URL') && !set('JWT_SECRET')) out.push('JWT_SECRET: must be set when REDIS_URL is set (all instances must share it)');
  const host = (env['HOST'] ?? '').trim() || '127.0.0.1';
  const tls = set('TLS_CERT_FILE') && set('TLS_KEY_FILE');
  const proxied = set('TRUST_PROXY') && (env['TRUST_PROXY'] ?? '').trim() !== 'false';
  if (!isLoopbackHost(host) && !tls && !proxied) {
    out.push(
      'HOST: refusing to serve plain HTTP on a non-loopback address: set TLS_CERT_FILE/TLS_KEY_FILE, or TRUST_PROXY when a TLS proxy sits in front',
    );
  }
  return out;
}

function isOrigin(text: string): boolean {
  if (!URL.canParse(text)) return false;
  const url = new URL(text);
  return (url.protocol === 'https:' || url.protocol === 'http:') && url.origin === text;
}

/** True for addresses that only the local machine can reach. */
export function isLoopbackHost(host: string): boolean {
  const h = host.toLowerCase().replace(/^\[|\]$/g, '');
  return h === 'localhost' || h === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h) || h === '::ffff:127.0.0.1';
}

/**
 * Validates `env` and returns the frozen configuration. Pure: reads no files and creates no directories
 * (the JWT secret file is handled at start by `loadOrCreateJwtSecret`).
 * Throws `ConfigError` listing every bad variable by name (values are never echoed: some are secrets).
 */
export function loadConfig(env: Record<string, string | undefined>, cwd: string = process.cwd()): Readonly<Config> {
  const parsed = EnvSchema.safeParse(env);
  const problems = [
    ...(parsed.success ? [] : parsed.error.issues.map((issue) => `${issue.path.join('.') || '(env)'}: ${issue.message}`)),
    ...crossProblems(env),
  ];
  if (!parsed.success || problems.length > 0) throw new ConfigError(problems);
  const e = parsed.data;
  const base = e.INIT_CWD ?? cwd;
  const resolve = (p: string) => path.resolve(base, p);
  const config: Config = {
    port: e.PORT,
    host: e.HOST,
    dataDir: resolve(e.DATA_DIR),
    databaseUrl: e.DATABASE_URL ?? null,
    redisUrl: e.REDIS_URL ?? null,
    jwtSecret: e.JWT_SECRET ?? null,
    allowedOrigins: Object.freeze([...e.ALLOWED_ORIGINS]),
    tls:
      e.TLS_CERT_FILE !== undefined && e.TLS_KEY_FILE !== undefined
        ? Object.freeze({ certFile: resolve(e.TLS_CERT_FILE), keyFile: resolve(e.TLS_KEY_FILE) })
        : null,
    trustProxy: Array.isArray(e.TRUST_PROXY) ? Object.freeze([...e.TRUST_PROXY]) : e.TRUST_PROXY,
    logLevel: e.LOG_LEVEL,
    accessTokenTtlSeconds: e.ACCESS_TOKEN_TTL_SECONDS,
    blobMaxBytes: e.BLOB_MAX_BYTES,
    blobQuotaBytes: e.BLOB_QUOTA_BYTES,
    blobGraceSeconds: e.BLOB_GRACE_SECONDS,
    rateLimitMultiplier: e.RATE_LIMIT_MULTIPLIER,
    appDir: e.APP_DIR !== undefined ? resolve(e.APP_DIR) : null,
  };
  return Object.freeze(config);
}

/** True when cookies must carry `Secure`: the server speaks TLS itself or sits behind a (TLS) proxy. */
export function cookiesAreSecure(config: Config): boolean {
  return config.tls !== null || config.trustProxy !== false;
}

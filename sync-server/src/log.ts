/**
 * A small structured logger that redacts by default: one JSON object per line, fields whose NAME looks
 * sensitive are replaced by "[redacted]" at any depth, and strings shaped like JWTs are masked wherever
 * they appear. Request bodies and query strings are never passed to it (see http/access-log.ts).
 */
import type { LogLevel } from './config.ts';

/** Arbitrary structured fields attached to a log line. */
export type LogFields = Record<string, unknown>;

/** The logging interface every module receives (never a global). */
export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  /** A logger that adds `fields` to every line. */
  child(fields: LogFields): Logger;
}

const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

/**
 * Key-name fragments that mark a field as sensitive (matched case-insensitively as substrings, so
 * `currentAuthKey`, `Set-Cookie`, `publicKeys` and `recovery_bundle` are all covered). Over-redaction
 * is accepted on purpose: a log line missing a harmless field costs less than one holding a key.
 */
export const REDACTED_KEY_FRAGMENTS: readonly string[] = [
  'password',
  'passwd',
  'authkey',
  'token',
  'cookie',
  'authorization',
  'secret',
  'key',
  'bundle',
  'salt',
  'body',
  'text',
  'content',
  'plaintext',
  'hash',
  'signature',
];

/** The placeholder written instead of a redacted value. */
export const REDACTED = '[redacted]';

const JWT_SHAPE = /eyJ[A-Za-z0-9_-]{2,}\.[A-Za-z0-9_-]{2,}\.[A-Za-z0-9_-]*/g;
const MAX_DEPTH = 6;
const MAX_STRING = 2000;

function isSensitiveKey(key: string): boolean {
  const k = key.toLowerCase();
  return REDACTED_KEY_FRAGMENTS.some((fragment) => k.includes(fragment));
}

/**
 * Returns a JSON-safe deep copy of `value` with sensitive fields redacted. Errors become
 * `{name, message, code, stack}` (never pg's `detail`, which can quote row values); cycles, Buffers
 * and typed arrays are summarised instead of dumped.
 */
export function redact(value: unknown, depth = 0, seen: WeakSet<object> = new WeakSet()): unknown {
  if (typeof value === 'string') {
    const masked = value.replace(JWT_SHAPE, REDACTED);
    return masked.length > MAX_STRING ? `${masked.slice(0, MAX_STRING)}…` : masked;
  }
  if (value === null || typeof value === 'number' || typeof value === 'boolean') return value;
  if (typeof value === 'bigint') return value.toString();
  if (typeof value === 'undefined' || typeof value === 'function' || typeof value === 'symbol') return undefined;
  if (depth >= MAX_DEPTH) return '[depth]';
  if (seen.has(value)) return '[circular]';
  seen.add(value);
  if (ArrayBuffer.isView(value) || value instanceof ArrayBuffer) return `[${value.byteLength} bytes]`;
  if (value instanceof Date) return value.toISOString();
  if (value instanceof Error) {
    const out: LogFields = { name: value.name, message: redact(value.message, depth + 1, seen) };
    if ('code' in value && (typeof value.code === 'string' || typeof value.code === 'number')) out['code'] = value.code;
    if (value.stack !== undefined) out['stack'] = redact(value.stack, depth + 1, seen);
    if (value.cause !== undefined) out['cause'] = redact(value.cause, depth + 1, seen);
    return out;
  }
  if (Array.isArray(value)) return value.slice(0, 50).map((v) => redact(v, depth + 1, seen));
  const out: LogFields = {};
  for (const [k, v] of Object.entries(value)) {
    out[k] = isSensitiveKey(k) ? REDACTED : redact(v, depth + 1, seen);
  }
  return out;
}

/** Options for `createLogger`. */
export interface LoggerOptions {
  level: LogLevel;
  /** Receives each finished JSON line (without newline). Defaults to stdout. */
  sink?: (line: string) => void;
  /** Clock for the `time` field (tests). */
  now?: () => Date;
}

/** Creates a JSON-lines logger. Never throws: a field that cannot be serialised is dropped, not the line. */
export function createLogger(options: LoggerOptions, bound: LogFields = {}): Logger {
  const sink = options.sink ?? ((line: string) => process.stdout.write(`${line}\n`));
  const now = options.now ?? (() => new Date());
  const min = RANK[options.level];
  const write = (level: LogLevel, msg: string, fields?: LogFields) => {
    if (RANK[level] < min) return;
    const safe = redact({ ...bound, ...fields });
    const record = { time: now().toISOString(), level, msg: redact(msg), ...(typeof safe === 'object' ? safe : {}) };
    let line: string;
    try {
      line = JSON.stringify(record);
    } catch (error) {
      line = JSON.stringify({ time: record.time, level, msg: record.msg, logError: String(error) });
    }
    sink(line);
  };
  return {
    debug: (msg, fields) => write('debug', msg, fields),
    info: (msg, fields) => write('info', msg, fields),
    warn: (msg, fields) => write('warn', msg, fields),
    error: (msg, fields) => write('error', msg, fields),
    child: (fields) => createLogger(options, { ...bound, ...fields }),
  };
}

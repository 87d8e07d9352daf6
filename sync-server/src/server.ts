/**
 * Composition root: config -> logger -> database (+ migrations) -> auth -> HTTP, on ONE node http(s)
 * server (the WebSocket endpoint will attach to the same server). `startServer` is the public entry point
 * for main.ts and for integration tests in every workspace.
 */
import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { AccountService } from './auth/accounts.ts';
import { dummyKeyHash } from './auth/passwords.ts';
import { AuthRateLimiter, DEFAULT_RATE_LIMITS, MemoryRateLimitStore, scaleRateLimits, type RateLimits } from './auth/rate-limit.ts';
import { openSharedRateLimitStore } from './auth/rate-limit-redis.ts';
import { createTokenService, type TokenService } from './auth/tokens.ts';
import { cookiesAreSecure, isLoopbackHost, type Config } from './config.ts';
import { openDatabase, type Database } from './db/database.ts';
import { migrate } from './db/migrate.ts';
import { createApp } from './http/app.ts';
import { createLogger, type Logger } from './log.ts';
import { loadOrCreateJwtSecret } from './secrets.ts';
import { Metrics } from './metrics.ts';
import { createSyncServer, type SyncLimits, type SyncServer } from './sync/sync-server.ts';
import { localFanout, redisFanout, type Fanout } from './sync/fanout.ts';
import { BlobService, gcIntervalMs, startBlobGc } from './blobs/service.ts';
import { startSessionPruning } from './auth/session-pruning.ts';
import { PostgresBlobStore } from './blobs/store.ts';

/** Optional knobs for `startServer` (all have production defaults). */
export interface StartOptions {
  /** Receives every log line (JSON, no newline) instead of stdout. */
  logSink?: (line: string) => void;
  /** Override rate-limit budgets (tests); defaults to `DEFAULT_RATE_LIMITS`. */
  rateLimits?: RateLimits;
  /** Directory of the built PWA; defaults to <repo>/app/dist. */
  appDistDir?: string;
  /** Override sync limits (tests). */
  syncLimits?: Partial<SyncLimits>;
  /** Name of this instance on the Redis channels (default: random). */
  instanceId?: string;
  /** Namespace of the rate limiter's Redis keys (default `parley:rl:`; tests use a unique one per run). */
  rateLimitKeyPrefix?: string;
}

/** A running server. */
export interface RunningServer {
  /** Base URL, e.g. `http://127.0.0.1:43127`. */
  readonly url: string;
  /** The real port (useful with PORT=0). */
  readonly port: number;
  /** The storage handle (for tests and in-process tooling; do not close it directly). */
  readonly db: Database;
  /** Access-token verification, for the WebSocket layer. */
  readonly tokens: TokenService;
  readonly log: Logger;
  /** The Hocuspocus sync endpoint mounted at /sync. */
  readonly sync: SyncServer;
  readonly metrics: Metrics;
  /** Encrypted file blobs (routes, garbage collection). */
  readonly blobs: BlobService;
  /** Stops accepting connections, closes open ones, then closes the database. Idempotent. */
  close(): Promise<void>;
}

/** Seconds allowed for a request's headers and for a whole request, to bound slow-loris clients. */
const HEADERS_TIMEOUT_MS = 15_000;
const REQUEST_TIMEOUT_MS = 30_000;

/**
 * What the server writes on a connection that failed below HTTP (the `clientError` handler, which replaces
 * Node's own to log the error): Node's own answers, or null for a peer that is gone. In particular a timed-out
 * connection gets 408, not 400: Node's timeout sweep can close an idle keep-alive or preconnected socket just
 * as the browser writes a request into it, and browsers send a request again after a 408 on a reused
 * connection, while a 400 surfaces as an error (seen in an e2e run: a lookup answered 400 with no body).
 */
export function clientErrorResponse(code: string | undefined): string | null {
  switch (code) {
    case 'ECONNRESET':
      return null;
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return 'HTTP/1.1 408 Request Timeout\r\nConnection: close\r\n\r\n';
    case 'HPE_HEADER_OVERFLOW':
      return 'HTTP/1.1 431 Request Header Fields Too Large\r\nConnection: close\r\n\r\n';
    case 'HPE_CHUNK_EXTENSIONS_OVERFLOW':
      return 'HTTP/1.1 413 Payload Too Large\r\nConnection: close\r\n\r\n';
    default:
      return 'HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n';
  }
}

/**
 * Opens the database, applies migrations, and listens on `config.host:config.port`.
 * Throws (having released everything it opened) when the database is unreachable, a migration fails,
 * TLS files cannot be read, the port is taken, or plain HTTP is requested on a non-loopback address
 * without TRUST_PROXY.
 */
export async function startServer(config: Readonly<Config>, opts: StartOptions = {}): Promise<RunningServer> {
  if (!isLoopbackHost(config.host) && config.tls === null && config.trustProxy === false) {
    throw new Error(`Refusing to serve plain HTTP on non-loopback HOST ${config.host}: set TLS_CERT_FILE/TLS_KEY_FILE or TRUST_PROXY`);
  }
  const log = createLogger({ level: config.logLevel, ...(opts.logSink ? { sink: opts.logSink } : {}) });
  const tlsOptions =
    config.tls === null
      ? null
      : { cert: await readFile(config.tls.certFile), key: await readFile(config.tls.keyFile) };
  const secret = config.jwtSecret ?? (await loadOrCreateJwtSecret(config.dataDir));

  const db = await openDatabase(config, (error) => log.error('database client error', { err: error }));
  try {
    const applied = await migrate(db);
    if (applied.length > 0) log.info('migrations applied', { versions: applied });
    // Pay the dummy hash once at start, so the first unknown-user login is not faster than the rest.
    await dummyKeyHash();

    const tokens = createTokenService({ secret, ttlSeconds: config.accessTokenTtlSeconds, db });
    const accounts = new AccountService({ db, tokens, secret, log });
    const limits = opts.rateLimits ?? scaleRateLimits(DEFAULT_RATE_LIMITS, config.rateLimitMultiplier);
    const metrics = new Metrics();
    const sync = createSyncServer({
      db,
      tokens,
      log,
      metrics,
      allowedOrigins: config.allowedOrigins,
      ...(opts.syncLimits ? { limits: opts.syncLimits } : {}),
      ...(config.redisUrl ? { redis: { url: config.redisUrl, identifier: opts.instanceId ?? `parley-${randomUUID()}` } } : {}),
    });
    const fanout: Fanout = config.redisUrl ? await redisFanout(sync, config.redisUrl, log) : localFanout(sync);
    sync.setNotifier(fanout.notify);
    // With Redis, every instance draws on the same account budgets (docs/operations.md "Scaling").
    const limiter = new AuthRateLimiter(
      limits,
      config.redisUrl
        ? await openSharedRateLimitStore({
            url: config.redisUrl,
            secret,
            limits,
            log,
            onFallback: () => metrics.rateLimitFallbacks.inc(),
            ...(opts.rateLimitKeyPrefix !== undefined ? { prefix: opts.rateLimitKeyPrefix } : {}),
          })
        : new MemoryRateLimitStore(limits),
    );
    const blobs = new BlobService({
      db,
      store: new PostgresBlobStore(db),
      limits: { maxBytes: config.blobMaxBytes, quotaBytes: config.blobQuotaBytes, graceSeconds: config.blobGraceSeconds },
      log,
      metrics,
    });
    const app = createApp({
      metrics,
      blobs,
      effects: () => fanout,
      onSessionsRevoked: (userId) => fanout.recheckSessions(userId),
      presence: () => sync.presence,
      config,
      db,
      log,
      accounts,
      tokens,
      limiter,
      secureCookies: cookiesAreSecure(config),
      ...(opts.appDistDir !== undefined ? { appDistDir: opts.appDistDir } : config.appDir !== null ? { appDistDir: config.appDir } : {}),
    });

    const server = tlsOptions === null ? http.createServer(app) : https.createServer(tlsOptions, app);
    server.on('upgrade', (request, socket, head) => {
      if (!sync.handleUpgrade(request, socket, head)) socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\n\r\n');
    });
    server.headersTimeout = HEADERS_TIMEOUT_MS;
    server.requestTimeout = REQUEST_TIMEOUT_MS;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(config.port, config.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    server.on('clientError', (error: NodeJS.ErrnoException, socket) => {
      log.debug('client error', { err: error });
      const response = clientErrorResponse(error.code);
      if (response !== null && socket.writable) socket.end(response);
      else socket.destroy();
    });

    const address = server.address();
    if (address === null || typeof address === 'string') throw new Error('server is not listening on a TCP port');
    const port = (address satisfies AddressInfo).port;
    const hostForUrl = address.family === 'IPv6' ? `[${address.address}]` : address.address;
    const url = `${tlsOptions === null ? 'http' : 'https'}://${hostForUrl}:${port}`;
    log.info('listening', { url, backend: db.backend });

    // Started once listening, so a failed start leaves no timer behind.
    const stopBlobGc = startBlobGc(blobs, log, gcIntervalMs(config.blobGraceSeconds));
    const stopSessionPruning = startSessionPruning(db, log, metrics);
    let closing: Promise<void> | null = null;
    return {
      url,
      port,
      db,
      tokens,
      log,
      sync,
      metrics,
      blobs,
      close() {
        closing ??= (async () => {
          await stopBlobGc();
          await stopSessionPruning();
          await sync.destroy();
          await fanout.close();
          await new Promise<void>((resolve, reject) => {
            server.close((error) => (error ? reject(error) : resolve()));
            server.closeIdleConnections();
            setTimeout(() => server.closeAllConnections(), 2000).unref();
          });
          await limiter.close();
          await db.close();
          log.info('stopped');
        })();
        return closing;
      },
    };
  } catch (error) {
    await db.close();
    throw error;
  }
}

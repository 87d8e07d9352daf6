/**
 * The Express application: middleware order is security headers -> access log -> origin check ->
 * routes -> 404/405 -> error renderer. It holds no state of its own; everything comes in as options.
 */
import express, { type Express } from 'express';
import { AppError } from '@parley/shared/protocol';
import type { AccountService } from '../auth/accounts.ts';
import type { AuthRateLimiter } from '../auth/rate-limit.ts';
import type { TokenService } from '../auth/tokens.ts';
import type { Config } from '../config.ts';
import type { Database } from '../db/database.ts';
import type { Logger } from '../log.ts';
import { accessLog } from './access-log.ts';
import { authRoutes } from './auth-routes.ts';
import { errorHandler } from './errors.ts';
import { originCheck, securityHeaders } from './security.ts';
import { staticApp } from './static.ts';
import { conversationRoutes } from './conversation-routes.ts';
import { profileRoutes } from './profile-routes.ts';
import { blobRoutes } from './blob-routes.ts';
import type { BlobService } from '../blobs/service.ts';
import type { EffectSink } from '../conversations/effects.ts';
import type { Metrics } from '../metrics.ts';
import type { PresenceStore } from '../sync/presence.ts';

/** A readiness probe must answer quickly even when the database hangs. */
const READY_TIMEOUT_MS = 2000;

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Everything the HTTP layer needs. */
export interface AppOptions {
  config: Config;
  db: Database;
  log: Logger;
  accounts: AccountService;
  tokens: TokenService;
  limiter: AuthRateLimiter;
  secureCookies: boolean;
  /** Directory of the built PWA; defaults to <repo>/app/dist. */
  appDistDir?: string;
  /** Counters served at GET /metrics. */
  metrics?: Metrics;
  /** Where membership effects go (socket closes, inbox notices). */
  effects?: () => EffectSink | null;
  /** Called after sessions were revoked, so their live sockets are closed (see auth-routes.ts). */
  onSessionsRevoked?: (userId: string | null) => void;
  /** Presence across instances (GET /api/presence). */
  presence?: () => PresenceStore | null;
  /** Encrypted file blobs (`/api/blobs`); the routes are mounted only when given. */
  blobs?: BlobService;
}

/** Builds the Express app. Does not listen. */
export function createApp(options: AppOptions): Express {
  const { config, db, log } = options;
  const app = express();
  app.disable('x-powered-by');
  app.disable('etag');
  app.set('trust proxy', config.trustProxy);
  app.set('strict routing', true);
  app.set('case sensitive routing', true);
  app.set('query parser', 'simple');

  app.use(securityHeaders({ hsts: config.tls !== null }));
  app.use(accessLog(log));
  app.use(originCheck(config.allowedOrigins));

  app
    .route('/healthz')
    .get((_req, res) => {
      res.setHeader('Cache-Control', 'no-store');
      res.json({ status: 'ok' });
    })
    .all((_req, res, next) => {
      res.setHeader('Allow', 'GET, HEAD');
      next(new AppError('method_not_allowed', 'Method not allowed'));
    });

  app
    .route('/readyz')
    .get(async (_req, res) => {
      res.setHeader('Cache-Control', 'no-store');
      try {
        await withTimeout(db.query('SELECT 1'), READY_TIMEOUT_MS);
      } catch (error) {
        log.warn('readiness check failed', { err: error });
        throw new AppError('unavailable', 'Database is not reachable', { cause: error });
      }
      res.json({ status: 'ready' });
    })
    .all((_req, res, next) => {
      res.setHeader('Allow', 'GET, HEAD');
      next(new AppError('method_not_allowed', 'Method not allowed'));
    });

  app.get('/metrics', (_req, res) => {
    res.setHeader('Cache-Control', 'no-store');
    res.type('text/plain; version=0.0.4').send(options.metrics?.render() ?? '');
  });

  app.use('/api/auth', authRoutes(options));
  app.use('/api/profile-keys', profileRoutes({ db, tokens: options.tokens }));
  if (options.blobs) app.use('/api/blobs', blobRoutes({ blobs: options.blobs, tokens: options.tokens, log }));
  app.use('/api', conversationRoutes({ db, tokens: options.tokens, log, effects: options.effects ?? (() => null), presence: options.presence ?? (() => null) }));
  app.use(staticApp(options.appDistDir));

  app.use((_req, _res, next) => next(new AppError('not_found', 'Not found')));
  app.use(errorHandler(log));
  return app;
}

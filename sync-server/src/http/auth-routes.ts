/**
 * `/api/auth/*`: HTTP adapter over `AccountService`. Each handler validates its input with the strict
 * protocol schema, applies rate limits, calls the service and writes the documented response.
 * The refresh token travels only in the `REFRESH_COOKIE` cookie (HttpOnly, SameSite=Strict,
 * Path=/api/auth, Secure when TLS or behind a proxy).
 */
import express, { type CookieOptions, type Request, type RequestHandler, type Response, type Router } from 'express';
import {
  AppError,
  ChangePasswordRequest,
  LoginRequest,
  NewRecoveryKeyRequest,
  PreloginRequest,
  REFRESH_COOKIE,
  RecoveryCompleteRequest,
  RecoveryStartRequest,
  RegisterRequest,
  normalizeUsername,
  usernameKey,
} from '@parley/shared/protocol';
import { z } from 'zod';
import { REFRESH_TOKEN_TTL_SECONDS, type AccountService } from '../auth/accounts.ts';
import type { AuthRateLimiter } from '../auth/rate-limit.ts';
import type { Principal, TokenService } from '../auth/tokens.ts';
import { jsonBody } from './body.ts';
import { parseRequest } from './validate.ts';

/** Dependencies of the auth router. */
export interface AuthRoutesOptions {
  accounts: AccountService;
  tokens: TokenService;
  limiter: AuthRateLimiter;
  secureCookies: boolean;
  /**
   * Called after sessions were revoked (logout, password change, recovery, session deletion), so live
   * sockets of those sessions are closed on every instance. `userId` narrows the check when known.
   */
  onSessionsRevoked?: (userId: string | null) => void;
}

/** Bodies of endpoints that take none: absent, or exactly `{}`. */
const EmptyBody = z.union([z.undefined(), z.object({}).strict()]);
const SessionIdParam = z.object({ id: z.uuid() }).strict();
const REFRESH_TOKEN_SHAPE = /^[A-Za-z0-9_-]{43}$/;

/** Allowed methods per path, for 405 answers with an `Allow` header. */
function methodNotAllowed(allow: string): RequestHandler {
  return (_req, res, next) => {
    res.setHeader('Allow', allow);
    next(new AppError('method_not_allowed', 'Method not allowed'));
  };
}

/** Client address as Express sees it (honours TRUST_PROXY). */
function clientIp(req: Request): string {
  return req.ip ?? req.socket.remoteAddress ?? 'unknown';
}

/** Reads the refresh cookie without a cookie-parsing dependency; null when absent or malformed. */
export function readRefreshCookie(req: Request): string | null {
  const header = req.headers.cookie;
  if (header === undefined) return null;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq === -1) continue;
    if (part.slice(0, eq).trim() !== REFRESH_COOKIE) continue;
    const value = part.slice(eq + 1).trim();
    return REFRESH_TOKEN_SHAPE.test(value) ? value : null;
  }
  return null;
}

/** The access token of an `Authorization: Bearer …` header, or null when absent or malformed. */
export function bearerToken(req: Request): string | null {
  const header = req.headers.authorization;
  if (header === undefined) return null;
  const match = /^Bearer ([A-Za-z0-9_.-]{1,2048})$/.exec(header);
  return match?.[1] ?? null;
}

/** Builds the auth router (mounted at /api/auth). */
export function authRoutes(options: AuthRoutesOptions): Router {
  const { accounts, tokens, limiter } = options;
  const router = express.Router({ strict: true, caseSensitive: true });
  const body = jsonBody();

  const cookieOptions: CookieOptions = {
    httpOnly: true,
    sameSite: 'strict',
    path: '/api/auth',
    secure: options.secureCookies,
  };
  const setRefreshCookie = (res: Response, token: string) =>
    res.cookie(REFRESH_COOKIE, token, { ...cookieOptions, maxAge: REFRESH_TOKEN_TTL_SECONDS * 1000 });
  const clearRefreshCookie = (res: Response) => res.clearCookie(REFRESH_COOKIE, cookieOptions);

  const authenticate = async (req: Request): Promise<Principal> => {
    const token = bearerToken(req);
    if (token === null) throw new AppError('unauthorized', 'Missing, invalid or expired access token');
    return tokens.verifyAccessToken(token);
  };

  // Auth responses carry tokens and key material: never cache them anywhere.
  router.use((_req, res, next) => {
    res.setHeader('Cache-Control', 'no-store');
    next();
  });

  router
    .route('/prelogin')
    .post(...body, async (req, res) => {
      await limiter.auth.take(clientIp(req));
      const input = parseRequest(PreloginRequest, req.body);
      res.json(await accounts.prelogin(input.username));
    })
    .all(methodNotAllowed('POST'));

  router
    .route('/register')
    .post(...body, async (req, res) => {
      await limiter.register.take(clientIp(req));
      const input = parseRequest(RegisterRequest, req.body);
      const result = await accounts.register(input);
      setRefreshCookie(res, result.refreshToken);
      res.status(201).json(result.body);
    })
    .all(methodNotAllowed('POST'));

  router
    .route('/login')
    .post(...body, async (req, res) => {
      const ip = clientIp(req);
      await limiter.auth.take(ip);
      const input = parseRequest(LoginRequest, req.body);
      const key = usernameKey(input.username);
      const trusted = await limiter.isTrustedPair(key, ip);
      if (!trusted) await limiter.loginFailures.check(key);
      try {
        const result = await accounts.login(input);
        await limiter.trustPair(key, ip);
        setRefreshCookie(res, result.refreshToken);
        res.json(result.body);
      } catch (error) {
        if (error instanceof AppError && error.code === 'invalid_credentials' && !trusted) await limiter.loginFailures.charge(key);
        throw error;
      }
    })
    .all(methodNotAllowed('POST'));

  router
    .route('/refresh')
    .post(...body, async (req, res) => {
      parseRequest(EmptyBody, req.body);
      const token = readRefreshCookie(req);
      if (token === null) throw new AppError('unauthorized', 'Missing refresh cookie');
      try {
        const result = await accounts.refresh(token);
        setRefreshCookie(res, result.refreshToken);
        res.json(result.body);
      } catch (error) {
        if (error instanceof AppError && error.code === 'unauthorized') clearRefreshCookie(res);
        throw error;
      }
    })
    .all(methodNotAllowed('POST'));

  router
    .route('/logout')
    .post(...body, async (req, res) => {
      parseRequest(EmptyBody, req.body);
      let principal: Principal | null = null;
      if (bearerToken(req) !== null) {
        try {
          principal = await authenticate(req);
        } catch (error) {
          // An expired access token must not block logout; the cookie alone identifies the session.
          if (!(error instanceof AppError && error.code === 'unauthorized')) throw error;
        }
      }
      await accounts.logout(readRefreshCookie(req), principal);
      options.onSessionsRevoked?.(principal?.userId ?? null);
      clearRefreshCookie(res);
      res.status(204).end();
    })
    .all(methodNotAllowed('POST'));

  router
    .route('/me')
    .get(async (req, res) => {
      res.json(await accounts.me(await authenticate(req)));
    })
    .all(methodNotAllowed('GET, HEAD'));

  /**
   * Runs `work`, which checks the signed-in user's current auth key, within that user's failure budget: a stolen
   * access token must not become an unlimited oracle for the auth key. A refused key is charged.
   */
  const withAuthKeyBudget = async <T>(userId: string, work: () => Promise<T>): Promise<T> => {
    await limiter.loginFailures.check(`user:${userId}`);
    try {
      return await work();
    } catch (error) {
      if (error instanceof AppError && error.code === 'invalid_credentials') await limiter.loginFailures.charge(`user:${userId}`);
      throw error;
    }
  };

  router
    .route('/password')
    .post(...body, async (req, res) => {
      const principal = await authenticate(req);
      const input = parseRequest(ChangePasswordRequest, req.body);
      const result = await withAuthKeyBudget(principal.userId, () => accounts.changePassword(principal, input));
      options.onSessionsRevoked?.(principal.userId);
      setRefreshCookie(res, result.refreshToken);
      res.json(result.body);
    })
    .all(methodNotAllowed('POST'));

  router
    .route('/recovery-key')
    .post(...body, async (req, res) => {
      const principal = await authenticate(req);
      const input = parseRequest(NewRecoveryKeyRequest, req.body);
      await withAuthKeyBudget(principal.userId, () => accounts.replaceRecoveryKey(principal, input));
      res.status(204).end();
    })
    .all(methodNotAllowed('POST'));

  const recovery = (handler: (req: Request, res: Response, key: string) => Promise<void>): RequestHandler => {
    return async (req, res) => {
      await limiter.recovery.take(clientIp(req));
      const username = z.object({ username: z.string() }).safeParse(req.body);
      // The key is only used for the bucket; full validation happens in the handler.
      const key = username.success ? usernameKey(normalizeUsername(username.data.username)) : '';
      if (key !== '') await limiter.recoveryFailures.check(key);
      try {
        await handler(req, res, key);
      } catch (error) {
        if (error instanceof AppError && error.code === 'invalid_credentials' && key !== '') await limiter.recoveryFailures.charge(key);
        throw error;
      }
    };
  };

  router
    .route('/recovery/start')
    .post(
      ...body,
      recovery(async (req, res) => {
        const input = parseRequest(RecoveryStartRequest, req.body);
        res.json(await accounts.recoveryStart(input));
      }),
    )
    .all(methodNotAllowed('POST'));

  router
    .route('/recovery/complete')
    .post(
      ...body,
      recovery(async (req, res) => {
        const input = parseRequest(RecoveryCompleteRequest, req.body);
        const result = await accounts.recoveryComplete(input);
        options.onSessionsRevoked?.(result.body.user.id);
        setRefreshCookie(res, result.refreshToken);
        res.json(result.body);
      }),
    )
    .all(methodNotAllowed('POST'));

  router
    .route('/sessions')
    .get(async (req, res) => {
      res.json(await accounts.listSessions(await authenticate(req)));
    })
    .all(methodNotAllowed('GET, HEAD'));

  router
    .route('/sessions/:id')
    .delete(async (req, res) => {
      const principal = await authenticate(req);
      const params = SessionIdParam.safeParse(req.params);
      if (!params.success) throw new AppError('not_found', 'No such session');
      await accounts.deleteSession(principal, params.data.id);
      options.onSessionsRevoked?.(principal.userId);
      res.status(204).end();
    })
    .all(methodNotAllowed('DELETE'));

  return router;
}

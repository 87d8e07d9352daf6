/**
 * Security headers on every response, and the Origin check for state-changing requests.
 */
import type { RequestHandler } from 'express';
import { AppError } from '@parley/shared/protocol';

/** The Content-Security-Policy sent with every response (no inline scripts or styles anywhere). */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data: blob:",
  "connect-src 'self'",
  "font-src 'self'",
  "worker-src 'self' blob:",
  "manifest-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

/** Browser features the app never needs. */
export const PERMISSIONS_POLICY =
  'accelerometer=(), camera=(), geolocation=(), gyroscope=(), magnetometer=(), microphone=(), payment=(), usb=(), interest-cohort=()';

/** Sets the fixed security headers; HSTS only when this process terminates TLS itself. */
export function securityHeaders(options: { hsts: boolean }): RequestHandler {
  return (_req, res, next) => {
    res.setHeader('Content-Security-Policy', CONTENT_SECURITY_POLICY);
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.setHeader('Referrer-Policy', 'no-referrer');
    res.setHeader('X-Frame-Options', 'DENY');
    res.setHeader('Cross-Origin-Opener-Policy', 'same-origin');
    res.setHeader('Cross-Origin-Resource-Policy', 'same-origin');
    res.setHeader('Permissions-Policy', PERMISSIONS_POLICY);
    if (options.hsts) res.setHeader('Strict-Transport-Security', 'max-age=31536000; includeSubDomains');
    next();
  };
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * Refuses state-changing requests whose `Origin` is neither this server's own origin nor listed in
 * ALLOWED_ORIGINS (403 origin_not_allowed). Requests without `Origin` (non-browser clients) pass: the
 * check exists to stop other web pages from driving a signed-in browser.
 */
export function originCheck(allowedOrigins: readonly string[]): RequestHandler {
  const allowed = new Set(allowedOrigins);
  return (req, _res, next) => {
    const origin = req.headers.origin;
    if (SAFE_METHODS.has(req.method) || origin === undefined) return next();
    const host = req.get('host');
    const own = host === undefined ? null : `${req.protocol}://${host}`.toLowerCase();
    if (origin.toLowerCase() === own || allowed.has(origin)) return next();
    next(new AppError('origin_not_allowed', 'Cross-origin request refused'));
  };
}

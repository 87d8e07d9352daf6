/**
 * Request ids and the access log: one line per request with method, path (never the query string),
 * status, duration and request id. Bodies and headers are never logged.
 */
import { randomUUID } from 'node:crypto';
import type { RequestHandler } from 'express';
import type { Logger } from '../log.ts';

const MAX_PATH = 200;

/** Path of a URL without its query string, truncated so a hostile URL cannot bloat the log. */
export function pathOnly(url: string): string {
  const q = url.indexOf('?');
  const p = q === -1 ? url : url.slice(0, q);
  return p.length > MAX_PATH ? `${p.slice(0, MAX_PATH)}…` : p;
}

/** Assigns `res.locals.requestId` (echoed as X-Request-Id) and logs the request when it finishes. */
export function accessLog(log: Logger): RequestHandler {
  return (req, res, next) => {
    const started = process.hrtime.bigint();
    const requestId = randomUUID();
    res.locals['requestId'] = requestId;
    res.setHeader('X-Request-Id', requestId);
    res.on('finish', () => {
      const ms = Number((process.hrtime.bigint() - started) / 1000n) / 1000;
      log.info('request', {
        method: req.method,
        path: pathOnly(req.originalUrl),
        status: res.statusCode,
        ms,
        requestId,
      });
    });
    next();
  };
}

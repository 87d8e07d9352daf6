/**
 * JSON request bodies: at most 64 KiB, `application/json` only, refused as early as possible.
 * A declared Content-Length over the limit is answered with 413 before a byte of the body is read, and
 * the connection is closed so the client stops sending; chunked bodies are cut off at the limit.
 */
import express, { type RequestHandler } from 'express';
import { AppError } from '@parley/shared/protocol';

/** Largest accepted request body. */
export const MAX_BODY_BYTES = 64 * 1024;

function hasBody(headers: { 'content-length'?: string | undefined; 'transfer-encoding'?: string | undefined }): boolean {
  const length = headers['content-length'];
  return headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}

/** Checks size and media type, then parses JSON (errors go to the error handler as body-parser errors). */
export function jsonBody(): RequestHandler[] {
  const parse = express.json({ limit: MAX_BODY_BYTES, strict: true, type: 'application/json' });
  const precheck: RequestHandler = (req, res, next) => {
    if (!hasBody(req.headers)) return next();
    const declared = Number(req.headers['content-length'] ?? 0);
    if (Number.isFinite(declared) && declared > MAX_BODY_BYTES) {
      res.setHeader('Connection', 'close');
      return next(new AppError('payload_too_large', `Request body exceeds ${MAX_BODY_BYTES} bytes`));
    }
    if (!req.is('application/json')) {
      return next(new AppError('unsupported_media_type', 'Request body must be application/json'));
    }
    next();
  };
  return [precheck, parse];
}

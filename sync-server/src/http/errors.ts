/**
 * The single error shape of the REST API: `{"error":{"code","message"}}` with the catalogue's status.
 * Anything that is not an `AppError` (or a recognised body-parser failure) becomes a logged 500 whose
 * body says only "internal"; stack traces and driver messages never reach the client.
 */
import type { ErrorRequestHandler, Response } from 'express';
import { AppError, type ErrorBody, type ErrorCode } from '@parley/shared/protocol';
import { z } from 'zod';
import type { Logger } from '../log.ts';

/** Writes the error body (and `Retry-After` for rate limits). Does nothing when headers were already sent. */
export function sendError(res: Response, error: AppError): void {
  if (res.headersSent) return;
  if (error.retryAfter !== undefined) res.setHeader('Retry-After', String(error.retryAfter));
  res.setHeader('Cache-Control', 'no-store');
  const body: ErrorBody = { error: { code: error.code, message: error.message.slice(0, 500) } };
  res.status(error.status).json(body);
}

/** Body-parser failures carry a `type` and a 4xx `status`; this is that shape, parsed instead of cast. */
const BodyParserError = z.object({ type: z.string(), status: z.number().int().min(400).max(499) });

const BODY_PARSER_CODES: Record<string, ErrorCode> = {
  'entity.parse.failed': 'invalid_json',
  'entity.too.large': 'payload_too_large',
  'entity.verify.failed': 'invalid_request',
  'request.size.invalid': 'invalid_request',
  'request.aborted': 'invalid_request',
  'charset.unsupported': 'unsupported_media_type',
  'encoding.unsupported': 'unsupported_media_type',
  'parameters.too.many': 'invalid_request',
  'stream.encoding.set': 'internal',
};

const MESSAGES: Partial<Record<ErrorCode, string>> = {
  invalid_json: 'Request body is not valid JSON',
  payload_too_large: 'Request body is too large',
  unsupported_media_type: 'Unsupported body encoding or charset',
  invalid_request: 'Malformed request',
};

/** Maps any thrown value to an `AppError` (unknown errors to `internal`). */
export function toAppError(error: unknown): AppError {
  if (error instanceof AppError) return error;
  const parsed = BodyParserError.safeParse(error);
  if (parsed.success) {
    const code = BODY_PARSER_CODES[parsed.data.type] ?? 'invalid_request';
    return new AppError(code, MESSAGES[code] ?? 'Bad request', { cause: error });
  }
  return new AppError('internal', 'Internal server error', { cause: error });
}

/** Express error middleware rendering every error through `sendError`. */
export function errorHandler(log: Logger): ErrorRequestHandler {
  return (error: unknown, req, res, _next) => {
    const appError = toAppError(error);
    if (appError.code === 'internal') {
      log.error('request failed', { requestId: res.locals['requestId'], method: req.method, err: error });
    }
    sendError(res, appError);
  };
}

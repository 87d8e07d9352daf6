/**
 * The error catalogue shared by server and clients. Every REST error body has exactly one shape:
 * `{"error":{"code":"…","message":"…"}}`; `code` is one of `ErrorCode`, `message` is for humans.
 */
import { z } from 'zod';

export const ERROR_CODES = [
  'invalid_json',
  'invalid_request',
  'unsupported_media_type',
  'payload_too_large',
  'quota_exceeded',
  'not_found',
  'method_not_allowed',
  'range_not_satisfiable',
  'unauthorized',
  'invalid_credentials',
  'forbidden',
  'origin_not_allowed',
  'username_taken',
  'conflict',
  'weak_kdf',
  'rate_limited',
  'unavailable',
  'internal',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

export const ErrorBody = z
  .object({
    error: z.object({ code: z.enum(ERROR_CODES), message: z.string().max(500) }).strict(),
  })
  .strict();
export type ErrorBody = z.infer<typeof ErrorBody>;

/** HTTP status each error code travels with. */
export const ERROR_STATUS: Record<ErrorCode, number> = {
  invalid_json: 400,
  invalid_request: 400,
  unsupported_media_type: 415,
  payload_too_large: 413,
  /** The caller's stored blobs would exceed BLOB_QUOTA_BYTES: 413 like any too-large request (a 4xx, so
   * it is not counted as a server failure or retried), with its own code so a UI can say "free space". */
  quota_exceeded: 413,
  not_found: 404,
  method_not_allowed: 405,
  /** A blob download's `Range` starts past the blob's end (the answer's `Content-Range` names the size). */
  range_not_satisfiable: 416,
  unauthorized: 401,
  invalid_credentials: 401,
  forbidden: 403,
  origin_not_allowed: 403,
  username_taken: 409,
  conflict: 409,
  weak_kdf: 400,
  rate_limited: 429,
  unavailable: 503,
  internal: 500,
};

/** A typed application error with a catalogue code; thrown inside a layer, rendered at the edge. */
export class AppError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  /** Seconds a client should wait before retrying (rate limits). */
  readonly retryAfter: number | undefined;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown; retryAfter?: number }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'AppError';
    this.code = code;
    this.status = ERROR_STATUS[code];
    this.retryAfter = options?.retryAfter;
  }
}

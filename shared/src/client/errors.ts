/**
 * The client core's one error type. `code` is either a server catalogue code (`ErrorCode`, carried over
 * from the `{"error":{"code"}}` body) or a client-side code below; the UI branches on `code` only.
 */
import type { ErrorCode } from '../protocol/errors.ts';

/** Failures detected on the device (the server never sees passwords or keys, so only the client can). */
export type ClientOnlyCode =
  /** fetch itself failed (offline, DNS, TLS, connection reset). */
  | 'network'
  /** The server answered with something that does not match the protocol schemas. */
  | 'bad_response'
  /** Input refused before anything was sent (bad username, malformed argument). */
  | 'invalid_input'
  /** The new password is too weak (see `PasswordStrength`); `details` lists the problems. */
  | 'weak_password'
  /** The password did not decrypt the locally held account bundle (checked before any request). */
  | 'wrong_password'
  /** A recovery key is malformed or fails its checksum (a typo); `details` says which. */
  | 'bad_recovery_key'
  /** The account or recovery bundle did not authenticate under the derived key. */
  | 'bundle_decrypt_failed'
  /** The bundle decrypted but its content is not a valid bundle of a known version. */
  | 'bundle_corrupt'
  /** Decrypted secrets do not produce the published public keys, or the sealing key signature is bad. */
  | 'key_mismatch'
  /** The call needs a signed-in session and there is none (or it could not be refreshed). */
  | 'not_signed_in';

/** Every code a `ClientError` can carry. */
export type ClientErrorCode = ErrorCode | ClientOnlyCode;

/** Thrown by the client core. Never carries passwords, keys or tokens in `message` or `details`. */
export class ClientError extends Error {
  readonly code: ClientErrorCode;
  /** HTTP status when the error came from the server, else undefined. */
  readonly status: number | undefined;
  /** Seconds to wait before retrying (from `Retry-After` on 429/503), else undefined. */
  readonly retryAfter: number | undefined;
  /** Machine-readable specifics (e.g. the password problems, the recovery-key defect). */
  readonly details: readonly string[];
  constructor(
    code: ClientErrorCode,
    message: string,
    options?: { cause?: unknown; status?: number; retryAfter?: number; details?: readonly string[] },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'ClientError';
    this.code = code;
    this.status = options?.status;
    this.retryAfter = options?.retryAfter;
    this.details = options?.details ?? [];
  }
}

/** True when `e` is a ClientError with one of `codes` (all codes when none are given). */
export function isClientError(e: unknown, ...codes: ClientErrorCode[]): e is ClientError {
  return e instanceof ClientError && (codes.length === 0 || codes.includes(e.code));
}

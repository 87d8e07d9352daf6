/** Typed errors thrown inside the crypto layer. Callers that handle peer data convert them to result codes. */

/** Why a crypto operation refused its input. */
export type CryptoErrorCode =
  /** A byte argument has the wrong size. */
  | 'bad_length'
  /** A key is unusable (e.g. an X25519 public key of low order). */
  | 'bad_key'
  /** AEAD authentication failed: wrong key, wrong AAD, or tampered/truncated input. */
  | 'decrypt_failed'
  /** A signature did not verify where a valid one was required. */
  | 'bad_signature'
  /** An argument is not of the expected type or structure. */
  | 'bad_format'
  /** A numeric parameter (lengths, KDF costs) is out of range. */
  | 'bad_params';

/**
 * The one error type the crypto layer throws. `code` is stable (callers branch on it); `message` is for
 * humans and never contains key material.
 */
export class CryptoError extends Error {
  readonly code: CryptoErrorCode;
  constructor(code: CryptoErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'CryptoError';
    this.code = code;
  }
}

/**
 * Entry check for every byte argument. Throws `CryptoError('bad_format')` unless `value` is a Uint8Array
 * (JS callers can pass anything), and `CryptoError('bad_length')` unless it is exactly `length` bytes
 * when a length is given.
 */
export function expectBytes(name: string, value: Uint8Array, length?: number): void {
  if (!(value instanceof Uint8Array)) throw new CryptoError('bad_format', `${name} must be a Uint8Array`);
  if (length !== undefined && value.length !== length)
    throw new CryptoError('bad_length', `${name} must be ${length} bytes, got ${value.length}`);
}

/** Like `expectBytes`, for a range: throws `CryptoError('bad_length')` unless `min <= length <= max`. */
export function expectBytesBetween(name: string, value: Uint8Array, min: number, max = Number.MAX_SAFE_INTEGER): void {
  expectBytes(name, value);
  if (value.length < min || value.length > max)
    throw new CryptoError(
      'bad_length',
      max === Number.MAX_SAFE_INTEGER
        ? `${name} must be at least ${min} bytes, got ${value.length}`
        : `${name} must be ${min}..${max} bytes, got ${value.length}`,
    );
}

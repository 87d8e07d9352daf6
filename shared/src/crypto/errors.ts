/** Typed errors thrown inside the crypto layer. Callers that handle peer data convert them to result codes. */
export type CryptoErrorCode =
  | 'bad_length'
  | 'bad_key'
  | 'decrypt_failed'
  | 'bad_signature'
  | 'bad_format'
  | 'bad_params';

export class CryptoError extends Error {
  readonly code: CryptoErrorCode;
  constructor(code: CryptoErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'CryptoError';
    this.code = code;
  }
}

/** Throws `CryptoError('bad_length')` unless `value` is a Uint8Array of exactly `length` bytes. */
export function expectBytes(name: string, value: Uint8Array, length?: number): void {
  if (!(value instanceof Uint8Array)) throw new CryptoError('bad_format', `${name} must be a Uint8Array`);
  if (length !== undefined && value.length !== length)
    throw new CryptoError('bad_length', `${name} must be ${length} bytes, got ${value.length}`);
}

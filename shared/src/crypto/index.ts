/** Crypto primitives: small, pure, bytes in and bytes out. See README.md in this folder for vectors. */
export * from './errors.ts';
export * from './contexts.ts';
export * from './bytes.ts';
export * from './aead.ts';
export * from './kdf.ts';
export * from './sign.ts';
export * from './box.ts';
export * from './file-chunks.ts';

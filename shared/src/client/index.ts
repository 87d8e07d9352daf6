/**
 * Headless client core (runs in browsers and Node): accounts and keys today; conversations, sync and
 * search build on it. Start with `AccountClient`.
 */
export * from './errors.ts';
export * from './recovery-key.ts';
export * from './password-strength.ts';
export * from './account-crypto.ts';
export * from './transport.ts';
export * from './account-client.ts';

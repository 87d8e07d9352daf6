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
export * from './events.ts';
export * from './timeout.ts';
export * from './storage.ts';
export * from './key-directory.ts';
export * from './membership.ts';
export * from './keyring.ts';
export * from './sync-connection.ts';
export * from './encrypted-doc.ts';
export * from './conversation.ts';
export * from './parley-client.ts';
export * from './awareness-crypto.ts';
export * from './profile-keys.ts';
export * from './profile.ts';
export * from './files.ts';
export * from './flush-budget.ts';

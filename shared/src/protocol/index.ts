/** Protocol: zod schemas and formats shared by clients and the server. Safe for the server to import. */
export * from './encoding.ts';
export * from './errors.ts';
export * from './username.ts';
export * from './auth.ts';
export * from './close-codes.ts';
export * from './conversations.ts';
export * from './frame.ts';
export * from './profiles.ts';
export * from './blobs.ts';

/**
 * Messages between the page and the KDF worker. Both sides parse what they receive with these schemas
 * (a worker is another realm: parse, don't cast). Version 1; a new shape gets a new `v`.
 */
import { z } from 'zod';
import { KdfParams } from '@parley/shared/protocol';

const Bytes = z.instanceof(Uint8Array);

/** Page -> worker: derive `{authKey, kek}` for one request id. */
export const KdfRequest = z
  .object({ v: z.literal(1), id: z.number().int(), password: z.string(), salt: Bytes, kdf: KdfParams })
  .strict();
export type KdfRequest = z.infer<typeof KdfRequest>;

/** Worker -> page: progress (0..1), the derived keys, or a failure with a ClientError code. */
export const KdfReply = z.discriminatedUnion('type', [
  z.object({ v: z.literal(1), id: z.number().int(), type: z.literal('progress'), fraction: z.number().min(0).max(1) }).strict(),
  z.object({ v: z.literal(1), id: z.number().int(), type: z.literal('done'), authKey: Bytes, kek: Bytes }).strict(),
  z.object({ v: z.literal(1), id: z.number().int(), type: z.literal('error'), message: z.string() }).strict(),
]);
export type KdfReply = z.infer<typeof KdfReply>;

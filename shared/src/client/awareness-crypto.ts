/**
 * Encrypted awareness (typing, last read): the only awareness state the server admits is
 * `{v: 1, epoch, ciphertext}`. `ciphertext = base64url(seal(HKDF(epochKey, CONTEXT.awarenessKey, salt =
 * convId), json(body) || sig, aad = lp(convId, segmentId, u32 epoch)))`, where `sig` is Ed25519 under
 * CONTEXT.awareness over lp(convId, segmentId, json). Receivers verify the signature against the sender's
 * pinned key and drop stale (`ts` older than 60 s) or replayed (`ctr` not increasing) states.
 */
import { z } from 'zod';
import { CONTEXT, concatBytes, hkdf, lp, open, seal, sign, u32be, verify } from '../crypto/index.ts';
import { AWARENESS_MAX_CHARS, AwarenessState, fromBase64Url, fromUtf8, toBase64Url, utf8 } from '../protocol/index.ts';

/** What a device announces. */
export const PresenceBody = z
  .object({
    userId: z.uuid(),
    deviceId: z.string().regex(/^[0-9a-f]{32}$/),
    typing: z.boolean(),
    lastRead: z.string().max(60).nullable(),
    ts: z.number().int().min(0),
    ctr: z.number().int().min(0),
  })
  .strict();
/** See the schema. */
export type PresenceBody = z.infer<typeof PresenceBody>;

/** How old a state may be before it is ignored. */
export const AWARENESS_MAX_AGE_MS = 60_000;

function scope(convId: string, segmentId: string, epoch: number) {
  return lp(utf8(convId), utf8(segmentId), u32be(epoch));
}

/** Seals a presence body into the server-admissible awareness state. Throws `TypeError` if it is too big. */
export function sealAwareness(args: { convId: string; segmentId: string; epoch: number; epochKey: Uint8Array; signingKey: Uint8Array; body: PresenceBody }): AwarenessState {
  const json = utf8(JSON.stringify(PresenceBody.parse(args.body)));
  const sig = sign(args.signingKey, CONTEXT.awareness, lp(utf8(args.convId), utf8(args.segmentId), json));
  const key = hkdf(args.epochKey, CONTEXT.awarenessKey, 32, utf8(args.convId));
  const ciphertext = toBase64Url(seal(key, concatBytes(json, sig), scope(args.convId, args.segmentId, args.epoch)));
  if (ciphertext.length > AWARENESS_MAX_CHARS) throw new TypeError('awareness state too large');
  return { v: 1, epoch: args.epoch, ciphertext };
}

/** Result of opening a peer's awareness state; never throws. */
export type OpenAwarenessResult = { ok: true; body: PresenceBody } | { ok: false; code: 'malformed' | 'unknown_epoch' | 'decrypt_failed' | 'bad_signature' | 'stale' };

/** Verifies and opens a peer's awareness state. `identityKey` returns the sender's pinned key. */
export function openAwareness(
  raw: unknown,
  args: { convId: string; segmentId: string; epochKey: (epoch: number) => Uint8Array | undefined; identityKey: (userId: string) => Uint8Array | undefined; now?: number },
): OpenAwarenessResult {
  const st = AwarenessState.safeParse(raw);
  if (!st.success) return { ok: false, code: 'malformed' };
  const epochKey = args.epochKey(st.data.epoch);
  if (!epochKey) return { ok: false, code: 'unknown_epoch' };
  let plain: Uint8Array;
  try {
    plain = open(hkdf(epochKey, CONTEXT.awarenessKey, 32, utf8(args.convId)), fromBase64Url(st.data.ciphertext), scope(args.convId, args.segmentId, st.data.epoch));
  } catch {
    return { ok: false, code: 'decrypt_failed' };
  }
  if (plain.length < 65) return { ok: false, code: 'malformed' };
  const json = plain.subarray(0, plain.length - 64);
  const sig = plain.subarray(plain.length - 64);
  let body: PresenceBody;
  try {
    const r = PresenceBody.safeParse(JSON.parse(fromUtf8(json)));
    if (!r.success) return { ok: false, code: 'malformed' };
    body = r.data;
  } catch {
    return { ok: false, code: 'malformed' };
  }
  const key = args.identityKey(body.userId);
  if (!key || !verify(key, CONTEXT.awareness, lp(utf8(args.convId), utf8(args.segmentId), json), sig)) return { ok: false, code: 'bad_signature' };
  if (Math.abs((args.now ?? Date.now()) - body.ts) > AWARENESS_MAX_AGE_MS) return { ok: false, code: 'stale' };
  return { ok: true, body };
}

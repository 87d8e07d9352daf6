/**
 * Sealing and opening envelope frames (docs/protocol.md [FRAME-*], [KEY-*]).
 *
 * sealFrame:          header -> AEAD(frameKey, nonce, plaintext, AAD) -> Ed25519 sign(CONTEXT.frame, all bytes so far)
 * verifyAndOpenFrame: parse -> signer key -> verify signature -> membership at epoch -> key for THAT epoch -> AEAD open
 *
 * Opening a peer's frame never throws: every failure is a `FrameErrorCode`.
 */
import { aeadDecrypt, aeadEncrypt, CONTEXT, concatBytes, equalBytes, hkdf, lp, randomBytes, sign, signAsync, verifyAsync } from '../crypto/index.ts';
import {
  bytesToUserId,
  deviceIdToBytes,
  encodeFrameHeader,
  FRAME_MAX_BYTES,
  FRAME_NONCE_BYTES,
  parseFrame,
  toHex,
  userIdToBytes,
  utf8,
  type FrameHeader,
  type FrameKind,
} from '../protocol/index.ts';

/** Everything that can be wrong with a peer's frame, in the order the checks run (see [FRAME-5]). */
export const FRAME_ERROR_CODES = [
  'malformed',
  'too_large',
  'unsupported_version',
  'unknown_signer',
  'bad_signature',
  'not_member',
  'unknown_epoch',
  'decrypt_failed',
  'invalid_payload',
  'replayed',
  'invalid_update',
  'foreign_client',
  'overwrite',
  'incomplete_snapshot',
] as const;
/** One entry of `FRAME_ERROR_CODES`; what the UI shows for a frame that was skipped. */
export type FrameErrorCode = (typeof FRAME_ERROR_CODES)[number];

/** A value that may or may not be a promise: callbacks can be sync (tests, caches) or async (network). */
export type MaybePromise<T> = T | Promise<T>;

/** Result of opening peer data. */
export type OpenResult<T> = { ok: true; value: T } | { ok: false; code: FrameErrorCode };

/** Where a frame lives; bound into the AAD ([FRAME-3]) and the key derivation ([KEY-1]). */
export interface FrameScope {
  convId: string;
  segmentId: string;
}

/**
 * Coverage of a snapshot ([COMPACT-3]): for `userId:deviceId`, every frame with counter 1..max is contained.
 * Keys are `${userId}:${deviceId}`.
 */
export type Coverage = Map<string, number>;

/**
 * The compactor's assertion in a payload-version-2 snapshot ([COMPACT-3], [INNER-8]): every inner entry in
 * `update` that names the snapshot's signer as its author is authentic (one the signer wrote, or whose
 * signature the signer checked), except the entries whose `sig` string is listed in `excluded`.
 */
export interface SnapshotVouch {
  excluded: ReadonlySet<string>;
}

/** Inner payload of a snapshot frame: the merged inner state, its coverage, and who owns each Yjs clientID. */
export interface SnapshotPayload {
  update: Uint8Array;
  coverage: Coverage;
  owners: Map<number, string>;
  /** Set: payload version 2, the compactor vouches for its own entries. Absent: version 1, no assertion. */
  vouch?: SnapshotVouch;
}

/** What a verified, decrypted frame holds. `snapshot` is set exactly when `header.kind === 'snapshot'`. */
export interface OpenedFrame {
  header: FrameHeader;
  signature: Uint8Array;
  update: Uint8Array;
  snapshot: SnapshotPayload | undefined;
}

/** The injected lookups a frame needs to be opened ([FRAME-5]). Each may be sync or async. */
export interface FrameResolvers {
  /** Ed25519 identity public key of a user, or undefined when unknown. */
  signerKey(userId: string): MaybePromise<Uint8Array | undefined>;
  /** Whether `userId` was a member of the conversation at `epoch`. */
  isMember(userId: string, epoch: number): MaybePromise<boolean>;
  /** The 32-byte conversation key of `epoch`, or undefined when this device does not hold it (yet). */
  epochKey(epoch: number): MaybePromise<Uint8Array | undefined>;
}

/**
 * Frame keys already derived, per epoch key object: every frame sealed or opened needs one, and an HKDF costs
 * about 20 µs. The entry keeps a copy of the epoch key it was derived from, so a caller that reuses the array
 * for other bytes gets a fresh derivation, never a stale key.
 */
const frameKeys = new WeakMap<Uint8Array, { ikm: Uint8Array; byConv: Map<string, Uint8Array> }>();
/** Conversations remembered per epoch key (one in practice). */
const FRAME_KEYS_PER_EPOCH_KEY = 16;

/**
 * Derives the frame key of one epoch ([KEY-1]): HKDF(epochKey, info = CONTEXT.frameKey, salt = utf8(convId)).
 * Remembered per epoch key; callers must not modify the returned array.
 */
export function deriveFrameKey(epochKey: Uint8Array, convId: string): Uint8Array {
  let entry = frameKeys.get(epochKey);
  if (!entry || !equalBytes(entry.ikm, epochKey)) {
    entry = { ikm: epochKey.slice(), byConv: new Map() };
    frameKeys.set(epochKey, entry);
  }
  let key = entry.byConv.get(convId);
  if (!key) {
    key = hkdf(epochKey, CONTEXT.frameKey, 32, utf8(convId));
    if (entry.byConv.size < FRAME_KEYS_PER_EPOCH_KEY) entry.byConv.set(convId, key);
  }
  return key;
}

/** AAD of a frame ([FRAME-3]): lp(segmentId, convId) || header bytes. */
export function frameAad(scope: FrameScope, headerBytes: Uint8Array): Uint8Array {
  return concatBytes(lp(utf8(scope.segmentId), utf8(scope.convId)), headerBytes);
}

/** Key for `Coverage` maps and per-device bookkeeping. */
export function deviceKey(userId: string, deviceId: string): string {
  return `${userId}:${deviceId}`;
}

/** Input to `sealFrame`. `nonce` is only for known-answer fixtures; leave it out everywhere else. */
export interface SealFrameInput {
  scope: FrameScope;
  kind: FrameKind;
  epoch: number;
  epochKey: Uint8Array;
  userId: string;
  deviceId: string;
  counter: number;
  /** The author's Ed25519 identity secret key (32-byte seed). */
  signingKey: Uint8Array;
  plaintext: Uint8Array;
  nonce?: Uint8Array;
}

/** Thrown by `sealFrame` when our own frame would break a limit: a local bug or a snapshot needing rollover. */
export class FrameTooLargeError extends Error {
  readonly code = 'too_large';
  constructor(readonly size: number) {
    super(`sealed frame would be ${size} bytes; the cap is ${FRAME_MAX_BYTES}`);
    this.name = 'FrameTooLargeError';
  }
}

/** Header and ciphertext of a frame: the bytes its signature covers ([FRAME-1..3]). Throws like `sealFrame`. */
function frameToSign(input: SealFrameInput): Uint8Array {
  const nonce = input.nonce ?? randomBytes(FRAME_NONCE_BYTES);
  const headerBytes = encodeFrameHeader({
    kind: input.kind,
    epoch: input.epoch,
    userId: input.userId,
    deviceId: input.deviceId,
    counter: input.counter,
    nonce,
  });
  const size = headerBytes.length + input.plaintext.length + 16 + 64;
  if (size > FRAME_MAX_BYTES) throw new FrameTooLargeError(size);
  const key = deriveFrameKey(input.epochKey, input.scope.convId);
  const ciphertext = aeadEncrypt(key, nonce, input.plaintext, frameAad(input.scope, headerBytes));
  return concatBytes(headerBytes, ciphertext);
}

/**
 * Seals one frame ([FRAME-1..4]). Throws `FrameTooLargeError` above `FRAME_MAX_BYTES`, `TypeError` for a
 * malformed header field and `CryptoError` for malformed keys: all local programming errors.
 */
export function sealFrame(input: SealFrameInput): Uint8Array {
  const signed = frameToSign(input);
  return concatBytes(signed, sign(input.signingKey, CONTEXT.frame, signed));
}

/**
 * `sealFrame` signing with the platform's native Ed25519 where present (`signAsync`: the same signature
 * bytes, without blocking the thread for a noble signature). Rejects like `sealFrame` throws.
 */
export async function sealFrameAsync(input: SealFrameInput): Promise<Uint8Array> {
  const signed = frameToSign(input);
  return concatBytes(signed, await signAsync(input.signingKey, CONTEXT.frame, signed));
}

/**
 * Verifies and opens a peer's frame ([FRAME-5]). The signature is checked before anything is decrypted, and
 * only the key of the header's epoch is tried ([KEY-2]). Never throws, including when a resolver throws
 * (a throwing `epochKey` counts as `unknown_epoch`, others as `unknown_signer` / `not_member`).
 */
export async function verifyAndOpenFrame(
  frame: Uint8Array,
  scope: FrameScope,
  resolvers: FrameResolvers,
): Promise<OpenResult<OpenedFrame>> {
  const parsed = parseFrame(frame);
  if (!parsed.ok) return parsed;
  const { header, headerBytes, ciphertext, signature, signed } = parsed.value;
  const publicKey = await settle(() => resolvers.signerKey(header.userId), undefined);
  if (!publicKey) return { ok: false, code: 'unknown_signer' };
  if (!(await verifyAsync(publicKey, CONTEXT.frame, signed, signature))) return { ok: false, code: 'bad_signature' };
  if (!(await settle(() => resolvers.isMember(header.userId, header.epoch), false))) return { ok: false, code: 'not_member' };
  const epochKey = await settle(() => resolvers.epochKey(header.epoch), undefined);
  if (!epochKey) return { ok: false, code: 'unknown_epoch' };
  let plaintext: Uint8Array;
  try {
    plaintext = aeadDecrypt(deriveFrameKey(epochKey, scope.convId), header.nonce, ciphertext, frameAad(scope, headerBytes));
  } catch {
    return { ok: false, code: 'decrypt_failed' };
  }
  if (header.kind === 'update') return { ok: true, value: { header, signature, update: plaintext, snapshot: undefined } };
  const snapshot = decodeSnapshotPayload(plaintext);
  if (!snapshot) return { ok: false, code: 'invalid_payload' };
  return { ok: true, value: { header, signature, update: snapshot.update, snapshot } };
}

async function settle<T>(fn: () => MaybePromise<T>, fallback: T): Promise<T> {
  try {
    return await fn();
  } catch {
    return fallback;
  }
}

/** Snapshot payload without the compactor's assertion (still written when the compactor cannot assert). */
const SNAPSHOT_PAYLOAD_V1 = 1;
/** Snapshot payload with the compactor's assertion about its own entries (`SnapshotVouch`). */
const SNAPSHOT_PAYLOAD_V2 = 2;
const COVERAGE_ENTRY_BYTES = 16 + 16 + 8;
const OWNER_ENTRY_BYTES = 4 + 16;
/** Most coverage or owner entries a snapshot may list (bounds the work a hostile snapshot can cause). */
export const SNAPSHOT_MAX_ENTRIES = 10_000;
/** Most `excluded` signatures a v2 snapshot may list; a compactor with more writes payload version 1. */
export const SNAPSHOT_MAX_EXCLUDED = 1_000;
/** Longest `excluded` signature string, in UTF-8 bytes; a compactor with a longer one writes version 1. */
export const SNAPSHOT_MAX_EXCLUDED_BYTES = 255;

const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const byString = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/**
 * Whether `vouch` can be encoded ([COMPACT-3]): at most `SNAPSHOT_MAX_EXCLUDED` strings, each 1 to
 * `SNAPSHOT_MAX_EXCLUDED_BYTES` UTF-8 bytes. A compactor that gets false writes payload version 1 instead.
 */
export function encodableVouch(vouch: SnapshotVouch): boolean {
  if (vouch.excluded.size > SNAPSHOT_MAX_EXCLUDED) return false;
  for (const sig of vouch.excluded) {
    const bytes = utf8(sig);
    if (bytes.length < 1 || bytes.length > SNAPSHOT_MAX_EXCLUDED_BYTES) return false;
    // A string that does not survive UTF-8 (a lone surrogate) would reach readers as another string.
    if (decodeUtf8Strict(bytes) !== sig) return false;
  }
  return true;
}

function decodeUtf8Strict(bytes: Uint8Array): string | undefined {
  try {
    return strictUtf8.decode(bytes);
  } catch {
    return undefined;
  }
}

/**
 * Encodes a snapshot plaintext ([COMPACT-3]):
 * `u8 1 | u32 n | n × (16B userId | 16B deviceId | u64 max) | u32 m | m × (u32 clientId | 16B userId) | update`,
 * or with `vouch`: `u8 2 | <the same tables> | u32 k | k × (u8 len | utf8 sig) | update`. Entries are sorted so
 * equal inputs give equal bytes. Throws `TypeError` for a `vouch` that `encodableVouch` refuses (a local bug).
 */
export function encodeSnapshotPayload(payload: SnapshotPayload): Uint8Array {
  const cov = [...payload.coverage.entries()].sort(([a], [b]) => byString(a, b));
  const own = [...payload.owners.entries()].sort(([a], [b]) => a - b);
  if (payload.vouch && !encodableVouch(payload.vouch)) throw new TypeError('snapshot vouch exclusions exceed the format limits');
  const excluded = payload.vouch ? [...payload.vouch.excluded].sort(byString).map((s) => utf8(s)) : [];
  const vouchBytes = payload.vouch ? 4 + excluded.reduce((n, e) => n + 1 + e.length, 0) : 0;
  const head = new Uint8Array(1 + 4 + cov.length * COVERAGE_ENTRY_BYTES + 4 + own.length * OWNER_ENTRY_BYTES + vouchBytes);
  const view = new DataView(head.buffer);
  head[0] = payload.vouch ? SNAPSHOT_PAYLOAD_V2 : SNAPSHOT_PAYLOAD_V1;
  let o = 1;
  view.setUint32(o, cov.length, false);
  o += 4;
  for (const [key, max] of cov) {
    const [userId = '', deviceId = ''] = key.split(':');
    head.set(userIdToBytes(userId), o);
    head.set(deviceIdToBytes(deviceId), o + 16);
    view.setBigUint64(o + 32, BigInt(max), false);
    o += COVERAGE_ENTRY_BYTES;
  }
  view.setUint32(o, own.length, false);
  o += 4;
  for (const [client, userId] of own) {
    view.setUint32(o, client, false);
    head.set(userIdToBytes(userId), o + 4);
    o += OWNER_ENTRY_BYTES;
  }
  if (payload.vouch) {
    view.setUint32(o, excluded.length, false);
    o += 4;
    for (const e of excluded) {
      head[o] = e.length;
      head.set(e, o + 1);
      o += 1 + e.length;
    }
  }
  return concatBytes(head, payload.update);
}

/**
 * Decodes a snapshot plaintext of payload version 1 or 2; undefined for anything not exactly in the
 * `encodeSnapshotPayload` format (unknown version, truncated tables, duplicate or unsorted entries, an
 * exclusion that is empty, too long or not UTF-8).
 */
export function decodeSnapshotPayload(bytes: Uint8Array): SnapshotPayload | undefined {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = bytes[0];
  if (bytes.length < 9 || (version !== SNAPSHOT_PAYLOAD_V1 && version !== SNAPSHOT_PAYLOAD_V2)) return undefined;
  let o = 1;
  const n = view.getUint32(o, false);
  o += 4;
  if (n > SNAPSHOT_MAX_ENTRIES || o + n * COVERAGE_ENTRY_BYTES + 4 > bytes.length) return undefined;
  const coverage: Coverage = new Map();
  for (let i = 0; i < n; i++) {
    const max = view.getBigUint64(o + 32, false);
    if (max < 1n || max > BigInt(Number.MAX_SAFE_INTEGER)) return undefined;
    const key = deviceKey(bytesToUserId(bytes.subarray(o, o + 16)), toHex(bytes.subarray(o + 16, o + 32)));
    if (coverage.has(key)) return undefined;
    coverage.set(key, Number(max));
    o += COVERAGE_ENTRY_BYTES;
  }
  const m = view.getUint32(o, false);
  o += 4;
  if (m > SNAPSHOT_MAX_ENTRIES || o + m * OWNER_ENTRY_BYTES > bytes.length) return undefined;
  const owners = new Map<number, string>();
  for (let i = 0; i < m; i++) {
    const client = view.getUint32(o, false);
    if (owners.has(client)) return undefined;
    owners.set(client, bytesToUserId(bytes.subarray(o + 4, o + 20)));
    o += OWNER_ENTRY_BYTES;
  }
  if (version === SNAPSHOT_PAYLOAD_V1) return { coverage, owners, update: bytes.subarray(o) };
  if (o + 4 > bytes.length) return undefined;
  const k = view.getUint32(o, false);
  o += 4;
  if (k > SNAPSHOT_MAX_EXCLUDED) return undefined;
  const excluded = new Set<string>();
  let previous: string | undefined;
  for (let i = 0; i < k; i++) {
    const len = bytes[o];
    if (len === undefined || len < 1 || o + 1 + len > bytes.length) return undefined;
    const sig = decodeUtf8Strict(bytes.subarray(o + 1, o + 1 + len));
    if (sig === undefined) return undefined;
    // Strictly ascending: one encoding per set (no duplicates, no reordering).
    if (previous !== undefined && byString(previous, sig) >= 0) return undefined;
    excluded.add(sig);
    previous = sig;
    o += 1 + len;
  }
  return { coverage, owners, update: bytes.subarray(o), vouch: { excluded } };
}

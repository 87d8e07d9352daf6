/**
 * Public layout of an envelope frame (docs/protocol.md [FRAME-1]). This module parses and encodes the
 * cleartext header only; it holds no keys and never decrypts, so the sync server may import it to check a
 * frame's shape and size. Sealing and opening live in `shared/src/envelope/frame.ts`.
 *
 * ```
 * u8 version(=1) | u8 kind | u32 epoch | 16B userId | 16B deviceId | u64 deviceCounter | 24B nonce
 * | ciphertext || 16B tag | 64B Ed25519 signature over every byte before it
 * ```
 * All integers are big-endian.
 */

/** The only frame format version this code writes and reads. */
export const FRAME_VERSION = 1;
/** Bytes of the cleartext header (version through nonce). */
export const FRAME_HEADER_BYTES = 1 + 1 + 4 + 16 + 16 + 8 + 24;
/** Bytes of the Poly1305 tag that ends the ciphertext. */
export const FRAME_TAG_BYTES = 16;
/** Bytes of the trailing Ed25519 signature. */
export const FRAME_SIGNATURE_BYTES = 64;
/** Bytes of the frame nonce (XChaCha20). */
export const FRAME_NONCE_BYTES = 24;
/** Smallest well-formed frame: header, an empty plaintext's tag, signature. */
export const FRAME_MIN_BYTES = FRAME_HEADER_BYTES + FRAME_TAG_BYTES + FRAME_SIGNATURE_BYTES;
/**
 * Largest frame anyone may write or accept ([FRAME-6]). Far below the WebSocket `maxPayload`, so one frame can
 * never close a multiplexed socket; a snapshot that would exceed it forces a segment rollover instead.
 */
export const FRAME_MAX_BYTES = 256 * 1024;
/** Largest device counter: counters are JS safe integers even though the wire field is u64. */
export const FRAME_COUNTER_MAX = Number.MAX_SAFE_INTEGER;

/** Frame kinds and their wire values. */
export const FRAME_KINDS = { update: 0, snapshot: 1 } as const;
/** `update`: one (coalesced) inner Yjs update. `snapshot`: a compaction snapshot with its coverage map. */
export type FrameKind = keyof typeof FRAME_KINDS;

/** A parsed header. Ids are canonical lowercase text: userId as a UUID, deviceId as 32 hex digits. */
export interface FrameHeader {
  version: typeof FRAME_VERSION;
  kind: FrameKind;
  epoch: number;
  userId: string;
  deviceId: string;
  counter: number;
  nonce: Uint8Array;
}

/** A frame split into its parts. `signed` is every byte the signature covers; all views share the input. */
export interface ParsedFrame {
  header: FrameHeader;
  headerBytes: Uint8Array;
  ciphertext: Uint8Array;
  signature: Uint8Array;
  signed: Uint8Array;
}

/** Why a frame failed to parse. */
export type FrameShapeError = 'malformed' | 'unsupported_version' | 'too_large';

/** Result of `parseFrame`: never throws. */
export type ParseFrameResult = { ok: true; value: ParsedFrame } | { ok: false; code: FrameShapeError };

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const DEVICE_RE = /^[0-9a-f]{32}$/;

/** True for a canonical lowercase UUID string (the form userIds take everywhere in the envelope layer). */
export function isUserId(value: string): boolean {
  return UUID_RE.test(value);
}

/** True for a canonical deviceId: 32 lowercase hex digits (16 random bytes). */
export function isDeviceId(value: string): boolean {
  return DEVICE_RE.test(value);
}

/** Lowercase hex of bytes. */
export function toHex(bytes: Uint8Array): string {
  let out = '';
  for (const b of bytes) out += b.toString(16).padStart(2, '0');
  return out;
}

/** Parses lowercase/uppercase hex of even length; returns undefined for anything else. */
export function fromHex(text: string): Uint8Array | undefined {
  if (text.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(text)) return undefined;
  const out = new Uint8Array(text.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(text.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/** 16 bytes of a canonical UUID. Throws `TypeError` when `userId` is not one (a local programming error). */
export function userIdToBytes(userId: string): Uint8Array {
  if (!isUserId(userId)) throw new TypeError('userId must be a canonical lowercase UUID');
  const bytes = fromHex(userId.replaceAll('-', ''));
  if (!bytes) throw new TypeError('userId must be a canonical lowercase UUID');
  return bytes;
}

/** Canonical UUID text of 16 bytes. */
export function bytesToUserId(bytes: Uint8Array): string {
  const h = toHex(bytes);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

/** 16 bytes of a deviceId. Throws `TypeError` when `deviceId` is not 32 lowercase hex digits. */
export function deviceIdToBytes(deviceId: string): Uint8Array {
  const bytes = isDeviceId(deviceId) ? fromHex(deviceId) : undefined;
  if (!bytes) throw new TypeError('deviceId must be 32 lowercase hex digits');
  return bytes;
}

/**
 * Encodes a header (version through nonce). Throws `TypeError` for out-of-range local input: this is only
 * called on our own data, never on a peer's.
 */
export function encodeFrameHeader(h: Omit<FrameHeader, 'version'>): Uint8Array {
  if (!Number.isInteger(h.epoch) || h.epoch < 0 || h.epoch > 0xffffffff) throw new TypeError('epoch must be a u32');
  if (!Number.isSafeInteger(h.counter) || h.counter < 1) throw new TypeError('counter must be a positive safe integer');
  if (!(h.nonce instanceof Uint8Array) || h.nonce.length !== FRAME_NONCE_BYTES) throw new TypeError('nonce must be 24 bytes');
  const out = new Uint8Array(FRAME_HEADER_BYTES);
  const view = new DataView(out.buffer);
  out[0] = FRAME_VERSION;
  out[1] = FRAME_KINDS[h.kind];
  view.setUint32(2, h.epoch, false);
  out.set(userIdToBytes(h.userId), 6);
  out.set(deviceIdToBytes(h.deviceId), 22);
  view.setBigUint64(38, BigInt(h.counter), false);
  out.set(h.nonce, 46);
  return out;
}

function kindOf(wire: number): FrameKind | undefined {
  if (wire === FRAME_KINDS.update) return 'update';
  if (wire === FRAME_KINDS.snapshot) return 'snapshot';
  return undefined;
}

/**
 * Splits a frame into header, ciphertext and signature and checks the shape ([FRAME-1], [FRAME-6]): size
 * bounds, version, kind, counter >= 1 within the safe-integer range. Checks nothing cryptographic. Never throws.
 */
export function parseFrame(frame: Uint8Array): ParseFrameResult {
  if (!(frame instanceof Uint8Array)) return { ok: false, code: 'malformed' };
  if (frame.length > FRAME_MAX_BYTES) return { ok: false, code: 'too_large' };
  if (frame.length < 1) return { ok: false, code: 'malformed' };
  if (frame[0] !== FRAME_VERSION) return { ok: false, code: 'unsupported_version' };
  if (frame.length < FRAME_MIN_BYTES) return { ok: false, code: 'malformed' };
  const kind = kindOf(frame[1]!);
  if (kind === undefined) return { ok: false, code: 'malformed' };
  const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  const counter = view.getBigUint64(38, false);
  if (counter < 1n || counter > BigInt(FRAME_COUNTER_MAX)) return { ok: false, code: 'malformed' };
  const sigStart = frame.length - FRAME_SIGNATURE_BYTES;
  return {
    ok: true,
    value: {
      header: {
        version: FRAME_VERSION,
        kind,
        epoch: view.getUint32(2, false),
        userId: bytesToUserId(frame.subarray(6, 22)),
        deviceId: toHex(frame.subarray(22, 38)),
        counter: Number(counter),
        nonce: frame.subarray(46, FRAME_HEADER_BYTES),
      },
      headerBytes: frame.subarray(0, FRAME_HEADER_BYTES),
      ciphertext: frame.subarray(FRAME_HEADER_BYTES, sigStart),
      signature: frame.subarray(sigStart),
      signed: frame.subarray(0, sigStart),
    },
  };
}

/**
 * The inner chat model ([INNER-*]): what lives inside the decrypted inner Y.Doc, how entries are signed, a
 * pure `materialize` that turns the doc into the list a UI renders, and `MessageProjection`, its incremental
 * form. Entries vouched for by their author's frame signature ([INNER-8]) are tracked by `VouchedEntries`.
 *
 *   messages: Y.Map<msgId, SignedMessage>   msgId = `${deviceIdHex}:${counter}`
 *   ops:      Y.Array<SignedOp>             edits, deletions, reactions, read receipts (each targets a msgId)
 *
 * A member holding the key can still write garbage, so every entry is parsed with a strict zod schema and its
 * signature checked before it counts; entries that fail are dropped and counted, never thrown.
 */
import * as Y from 'yjs';
import { z } from 'zod';
import { CONTEXT, lp, sign, signAsync, u64be, verify } from '../crypto/index.ts';
import { fromBase64Url, toBase64Url, toHex, utf8 } from '../protocol/index.ts';
import { FileRef } from '../protocol/blobs.ts';

/** Longest message or edit text, in UTF-16 code units. */
export const MAX_TEXT_LENGTH = 16_000;
/** Longest reaction (an emoji sequence). */
export const MAX_REACTION_LENGTH = 32;

const MSG_ID_RE = /^[0-9a-f]{32}:[1-9][0-9]{0,15}$/;
const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** `${deviceIdHex}:${counter}`, counter a positive integer without leading zeros. */
export const MsgId = z.string().regex(MSG_ID_RE);
const UserIdSchema = z.string().regex(UUID_RE);
const SigSchema = z.string().regex(/^[A-Za-z0-9_-]{86}$/);
const TsSchema = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);

/** Most attachments one message carries ([INNER-7]). */
export const MAX_ATTACHMENTS = 10;
/** Largest image dimension an attachment may declare, in pixels (display hint only). */
export const MAX_IMAGE_DIMENSION = 65_535;

const Dimension = z.number().int().min(1).max(MAX_IMAGE_DIMENSION);

/**
 * One file of a message ([INNER-7]): the file itself and, for images, a small thumbnail the sender made on
 * their device and uploaded as its own blob, plus the full image's pixel size (so the UI can reserve space).
 * Everything here is sender-declared: the receiver verifies blobs against the FileRefs on download, and uses
 * `width`/`height` only as layout hints.
 */
export const Attachment = z
  .object({
    file: FileRef,
    thumb: FileRef.optional(),
    width: Dimension.optional(),
    height: Dimension.optional(),
  })
  .strict();
/** See the schema. */
export type Attachment = z.infer<typeof Attachment>;

/** A signed chat message as stored in `messages` ([INNER-1]). `attachments` is absent (never `[]`) without files. */
export const SignedMessage = z
  .object({
    v: z.literal(1),
    id: MsgId,
    author: UserIdSchema,
    ts: TsSchema,
    text: z.string().max(MAX_TEXT_LENGTH),
    replyTo: MsgId.optional(),
    attachments: z.array(Attachment).min(1).max(MAX_ATTACHMENTS).optional(),
    sig: SigSchema,
  })
  .strict();
/** See the schema. */
export type SignedMessage = z.infer<typeof SignedMessage>;

/** The action of an op. */
export const OpBody = z.discriminatedUnion('type', [
  z.object({ type: z.literal('edit'), text: z.string().max(MAX_TEXT_LENGTH) }).strict(),
  z.object({ type: z.literal('delete') }).strict(),
  z.object({ type: z.literal('react'), emoji: z.string().min(1).max(MAX_REACTION_LENGTH).regex(/^[^\u0000-\u001f]+$/), on: z.boolean() }).strict(),
  z.object({ type: z.literal('read') }).strict(),
]);
/** See the schema. */
export type OpBody = z.infer<typeof OpBody>;

/** A signed op as stored in `ops` ([INNER-3]). `target` may name a message of an older segment. */
export const SignedOp = z
  .object({ v: z.literal(1), id: MsgId, author: UserIdSchema, ts: TsSchema, target: MsgId, op: OpBody, sig: SigSchema })
  .strict();
/** See the schema. */
export type SignedOp = z.infer<typeof SignedOp>;

/** Roots of an inner doc. */
export function innerRoots(doc: Y.Doc): { messages: Y.Map<unknown>; ops: Y.Array<unknown> } {
  return { messages: doc.getMap<unknown>('messages'), ops: doc.getArray<unknown>('ops') };
}

/** Builds a msgId. */
export function msgId(deviceId: string, counter: number): string {
  return `${deviceId}:${counter}`;
}

function fileRefBytes(f: FileRef): Uint8Array {
  return lp(new Uint8Array([f.v]), utf8(f.blobId), utf8(f.key), utf8(f.name), utf8(f.type), u64be(f.size), utf8(f.sha256));
}

const EMPTY = new Uint8Array(0);

/**
 * Canonical bytes of an attachment list ([INNER-4], [INNER-7]): `lp(u64 count, lp(file, thumb, width,
 * height)...)` (dimensions as u64), an absent thumb or dimension encoded as an empty field (a present one never
 * is empty).
 */
function attachmentsBytes(list: readonly Attachment[]): Uint8Array {
  const dim = (d: number | undefined) => (d === undefined ? EMPTY : u64be(d));
  return lp(
    u64be(list.length),
    ...list.map((a) => lp(fileRefBytes(a.file), a.thumb ? fileRefBytes(a.thumb) : EMPTY, dim(a.width), dim(a.height))),
  );
}

/**
 * Canonical bytes a message signature covers ([INNER-4]): binds convId, id, author, ts and content. The
 * attachment list is a trailing field present ONLY when the message has attachments, so messages without
 * files sign exactly the bytes they always did (frozen fixtures keep verifying).
 */
export function messageSigningBytes(convId: string, m: Omit<SignedMessage, 'sig' | 'v'>): Uint8Array {
  const fields = [utf8('parley.msg.v1'), utf8(convId), utf8(m.id), utf8(m.author), u64be(m.ts), utf8(m.text), utf8(m.replyTo ?? '')];
  if (m.attachments !== undefined) fields.push(attachmentsBytes(m.attachments));
  return lp(...fields);
}

/** Canonical bytes an op signature covers ([INNER-4]). */
export function opSigningBytes(convId: string, o: Omit<SignedOp, 'sig' | 'v'>): Uint8Array {
  const body: Uint8Array[] = [utf8(o.op.type)];
  switch (o.op.type) {
    case 'edit':
      body.push(utf8(o.op.text));
      break;
    case 'react':
      body.push(utf8(o.op.emoji), new Uint8Array([o.op.on ? 1 : 0]));
      break;
    case 'delete':
    case 'read':
      break;
    default: {
      const never: never = o.op;
      throw new TypeError(`unknown op ${String(never)}`);
    }
  }
  return lp(utf8('parley.op.v1'), utf8(convId), utf8(o.id), utf8(o.author), u64be(o.ts), utf8(o.target), ...body);
}

/** Who signs inner entries: the user's identity key, plus this device's id for msgIds. */
export interface InnerAuthor {
  userId: string;
  deviceId: string;
  signingKey: Uint8Array;
}

/** Fields of a new message (see `signMessage`). */
export interface MessageFields {
  counter: number;
  ts: number;
  text: string;
  replyTo?: string;
  attachments?: readonly Attachment[];
}

/** Fields of a new op (see `signOp`). */
export interface OpFields {
  counter: number;
  ts: number;
  target: string;
  op: OpBody;
}

function unsignedMessage(author: InnerAuthor, fields: MessageFields): Omit<SignedMessage, 'sig' | 'v'> {
  return {
    id: msgId(author.deviceId, fields.counter),
    author: author.userId,
    ts: fields.ts,
    text: fields.text,
    ...(fields.replyTo !== undefined ? { replyTo: fields.replyTo } : {}),
    // An empty list is the same as none: omitted, so the message signs the pre-attachment bytes.
    ...(fields.attachments !== undefined && fields.attachments.length > 0 ? { attachments: fields.attachments.map(copyAttachment) } : {}),
  };
}

function unsignedOp(author: InnerAuthor, fields: OpFields): Omit<SignedOp, 'sig' | 'v'> {
  return { id: msgId(author.deviceId, fields.counter), author: author.userId, ts: fields.ts, target: fields.target, op: fields.op };
}

/** Signs a new message. Throws `TypeError` on invalid local input (it would never verify for peers). */
export function signMessage(convId: string, author: InnerAuthor, fields: MessageFields): SignedMessage {
  const unsigned = unsignedMessage(author, fields);
  const sig = toBase64Url(sign(author.signingKey, CONTEXT.message, messageSigningBytes(convId, unsigned)));
  return checked(SignedMessage, { v: 1, ...unsigned, sig });
}

/**
 * `signMessage` with the platform's native Ed25519 (WebCrypto, noble where it is missing): the same bytes
 * (Ed25519 is deterministic), without blocking the thread for a noble signature. Rejects with `TypeError`
 * on invalid local input.
 */
export async function signMessageAsync(convId: string, author: InnerAuthor, fields: MessageFields): Promise<SignedMessage> {
  const unsigned = unsignedMessage(author, fields);
  const sig = toBase64Url(await signAsync(author.signingKey, CONTEXT.message, messageSigningBytes(convId, unsigned)));
  return checked(SignedMessage, { v: 1, ...unsigned, sig });
}

/** Signs a new op. Throws `TypeError` on invalid local input. */
export function signOp(convId: string, author: InnerAuthor, fields: OpFields): SignedOp {
  const unsigned = unsignedOp(author, fields);
  const sig = toBase64Url(sign(author.signingKey, CONTEXT.message, opSigningBytes(convId, unsigned)));
  return checked(SignedOp, { v: 1, ...unsigned, sig });
}

/** `signOp` with native Ed25519 where present (see `signMessageAsync`); the same bytes. Rejects with `TypeError` on invalid local input. */
export async function signOpAsync(convId: string, author: InnerAuthor, fields: OpFields): Promise<SignedOp> {
  const unsigned = unsignedOp(author, fields);
  const sig = toBase64Url(await signAsync(author.signingKey, CONTEXT.message, opSigningBytes(convId, unsigned)));
  return checked(SignedOp, { v: 1, ...unsigned, sig });
}

function copyAttachment(a: Attachment): Attachment {
  return {
    file: { ...a.file },
    ...(a.thumb ? { thumb: { ...a.thumb } } : {}),
    ...(a.width !== undefined ? { width: a.width } : {}),
    ...(a.height !== undefined ? { height: a.height } : {}),
  };
}

function checked<T>(schema: z.ZodType<T>, value: unknown): T {
  const r = schema.safeParse(value);
  if (!r.success) throw new TypeError(`invalid local inner entry: ${r.error.message}`);
  return r.data;
}

/**
 * Adds a message under its id. Returns false (and writes nothing) if the id is already taken: entries are
 * immutable, and overwriting one would delete another writer's item ([INNER-2]); pick another counter.
 */
export function putMessage(doc: Y.Doc, m: SignedMessage): boolean {
  const { messages } = innerRoots(doc);
  if (messages.has(m.id)) return false;
  messages.set(m.id, m.attachments ? { ...m, attachments: m.attachments.map(copyAttachment) } : { ...m });
  return true;
}

/** Appends an op. */
export function putOp(doc: Y.Doc, op: SignedOp): void {
  innerRoots(doc).ops.push([{ ...op, op: { ...op.op } }]);
}

/** Verifies an inner signature by `userId` over canonical bytes. Must not throw. */
export type VerifyFn = (userId: string, bytes: Uint8Array, signature: Uint8Array) => boolean;

/** A `VerifyFn` over identity public keys (CONTEXT.message); unknown users never verify. */
export function identityVerifier(publicKey: (userId: string) => Uint8Array | undefined): VerifyFn {
  return (userId, bytes, signature) => {
    const pk = publicKey(userId);
    return pk !== undefined && verify(pk, CONTEXT.message, bytes, signature);
  };
}

/**
 * Remembers verification results ([INNER-6]) so re-materializing after each change costs lookups, not
 * signature checks. An entry is keyed by (userId, signature) and holds the signed bytes it was checked
 * over; a hit needs the same bytes too, so a forged entry that reuses a valid signature with other content
 * never hits the cache. Bounded, oldest evicted.
 */
export class VerificationCache {
  private readonly results = new Map<string, { bytes: Uint8Array; ok: boolean }>();
  /** Verification calls that missed the cache (for tests and metrics). */
  misses = 0;
  constructor(private readonly max = 100_000) {}

  private static key(userId: string, signature: Uint8Array): string {
    return `${userId}\u0000${toHex(signature)}`;
  }

  /** The remembered result for exactly these inputs, or undefined. */
  peek(userId: string, bytes: Uint8Array, signature: Uint8Array): boolean | undefined {
    const hit = this.results.get(VerificationCache.key(userId, signature));
    if (!hit || hit.bytes.length !== bytes.length) return undefined;
    for (let i = 0; i < bytes.length; i++) if (hit.bytes[i] !== bytes[i]) return undefined;
    return hit.ok;
  }

  /** Records a result computed elsewhere (e.g. by an async verifier). */
  set(userId: string, bytes: Uint8Array, signature: Uint8Array, ok: boolean): void {
    const key = VerificationCache.key(userId, signature);
    if (!this.results.has(key) && this.results.size >= this.max) {
      const oldest = this.results.keys().next();
      if (!oldest.done) this.results.delete(oldest.value);
    }
    this.results.set(key, { bytes: bytes.slice(), ok });
  }

  /** Wraps a `VerifyFn` with this cache. */
  wrap(inner: VerifyFn): VerifyFn {
    return (userId, bytes, signature) => {
      const hit = this.peek(userId, bytes, signature);
      if (hit !== undefined) return hit;
      this.misses++;
      const ok = inner(userId, bytes, signature);
      this.set(userId, bytes, signature, ok);
      return ok;
    };
  }
}

// Parsing and canonical bytes are pure functions of an entry; Yjs hands out the same value object for an
// entry every time, so they are memoized per object (re-materializing then costs lookups, not zod + lp).
const parsedMessages = new WeakMap<object, SignedMessage | null>();
const parsedOps = new WeakMap<object, SignedOp | null>();
const signingBytesMemo = new WeakMap<object, { convId: string; bytes: Uint8Array }>();

/** `SignedMessage.safeParse`, memoized per value object; undefined when invalid. */
export function parseMessageEntry(value: unknown): SignedMessage | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  let r = parsedMessages.get(value);
  if (r === undefined) {
    const p = SignedMessage.safeParse(value);
    r = p.success ? p.data : null;
    parsedMessages.set(value, r);
  }
  return r ?? undefined;
}

/** `SignedOp.safeParse`, memoized per value object; undefined when invalid. */
export function parseOpEntry(value: unknown): SignedOp | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  let r = parsedOps.get(value);
  if (r === undefined) {
    const p = SignedOp.safeParse(value);
    r = p.success ? p.data : null;
    parsedOps.set(value, r);
  }
  return r ?? undefined;
}

/** Signing bytes of a parsed entry (from `parseMessageEntry`/`parseOpEntry`), memoized per entry. */
export function entrySigningBytes(convId: string, e: SignedMessage | SignedOp): Uint8Array {
  const hit = signingBytesMemo.get(e);
  if (hit && hit.convId === convId) return hit.bytes;
  const bytes = 'target' in e ? opSigningBytes(convId, e) : messageSigningBytes(convId, e);
  signingBytesMemo.set(e, { convId, bytes });
  return bytes;
}

/** A message as rendered. `text` is empty once deleted. */
export interface MaterializedMessage {
  id: string;
  author: string;
  ts: number;
  text: string;
  replyTo: string | undefined;
  /** Files of the message ([INNER-7]); empty without files and once deleted. */
  attachments: Attachment[];
  edited: boolean;
  deleted: boolean;
  /** Reactions that are on, sorted by emoji; users sorted. */
  reactions: Array<{ emoji: string; users: string[] }>;
}

/** What `materialize` returns. Counts are deterministic for a given doc state. */
export interface Materialized {
  messages: MaterializedMessage[];
  /** userId -> id of the latest message (in list order) that user marked read. Sorted by userId. */
  receipts: Array<{ userId: string; msgId: string }>;
  dropped: { malformed: number; badSignature: number; unauthorized: number };
  /** Ops whose target is not in this doc (possibly in an older segment); left for the caller. */
  orphans: SignedOp[];
  /** Messages outside the `newest` window, not verified (and not returned) yet. */
  unverified: number;
}

/** Options of `materialize`. */
export interface MaterializeOptions {
  convId: string;
  verify: VerifyFn;
  /** Membership of the conversation (for reactions and receipts); defaults to "everyone who signs". */
  isMember?: (userId: string) => boolean;
  /** Verify and return only the newest N messages (by ts, then id) ([INNER-6]). */
  newest?: number;
}

/** List order of messages ([INNER-5]): by `ts`, then `id`. Negative when `a` comes first. */
export function byTsThenId(a: { ts: number; id: string }, b: { ts: number; id: string }): number {
  return a.ts - b.ts || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

/** Op order ([INNER-5]): (ts, id), then sig, so the order never depends on where Yjs put an op in the array. */
function byOpOrder(a: SignedOp, b: SignedOp): number {
  return byTsThenId(a, b) || (a.sig < b.sig ? -1 : a.sig > b.sig ? 1 : 0);
}

function sigBytes(sig: string): Uint8Array | undefined {
  try {
    return fromBase64Url(sig);
  } catch {
    return undefined;
  }
}

/**
 * `attachments` and `reactions` of messages without any: one frozen array each, shared, so listed messages do not
 * cost two arrays apiece and a recomputed message without files or reactions is the same as before
 * (`sameMaterialized` compares `attachments` by identity).
 */
const NO_ATTACHMENTS: Attachment[] = Object.freeze([]) as unknown as Attachment[];
const NO_REACTIONS: MaterializedMessage['reactions'] = Object.freeze([]) as unknown as MaterializedMessage['reactions'];

/** A verified message as listed before any op applies (shared by `materialize` and `MessageProjection`). */
function baseMessage(m: SignedMessage): MaterializedMessage {
  return { id: m.id, author: m.author, ts: m.ts, text: m.text, replyTo: m.replyTo, attachments: m.attachments ?? NO_ATTACHMENTS, edited: false, deleted: false, reactions: NO_REACTIONS };
}

/** Applies an author's edit or delete (the caller checked the author): a delete is final, edits after it are ignored. */
function applyContentOp(target: MaterializedMessage, body: { type: 'delete' } | { type: 'edit'; text: string }): void {
  if (body.type === 'delete') {
    target.deleted = true;
    target.text = '';
    target.attachments = NO_ATTACHMENTS;
  } else if (!target.deleted) {
    target.text = body.text;
    target.edited = true;
  }
}

/** Reactions as listed: `${emoji}\u0000${user}` -> on, grouped by emoji (sorted), users sorted. */
function reactionList(state: ReadonlyMap<string, boolean>): MaterializedMessage['reactions'] {
  const byEmoji = new Map<string, string[]>();
  for (const [k, on] of state) {
    if (!on) continue;
    const [emoji = '', user = ''] = k.split('\u0000');
    const users = byEmoji.get(emoji) ?? [];
    users.push(user);
    byEmoji.set(emoji, users);
  }
  if (byEmoji.size === 0) return NO_REACTIONS;
  return [...byEmoji.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([emoji, users]) => ({ emoji, users: users.sort() }));
}

/**
 * Pure projection of an inner doc ([INNER-5]): messages ordered by (ts, id) with authorized ops applied.
 * Only the author may edit or delete a message; any member may react and send receipts. Entries that fail
 * the schema, the signature or the policy are dropped and counted. Never throws for doc content.
 * The client renders through `MessageProjection` (incremental); this whole-document projection is its
 * reference — the property test checks that both agree after every step — and serves one-off readers.
 */
export function materialize(doc: Y.Doc, options: MaterializeOptions): Materialized {
  const { messages, ops } = innerRoots(doc);
  const isMember = options.isMember ?? (() => true);
  const dropped = { malformed: 0, badSignature: 0, unauthorized: 0 };
  const parsed: SignedMessage[] = [];
  for (const [key, value] of messages.entries()) {
    const r = parseMessageEntry(value);
    if (!r || r.id !== key) dropped.malformed++;
    else parsed.push(r);
  }
  parsed.sort(byTsThenId);
  const allIds = new Set(parsed.map((m) => m.id));
  const windowStart = options.newest === undefined ? 0 : Math.max(0, parsed.length - options.newest);
  const verified = new Map<string, MaterializedMessage>();
  const order: MaterializedMessage[] = [];
  for (const m of parsed.slice(windowStart)) {
    const sig = sigBytes(m.sig);
    if (!sig || !options.verify(m.author, entrySigningBytes(options.convId, m), sig)) {
      dropped.badSignature++;
      continue;
    }
    if (!isMember(m.author)) {
      dropped.unauthorized++;
      continue;
    }
    const out = baseMessage(m);
    verified.set(m.id, out);
    order.push(out);
  }

  const parsedOpList: SignedOp[] = [];
  for (const value of ops.toArray()) {
    const r = parseOpEntry(value);
    if (!r) dropped.malformed++;
    else parsedOpList.push(r);
  }
  parsedOpList.sort(byOpOrder);
  const orphans: SignedOp[] = [];
  const reactions = new Map<string, Map<string, boolean>>(); // msgId -> `${emoji}\u0000${user}` -> on
  const position = new Map(order.map((m, i) => [m.id, i]));
  const receipts = new Map<string, string>();
  const seenOps = new Set<string>();
  for (const op of parsedOpList) {
    const target = verified.get(op.target);
    if (!target) {
      if (!allIds.has(op.target)) orphans.push(op);
      continue; // target outside the verified window: handled when the window grows
    }
    const sig = sigBytes(op.sig);
    if (!sig || !options.verify(op.author, entrySigningBytes(options.convId, op), sig)) {
      dropped.badSignature++;
      continue;
    }
    // The same op pushed twice counts once. Checked after the signature, so a forged copy that reuses an op's
    // id and sig (with other content) cannot shadow the real one.
    const dup = `${op.id}\u0000${op.sig}`;
    if (seenOps.has(dup)) continue;
    seenOps.add(dup);
    const body = op.op;
    switch (body.type) {
      case 'edit':
      case 'delete':
        if (op.author !== target.author) {
          dropped.unauthorized++;
          break;
        }
        applyContentOp(target, body);
        break;
      case 'react': {
        if (!isMember(op.author)) {
          dropped.unauthorized++;
          break;
        }
        let m = reactions.get(target.id);
        if (!m) reactions.set(target.id, (m = new Map()));
        m.set(`${body.emoji}\u0000${op.author}`, body.on);
        break;
      }
      case 'read': {
        if (!isMember(op.author)) {
          dropped.unauthorized++;
          break;
        }
        const prev = receipts.get(op.author);
        if (prev === undefined || (position.get(prev) ?? -1) < (position.get(target.id) ?? -1)) receipts.set(op.author, target.id);
        break;
      }
      default: {
        const never: never = body;
        throw new TypeError(`unknown op ${String(never)}`);
      }
    }
  }
  for (const [id, m] of reactions) {
    const target = verified.get(id);
    if (target) target.reactions = reactionList(m);
  }
  return {
    messages: order,
    receipts: [...receipts.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([userId, msgId]) => ({ userId, msgId })),
    dropped,
    orphans,
    unverified: windowStart,
  };
}

// --- frame-vouched entries ([INNER-8]) ---

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * The entry values (message and op objects) that the structs of ONE inner update carry and that name `signer`
 * as their author ([INNER-8]). `structs` are `Y.decodeUpdate(update).structs` of an `update` frame signed by
 * `signer`, or of a payload-version-2 snapshot signed by `signer` with its `excluded` signatures left out
 * ([COMPACT-3]); the values are the decoded objects exactly as the frame carried them, not yet schema-checked.
 */
export function authoredValues(structs: Iterable<unknown>, signer: string, excluded?: ReadonlySet<string>): object[] {
  const out: object[] = [];
  for (const s of structs) {
    if (!(s instanceof Y.Item) || !(s.content instanceof Y.ContentAny)) continue;
    for (const v of s.content.getContent()) {
      if (!isRecord(v) || v.author !== signer || typeof v.sig !== 'string') continue;
      if (excluded?.has(v.sig)) continue;
      out.push(v);
    }
  }
  return out;
}

/**
 * Structural equality of decoded Yjs `ContentAny` values (plain objects, arrays, primitives, bytes): same keys,
 * same values. `NaN` equals nothing, so such a value is never vouched for and gets verified instead.
 */
export function sameValue(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (a instanceof Uint8Array || b instanceof Uint8Array) {
    if (!(a instanceof Uint8Array) || !(b instanceof Uint8Array) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
    return true;
  }
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!sameValue(a[i], b[i])) return false;
    return true;
  }
  const ka = Object.keys(a);
  if (ka.length !== Object.keys(b).length) return false;
  for (const k of ka) {
    if (!Object.prototype.hasOwnProperty.call(b, k)) return false;
    if (!sameValue((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k])) return false;
  }
  return true;
}

/**
 * Entries vouched for by a frame signature ([INNER-8]): the values an `update` frame signed by their own
 * author carried. `take(value)` answers whether a value seen in a (view) doc has exactly the content of one
 * of them, by comparing content, never Yjs item ids (an id can carry other content in another segment).
 * A match consumes the statement (a second copy of the same entry is verified on its own).
 */
export class VouchedEntries {
  /**
   * Statements by signature string: the entry's own string, so a lookup builds no key (a signature names its
   * entry all but uniquely; `sameValue` compares the rest, author included).
   */
  readonly #byKey = new Map<string, object[]>();

  static #key(v: Record<string, unknown>): string | undefined {
    return typeof v.author === 'string' && typeof v.sig === 'string' ? v.sig : undefined;
  }

  /** Statements not consumed yet. */
  get size(): number {
    let n = 0;
    for (const l of this.#byKey.values()) n += l.length;
    return n;
  }

  /** Records values from `authoredValues` (already filtered to the frame's signer). */
  add(values: Iterable<object>): void {
    for (const v of values) {
      const key = isRecord(v) ? VouchedEntries.#key(v) : undefined;
      if (key === undefined) continue;
      const list = this.#byKey.get(key);
      if (list) list.push(v);
      else this.#byKey.set(key, [v]);
    }
  }

  /** Whether `value` equals a recorded entry, without consuming it (a set of known contents). Never throws. */
  includes(value: unknown): boolean {
    if (!isRecord(value)) return false;
    const key = VouchedEntries.#key(value);
    const list = key === undefined ? undefined : this.#byKey.get(key);
    return list !== undefined && list.some((v) => sameValue(v, value));
  }

  /** Whether `value` equals a vouched entry; a match is consumed. Never throws. */
  take(value: unknown): boolean {
    if (!isRecord(value)) return false;
    const key = VouchedEntries.#key(value);
    const list = key === undefined ? undefined : this.#byKey.get(key);
    if (!list) return false;
    const i = list.findIndex((v) => sameValue(v, value));
    if (i < 0) return false;
    if (list.length === 1) this.#byKey.delete(key!);
    else list.splice(i, 1);
    return true;
  }
}

// --- incremental projection ---

/** Options of `MessageProjection`. */
export interface ProjectionOptions {
  /**
   * Whether the entry stored as `value` counts as signed by its author (its signature verified, or vouched
   * for by a frame, [INNER-8]). Consulted when the entry is (re)computed: call `invalidate(value)` when the
   * answer changes. Plays the part of `verify` in `materialize`.
   */
  authentic(value: object): boolean;
  /** Membership (for messages, reactions and receipts); call `invalidateAll()` when it changes. Default: everyone. */
  isMember?(userId: string): boolean;
  /** Called once per new entry value that passes the schema (e.g. to schedule its verification). */
  onEntry?(value: object, entry: SignedMessage | SignedOp): void;
}

interface MessageSlot {
  kind: 'msg';
  value: object;
  entry: SignedMessage;
}
interface OpSlot {
  kind: 'op';
  value: object;
  entry: SignedOp;
  copies: number;
}

function sameMaterialized(a: MaterializedMessage, b: MaterializedMessage): boolean {
  if (a.id !== b.id || a.author !== b.author || a.ts !== b.ts || a.text !== b.text || a.replyTo !== b.replyTo) return false;
  if (a.edited !== b.edited || a.deleted !== b.deleted || a.attachments !== b.attachments) return false;
  if (a.reactions.length !== b.reactions.length) return false;
  return a.reactions.every((r, i) => {
    const o = b.reactions[i]!;
    return r.emoji === o.emoji && r.users.length === o.users.length && r.users.every((u, k) => u === o.users[k]);
  });
}

function mergeSorted(a: MaterializedMessage[], b: MaterializedMessage[]): { list: MaterializedMessage[]; at: number } {
  if (b.length === 0) return { list: a, at: a.length };
  if (a.length === 0) return { list: b, at: 0 };
  // `a` up to where b[0] goes is copied without comparing (appends: all of it, as one slice).
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (byTsThenId(a[mid]!, b[0]!) <= 0) lo = mid + 1;
    else hi = mid;
  }
  const out = a.slice(0, lo);
  let i = lo;
  let j = 0;
  while (i < a.length && j < b.length) out.push(byTsThenId(a[i]!, b[j]!) <= 0 ? a[i++]! : b[j++]!);
  // The rest of one list as one copy (older history joining in front leaves all of `a` here).
  const list = i < a.length ? out.concat(i === 0 ? a : a.slice(i)) : j < b.length ? out.concat(j === 0 ? b : b.slice(j)) : out;
  return { list, at: lo };
}

/** One document a `MessageProjection` reads: its roots, where it ranks, and its observers. */
interface Source {
  rank: number;
  /** Order of `addDoc` calls: breaks ties between equal ranks. */
  seq: number;
  messages: Y.Map<unknown>;
  ops: Y.Array<unknown>;
  onMessages: (e: Y.YMapEvent<unknown>) => void;
  onOps: (e: Y.YArrayEvent<unknown>) => void;
}

/** What one source holds under a `messages` key: the value, and its slot when the value is a valid entry. */
interface Candidate {
  source: Source;
  value: unknown;
  slot: MessageSlot | undefined;
}

/** Whether `a` outranks `b` ([INNER-10]): the lower rank (the older segment), then the document added first. */
function outranks(a: Source, b: Source): boolean {
  return a.rank < b.rank || (a.rank === b.rank && a.seq < b.seq);
}

/**
 * `materialize` kept up to date incrementally ([INNER-5]) over one or more inner docs ([INNER-10]): it observes
 * the `messages` and `ops` roots of every doc added, and `update()` recomputes only the messages and receipts
 * that changed since the last call (an entry was added, removed or re-judged by `invalidate`). Over one doc the
 * result equals `materialize(doc, { verify, isMember })` where `verify` accepts exactly the entries `authentic`
 * accepts (messages and receipts; drop counts and orphans are not tracked). Over several docs (a conversation's
 * segments, each its own doc) it equals `materialize` of their merge when no `messages` key is in two docs;
 * when one is, the valid entry of the lowest-ranked doc (the oldest segment) counts and the others are ignored,
 * so an entry written into a newer segment can never shadow an older one. The docs are never merged, so one
 * segment's Yjs structs can never collide with another's (clientIDs are per document). Unchanged messages keep
 * their object identity between calls.
 */
export class MessageProjection {
  readonly #o: ProjectionOptions;
  readonly #sources: Source[] = [];
  /** Every source's value per `messages` key (usually one). */
  readonly #cands = new Map<string, Candidate[]>();
  /** The entry that counts per map key (= id): the best-ranked valid candidate. */
  readonly #msgs = new Map<string, MessageSlot>();
  readonly #slots = new WeakMap<object, MessageSlot | OpSlot>();
  /** Ops by target id (reads included). */
  readonly #opsOn = new Map<string, Set<OpSlot>>();
  /** Read ops by author. */
  readonly #readsBy = new Map<string, Set<OpSlot>>();
  /** Messages in the list, by id. */
  readonly #shown = new Map<string, MaterializedMessage>();
  #order: MaterializedMessage[] = [];
  readonly #receipts = new Map<string, string>();
  #receiptList: Array<{ userId: string; msgId: string }> = [];
  readonly #dirtyMsgs = new Set<string>();
  readonly #dirtyUsers = new Set<string>();
  #all = false;
  #version = 0;
  /** Lowest index of the list that changed since `takeChangedFrom()` was last called (Infinity: none). */
  #changedFrom = Number.POSITIVE_INFINITY;

  /** Projects `doc` (rank 0), if given; `addDoc` adds more. */
  constructor(doc: Y.Doc | undefined, options: ProjectionOptions) {
    this.#o = options;
    if (doc) this.addDoc(doc, 0);
  }

  /**
   * Adds a doc (once per doc) with its `rank`: lower ranks win a `messages` key held by several docs
   * ([INNER-10]; a conversation passes the segment index). Its current entries count from the next `update()`.
   */
  addDoc(doc: Y.Doc, rank: number): void {
    const { messages, ops } = innerRoots(doc);
    if (this.#sources.some((s) => s.messages === messages)) return;
    const source: Source = {
      rank,
      seq: this.#sources.length,
      messages,
      ops,
      onMessages: (e) => {
        for (const key of e.keysChanged) this.#setMessage(source, key);
      },
      onOps: (e) => {
        for (const item of e.changes.deleted) for (const v of item.content.getContent()) this.#removeOp(v);
        for (const item of e.changes.added) for (const v of item.content.getContent()) this.#addOp(v);
      },
    };
    this.#sources.push(source);
    for (const key of messages.keys()) this.#setMessage(source, key);
    for (const v of ops.toArray()) this.#addOp(v);
    messages.observe(source.onMessages);
    ops.observe(source.onOps);
  }

  /** Whether any doc holds a value (valid or not) under this `messages` key: a writer must pick another id. */
  hasKey(key: string): boolean {
    return this.#cands.has(key);
  }

  /** Stops observing every doc. */
  destroy(): void {
    for (const s of this.#sources) {
      s.messages.unobserve(s.onMessages);
      s.ops.unobserve(s.onOps);
    }
  }

  /** The entry stored as `value` was re-judged (`authentic` changed): it is recomputed at the next `update()`. */
  invalidate(value: object): void {
    const slot = this.#slots.get(value);
    if (!slot) return;
    if (slot.kind === 'msg') this.#touchMessage(slot.entry.id);
    else this.#touchOp(slot.entry);
  }

  /** Everything is recomputed at the next `update()` (membership changed). */
  invalidateAll(): void {
    this.#all = true;
  }

  /**
   * The lowest index at which the list (`update().messages`) may differ from the list as it was when this was
   * last called (Infinity: it did not change), then starts over. Every list position below it holds the same
   * object as then. For renderers that rebuild only the changed tail (`MessageDecorator.decorate`).
   */
  takeChangedFrom(): number {
    const from = this.#changedFrom;
    this.#changedFrom = Number.POSITIVE_INFINITY;
    return from;
  }

  /** Index of message `id` in the current list, or -1. O(log n). */
  indexOf(id: string): number {
    const m = this.#shown.get(id);
    if (!m) return -1;
    let lo = 0;
    let hi = this.#order.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const c = byTsThenId(this.#order[mid]!, m);
      if (c === 0) return mid;
      if (c < 0) lo = mid + 1;
      else hi = mid - 1;
    }
    return -1;
  }

  /**
   * Applies what changed since the last call. `messages` is a new array when the list changed (the same
   * array otherwise); `receipts` is sorted by userId, as in `materialize`; `version` grows with every change
   * of either (so callers that call `update` from several places can tell whether they saw it).
   */
  update(): { messages: MaterializedMessage[]; receipts: Array<{ userId: string; msgId: string }>; version: number } {
    if (this.#all) {
      this.#all = false;
      this.#changedFrom = 0;
      for (const id of this.#msgs.keys()) this.#dirtyMsgs.add(id);
      for (const id of this.#shown.keys()) this.#dirtyMsgs.add(id);
      for (const u of this.#readsBy.keys()) this.#dirtyUsers.add(u);
      for (const u of this.#receipts.keys()) this.#dirtyUsers.add(u);
    }
    let changed = false;
    if (this.#dirtyMsgs.size > 0) {
      const removed = new Set<MaterializedMessage>();
      const added: MaterializedMessage[] = [];
      const replaced: Array<[number, MaterializedMessage]> = [];
      for (const id of this.#dirtyMsgs) {
        const prev = this.#shown.get(id);
        const next = this.#compute(id);
        if (prev && next && sameMaterialized(prev, next)) continue;
        if (!prev && !next) continue;
        // Same id and ts (an edit, a reaction): same place in the list, replaced without moving anything.
        const was = prev ? this.indexOf(id) : -1; // `#shown` and `#order` still hold `prev` here
        if (was >= 0 && was < this.#changedFrom) this.#changedFrom = was;
        const at = prev && next && prev.ts === next.ts ? was : -1;
        if (at >= 0) replaced.push([at, next!]);
        else {
          if (prev) removed.add(prev);
          if (next) added.push(next);
        }
        if (next) this.#shown.set(id, next);
        else this.#shown.delete(id);
        for (const s of this.#opsOn.get(id) ?? []) if (s.entry.op.type === 'read') this.#dirtyUsers.add(s.entry.author);
      }
      this.#dirtyMsgs.clear();
      if (replaced.length > 0 || removed.size > 0 || added.length > 0) {
        let order = replaced.length > 0 ? this.#order.slice() : this.#order;
        for (const [at, m] of replaced) order[at] = m;
        if (removed.size > 0) order = order.filter((m) => !removed.has(m));
        added.sort(byTsThenId);
        const merged = mergeSorted(order, added);
        this.#order = merged.list;
        if (added.length > 0 && merged.at < this.#changedFrom) this.#changedFrom = merged.at;
        changed = true;
      }
    }
    if (this.#dirtyUsers.size > 0) {
      let receiptsChanged = false;
      for (const user of this.#dirtyUsers) {
        const best = this.#receiptOf(user);
        if (best === this.#receipts.get(user)) continue;
        receiptsChanged = true;
        if (best === undefined) this.#receipts.delete(user);
        else this.#receipts.set(user, best);
      }
      this.#dirtyUsers.clear();
      if (receiptsChanged) {
        this.#receiptList = [...this.#receipts.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([userId, msgId]) => ({ userId, msgId }));
        changed = true;
      }
    }
    if (changed) this.#version++;
    return { messages: this.#order, receipts: this.#receiptList, version: this.#version };
  }

  #isMember(userId: string): boolean {
    return this.#o.isMember ? this.#o.isMember(userId) : true;
  }

  #touchMessage(id: string): void {
    this.#dirtyMsgs.add(id);
  }

  #touchOp(op: SignedOp): void {
    if (op.op.type === 'read') this.#dirtyUsers.add(op.author);
    else this.#dirtyMsgs.add(op.target);
  }

  #setMessage(source: Source, key: string): void {
    const value = source.messages.get(key);
    let list = this.#cands.get(key);
    const at = list ? list.findIndex((c) => c.source === source) : -1;
    const cand = at >= 0 ? list![at] : undefined;
    if (cand ? cand.value === value : value === undefined) return;
    if (value === undefined) {
      list!.splice(at, 1);
      if (list!.length === 0) this.#cands.delete(key);
    } else {
      const entry = parseMessageEntry(value);
      const slot: MessageSlot | undefined = entry && entry.id === key && typeof value === 'object' && value !== null ? { kind: 'msg', value, entry } : undefined;
      if (cand) {
        cand.value = value;
        cand.slot = slot;
      } else {
        if (!list) this.#cands.set(key, (list = []));
        list.push({ source, value, slot });
      }
      if (slot) {
        this.#slots.set(slot.value, slot);
        this.#o.onEntry?.(slot.value, slot.entry);
      }
    }
    let best: Candidate | undefined;
    for (const c of this.#cands.get(key) ?? []) if (c.slot && (!best || outranks(c.source, best.source))) best = c;
    if (best) this.#msgs.set(key, best.slot!);
    else this.#msgs.delete(key);
    this.#touchMessage(key);
  }

  #addOp(value: unknown): void {
    if (typeof value !== 'object' || value === null) return;
    const known = this.#slots.get(value);
    if (known?.kind === 'op') {
      known.copies++;
      return;
    }
    const entry = parseOpEntry(value);
    if (!entry) return;
    const slot: OpSlot = { kind: 'op', value, entry, copies: 1 };
    this.#slots.set(value, slot);
    let on = this.#opsOn.get(entry.target);
    if (!on) this.#opsOn.set(entry.target, (on = new Set()));
    on.add(slot);
    if (entry.op.type === 'read') {
      let reads = this.#readsBy.get(entry.author);
      if (!reads) this.#readsBy.set(entry.author, (reads = new Set()));
      reads.add(slot);
    }
    this.#touchOp(entry);
    this.#o.onEntry?.(value, entry);
  }

  #removeOp(value: unknown): void {
    if (typeof value !== 'object' || value === null) return;
    const slot = this.#slots.get(value);
    if (slot?.kind !== 'op' || --slot.copies > 0) return;
    this.#slots.delete(value);
    const { entry } = slot;
    const on = this.#opsOn.get(entry.target);
    on?.delete(slot);
    if (on?.size === 0) this.#opsOn.delete(entry.target);
    const reads = this.#readsBy.get(entry.author);
    reads?.delete(slot);
    if (reads?.size === 0) this.#readsBy.delete(entry.author);
    this.#touchOp(entry);
  }

  /** The message as `materialize` would render it, or undefined when it is not in the list. */
  #compute(id: string): MaterializedMessage | undefined {
    const slot = this.#msgs.get(id);
    if (!slot || !this.#o.authentic(slot.value) || !this.#isMember(slot.entry.author)) return undefined;
    const m = slot.entry;
    const out = baseMessage(m);
    const on = this.#opsOn.get(id);
    if (!on) return out;
    const ops: SignedOp[] = [];
    for (const s of on) if (s.entry.op.type !== 'read' && this.#o.authentic(s.value)) ops.push(s.entry);
    ops.sort(byOpOrder);
    const reactions = new Map<string, boolean>();
    for (const op of ops) {
      const body = op.op;
      switch (body.type) {
        case 'edit':
        case 'delete':
          if (op.author !== m.author) break;
          applyContentOp(out, body);
          break;
        case 'react':
          if (this.#isMember(op.author)) reactions.set(`${body.emoji}\u0000${op.author}`, body.on);
          break;
        case 'read':
          break;
        default: {
          const never: never = body;
          throw new TypeError(`unknown op ${String(never)}`);
        }
      }
    }
    out.reactions = reactionList(reactions);
    return out;
  }

  /** Id of the latest listed message `user` marked read with an authentic receipt, if any. */
  #receiptOf(user: string): string | undefined {
    if (!this.#isMember(user)) return undefined;
    let best: MaterializedMessage | undefined;
    for (const s of this.#readsBy.get(user) ?? []) {
      const t = this.#shown.get(s.entry.target);
      if (!t || (best && byTsThenId(t, best) <= 0) || !this.#o.authentic(s.value)) continue;
      best = t;
    }
    return best?.id;
  }
}

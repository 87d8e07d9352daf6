/**
 * Signed membership: the meta document `m_<conv>` (an envelope like a segment, keyed by the epoch keys)
 * holds `mops: Y.Array<SignedMembershipOp>`. Each op is signed by its author's identity key under
 * CONTEXT.membership; `computeMembership` replays the valid ops in (ts, id) order and returns the member set
 * that admins actually signed for. The server's member list is compared against it: a member the server
 * lists without a signed add is `unverified` and gets no key and no voice. The group name lives only here,
 * inside the encrypted meta envelope.
 */
import * as Y from 'yjs';
import { z } from 'zod';
import { CONTEXT, lp, randomBytes, sign, u64be, verify, verifyAsync } from '../crypto/index.ts';
import { fromBase64Url, toBase64Url, toHex, utf8 } from '../protocol/index.ts';

const Uuid = z.string().regex(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
const RoleSchema = z.enum(['admin', 'member']);

/** Longest group name. */
export const MAX_GROUP_NAME = 200;

/** What a membership op does. */
export const MembershipBody = z.discriminatedUnion('type', [
  z
    .object({
      type: z.literal('create'),
      kind: z.enum(['direct', 'group']),
      members: z.array(z.object({ userId: Uuid, role: RoleSchema }).strict()).min(1).max(1000),
    })
    .strict(),
  z.object({ type: z.literal('add'), userId: Uuid, role: RoleSchema }).strict(),
  z.object({ type: z.literal('remove'), userId: Uuid }).strict(),
  z.object({ type: z.literal('leave') }).strict(),
  z.object({ type: z.literal('role'), userId: Uuid, role: RoleSchema }).strict(),
  z.object({ type: z.literal('rename'), name: z.string().max(MAX_GROUP_NAME) }).strict(),
]);
/** See the schema. */
export type MembershipBody = z.infer<typeof MembershipBody>;

/** A signed membership op as stored in the meta doc. */
export const SignedMembershipOp = z
  .object({
    v: z.literal(1),
    id: z.string().regex(/^[0-9a-f]{32}$/),
    author: Uuid,
    ts: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
    op: MembershipBody,
    sig: z.string().regex(/^[A-Za-z0-9_-]{86}$/),
  })
  .strict();
/** See the schema. */
export type SignedMembershipOp = z.infer<typeof SignedMembershipOp>;

/** Canonical signed bytes: lp("parley.member.v1", convId, id, author, u64 ts, type, …fields). */
export function membershipSigningBytes(convId: string, o: Omit<SignedMembershipOp, 'v' | 'sig'>): Uint8Array {
  const head = [utf8('parley.member.v1'), utf8(convId), utf8(o.id), utf8(o.author), u64be(o.ts), utf8(o.op.type)];
  const op = o.op;
  switch (op.type) {
    case 'create':
      return lp(...head, utf8(op.kind), ...op.members.flatMap((m) => [utf8(m.userId), utf8(m.role)]));
    case 'add':
    case 'role':
      return lp(...head, utf8(op.userId), utf8(op.role));
    case 'remove':
      return lp(...head, utf8(op.userId));
    case 'leave':
      return lp(...head);
    case 'rename':
      return lp(...head, utf8(op.name));
    default: {
      const never: never = op;
      throw new TypeError(`unknown membership op ${String(never)}`);
    }
  }
}

/** Signs a membership op with the author's identity secret. Throws `TypeError` on invalid local input. */
export function signMembershipOp(convId: string, author: { userId: string; signingKey: Uint8Array }, op: MembershipBody, ts = Date.now()): SignedMembershipOp {
  const unsigned = { id: toHex(randomBytes(16)), author: author.userId, ts, op };
  const sig = toBase64Url(sign(author.signingKey, CONTEXT.membership, membershipSigningBytes(convId, unsigned)));
  const r = SignedMembershipOp.safeParse({ v: 1, ...unsigned, sig });
  if (!r.success) throw new TypeError(`invalid membership op: ${r.error.message}`);
  return r.data;
}

/** The membership root of a meta inner doc. */
export function membershipRoot(doc: Y.Doc): Y.Array<unknown> {
  return doc.getArray<unknown>('mops');
}

/** Appends a signed op to a meta inner doc. */
export function putMembershipOp(doc: Y.Doc, op: SignedMembershipOp): void {
  membershipRoot(doc).push([structuredClone(op)]);
}

/** The verified state of a conversation's membership. */
export interface VerifiedMembership {
  /** True once a valid `create` op was seen. */
  created: boolean;
  kind: 'direct' | 'group' | undefined;
  /** Current verified members and roles. */
  members: Map<string, 'admin' | 'member'>;
  /** Everyone who was ever a verified member (their old messages stay valid). */
  everMembers: Set<string>;
  /** Group name (last valid rename), or undefined. */
  name: string | undefined;
  /** Ops dropped for schema, signature or authority. */
  dropped: number;
  /** The verified changes in order, for the conversation's timeline ("Ann added Dan"). */
  events: MembershipEvent[];
}

/** One verified membership change. `actor` signed it; `target` is the member it concerns (add, remove, role). */
export interface MembershipEvent {
  id: string;
  ts: number;
  actor: string;
  type: 'create' | 'add' | 'remove' | 'role' | 'leave' | 'rename';
  target?: string;
  role?: 'admin' | 'member';
  name?: string;
}

/** Most answers `MembershipSignatures` keeps (a conversation's membership log is far smaller). */
const MEMBERSHIP_SIGNATURES_KEPT = 10_000;

/**
 * Membership signatures checked ahead of `computeMembership` with the platform's native Ed25519 (`verifyAsync`,
 * the same answers as noble): a noble verification costs milliseconds while a conversation opens. Answers are
 * kept by public key, signed bytes and signature, so one applies only to exactly what was checked.
 */
export class MembershipSignatures {
  readonly #answers = new Map<string, boolean>();

  #key(publicKey: Uint8Array, bytes: Uint8Array, sig: string): string {
    return `${toBase64Url(publicKey)}.${sig}.${toBase64Url(bytes)}`;
  }

  /** The answer for this key, signed bytes and signature, if `prepare` checked them. */
  known(publicKey: Uint8Array, bytes: Uint8Array, sig: string): boolean | undefined {
    return this.#answers.get(this.#key(publicKey, bytes, sig));
  }

  /** Checks the signatures of `ops` (those with a key `identityKey` knows now) that are not known yet. */
  async prepare(ops: readonly unknown[], options: { convId: string; identityKey: (userId: string) => Uint8Array | undefined }): Promise<void> {
    const checks: Promise<void>[] = [];
    for (const raw of ops) {
      const r = SignedMembershipOp.safeParse(raw);
      const key = r.success ? options.identityKey(r.data.author) : undefined;
      if (!r.success || !key) continue;
      const bytes = membershipSigningBytes(options.convId, r.data);
      const k = this.#key(key, bytes, r.data.sig);
      if (this.#answers.has(k)) continue;
      let sig: Uint8Array;
      try {
        sig = fromBase64Url(r.data.sig);
      } catch {
        continue; // computeMembership drops it
      }
      checks.push(
        verifyAsync(key, CONTEXT.membership, bytes, sig).then((ok) => {
          if (this.#answers.size >= MEMBERSHIP_SIGNATURES_KEPT) this.#answers.clear();
          this.#answers.set(k, ok);
        }),
      );
    }
    await Promise.all(checks);
  }
}

/**
 * Replays the ops in (ts, id) order. `create` counts only when signed by `creatorId` (the epoch-0 creator)
 * listing themself as admin; `add`/`remove`/`role`/`rename` only when the author is a verified admin at that
 * point (`add` only of a non-member); `leave` only for the author themself. When the last admin leaves, the longest-standing remaining
 * member becomes admin (the same rule the server applies). Never throws for doc content.
 */
export function computeMembership(
  ops: readonly unknown[],
  options: {
    convId: string;
    creatorId: string | undefined;
    identityKey: (userId: string) => Uint8Array | undefined;
    /** Answers checked ahead (natively); a signature it does not know is verified here (noble). */
    signatures?: MembershipSignatures;
  },
): VerifiedMembership {
  const out: VerifiedMembership = { created: false, kind: undefined, members: new Map(), everMembers: new Set(), name: undefined, dropped: 0, events: [] };
  const parsed: SignedMembershipOp[] = [];
  const seen = new Set<string>();
  for (const raw of ops) {
    const r = SignedMembershipOp.safeParse(raw);
    if (!r.success) {
      out.dropped++;
      continue;
    }
    if (seen.has(r.data.sig)) continue;
    seen.add(r.data.sig);
    parsed.push(r.data);
  }
  parsed.sort((a, b) => a.ts - b.ts || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  for (const op of parsed) {
    const key = options.identityKey(op.author);
    let sig: Uint8Array;
    try {
      sig = fromBase64Url(op.sig);
    } catch {
      out.dropped++;
      continue;
    }
    const bytes = key ? membershipSigningBytes(options.convId, op) : undefined;
    if (!key || !bytes || !(options.signatures?.known(key, bytes, op.sig) ?? verify(key, CONTEXT.membership, bytes, sig))) {
      out.dropped++;
      continue;
    }
    const body = op.op;
    const isAdmin = out.members.get(op.author) === 'admin';
    const before = out.dropped;
    switch (body.type) {
      case 'create':
        if (out.created || op.author !== options.creatorId || !body.members.some((m) => m.userId === op.author && m.role === 'admin')) {
          out.dropped++;
          break;
        }
        out.created = true;
        out.kind = body.kind;
        for (const m of body.members) {
          out.members.set(m.userId, m.role);
          out.everMembers.add(m.userId);
        }
        break;
      case 'add':
        // Adding a current member changes nothing: roles change only through `role` (an `add` of an admin
        // used to demote them, so a mistyped self-add left a group without admins).
        if (!out.created || !isAdmin || out.kind === 'direct' || out.members.has(body.userId)) {
          out.dropped++;
          break;
        }
        out.members.set(body.userId, body.role);
        out.everMembers.add(body.userId);
        break;
      case 'remove':
        if (!isAdmin || !out.members.has(body.userId)) {
          out.dropped++;
          break;
        }
        out.members.delete(body.userId);
        break;
      case 'role':
        if (!isAdmin || !out.members.has(body.userId)) {
          out.dropped++;
          break;
        }
        out.members.set(body.userId, body.role);
        break;
      case 'leave':
        if (!out.members.has(op.author)) {
          out.dropped++;
          break;
        }
        out.members.delete(op.author);
        if (![...out.members.values()].includes('admin')) {
          const heir = out.members.keys().next();
          if (!heir.done) out.members.set(heir.value, 'admin');
        }
        break;
      case 'rename':
        if (!isAdmin) {
          out.dropped++;
          break;
        }
        out.name = body.name;
        break;
      default: {
        const never: never = body;
        throw new TypeError(`unknown membership op ${String(never)}`);
      }
    }
    if (out.dropped === before) {
      const event: MembershipEvent = { id: op.id, ts: op.ts, actor: op.author, type: body.type };
      if (body.type === 'add' || body.type === 'remove' || body.type === 'role') event.target = body.userId;
      if (body.type === 'add' || body.type === 'role') event.role = body.role;
      if (body.type === 'rename') event.name = body.name;
      out.events.push(event);
    }
  }
  return out;
}

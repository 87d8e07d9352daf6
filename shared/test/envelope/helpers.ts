/** Test fixtures for the envelope layer: users, resolvers, peers and a tiny in-memory network. */
import * as Y from 'yjs';
import { z } from 'zod';
import { generateSigningKeyPair, randomBytes } from '../../src/crypto/index.ts';
import { fromBase64Url, fromHex, toHex } from '../../src/protocol/index.ts';
import {
  EnvelopeBinding,
  entrySigningBytes,
  newDeviceIdFor,
  identityVerifier,
  parseMessageEntry,
  parseOpEntry,
  innerRoots,
  materialize,
  MemoryCounterStore,
  MessageProjection,
  VouchedEntries,
  putMessage,
  putOp,
  signMessage,
  signOp,
  VerificationCache,
  type CounterStore,
  type FrameResolvers,
  type FrameScope,
  type OpBody,
  type SignedMessage,
  type VerifyFn,
} from '../../src/envelope/index.ts';

export const SCOPE: FrameScope = { convId: 'c_8f1d2a', segmentId: 's_0a1b2c3d4e5f' };
export const EPOCH = 1;

let userSeq = 0;
/** A user with an identity key pair and a deterministic-looking UUID. */
export interface TestUser {
  userId: string;
  publicKey: Uint8Array;
  secretKey: Uint8Array;
}
export function makeUser(): TestUser {
  const kp = generateSigningKeyPair();
  userSeq++;
  const n = userSeq.toString(16).padStart(12, '0');
  return { userId: `00000000-0000-4000-8000-${n}`, publicKey: kp.publicKey, secretKey: kp.secretKey };
}

/** A legacy device id: random, naming no user (as before [INNER-11]). */
export function newDeviceId(): string {
  return toHex(randomBytes(16));
}

/** A conversation world: members, keys per epoch; resolvers read it live so tests can add keys later. */
export class World {
  readonly users = new Map<string, TestUser>();
  readonly members = new Map<number, Set<string>>();
  readonly keys = new Map<number, Uint8Array>();
  readonly cache = new VerificationCache();
  constructor(users: TestUser[], epoch = EPOCH, key: Uint8Array = randomBytes(32)) {
    for (const u of users) this.users.set(u.userId, u);
    this.members.set(epoch, new Set(users.map((u) => u.userId)));
    this.keys.set(epoch, key);
  }
  resolvers(overrides: Partial<FrameResolvers> = {}, keys: Map<number, Uint8Array> = this.keys): FrameResolvers {
    return {
      signerKey: (userId) => this.users.get(userId)?.publicKey,
      isMember: (userId, epoch) => this.members.get(epoch)?.has(userId) ?? false,
      epochKey: (epoch) => keys.get(epoch),
      ...overrides,
    };
  }
  verify() {
    return this.cache.wrap(identityVerifier((u) => this.users.get(u)?.publicKey));
  }
}

/** One device: envelope doc, inner doc, binding, and a local message counter. */
export class Peer {
  readonly envelope = new Y.Doc();
  inner = new Y.Doc();
  binding: EnvelopeBinding;
  /** Tagged for the user ([INNER-11]), as a client makes it. */
  readonly deviceId: string;
  private idCounter = 0;
  readonly counters: CounterStore;
  constructor(
    readonly world: World,
    readonly user: TestUser,
    opts: { resolvers?: FrameResolvers; counters?: CounterStore; envelope?: Uint8Array; deviceId?: string } = {},
  ) {
    this.deviceId = opts.deviceId ?? newDeviceIdFor(user.userId);
    this.counters = opts.counters ?? new MemoryCounterStore();
    if (opts.envelope) Y.applyUpdate(this.envelope, opts.envelope);
    this.binding = this.bind(opts.resolvers);
  }
  bind(resolvers?: FrameResolvers): EnvelopeBinding {
    return new EnvelopeBinding({
      envelope: this.envelope,
      inner: this.inner,
      scope: SCOPE,
      self: { userId: this.user.userId, deviceId: this.deviceId, signingKey: this.user.secretKey },
      epoch: EPOCH,
      resolvers: resolvers ?? this.world.resolvers(),
      counters: this.counters,
      coalesceMs: Infinity,
    });
  }
  get author() {
    return { userId: this.user.userId, deviceId: this.deviceId, signingKey: this.user.secretKey };
  }
  nextId(): number {
    return ++this.idCounter;
  }
  /** Writes a message into the inner doc (sealed on flush); returns its id. */
  send(text: string, ts = Date.now(), replyTo?: string): string {
    for (;;) {
      const m = signMessage(SCOPE.convId, this.author, { counter: this.nextId(), ts, text, ...(replyTo ? { replyTo } : {}) });
      if (putMessage(this.inner, m)) return m.id;
    }
  }
  op(target: string, op: OpBody, ts = Date.now()): void {
    putOp(this.inner, signOp(SCOPE.convId, this.author, { counter: this.nextId(), ts, target, op }));
  }
  view() {
    return materialize(this.inner, { convId: SCOPE.convId, verify: this.world.verify() });
  }
  async settle(): Promise<void> {
    await this.binding.flush();
    await this.binding.whenIdle();
  }
}

/** Full two-way state exchange between envelope docs (what the Yjs sync protocol achieves). */
export function syncDocs(...docs: Y.Doc[]): void {
  for (const a of docs)
    for (const b of docs) if (a !== b) Y.applyUpdate(b, Y.encodeStateAsUpdate(a, Y.encodeStateVector(b)), 'net');
}

export async function syncPeers(...peers: Peer[]): Promise<void> {
  for (let round = 0; round < 4; round++) {
    for (const p of peers) await p.settle();
    syncDocs(...peers.map((p) => p.envelope));
    for (const p of peers) await p.binding.whenIdle();
  }
}

/** Replaces element `index` of a log with `bytes` (a malicious server rewriting storage). */
export function frames(peer: Peer): Uint8Array[] {
  return peer.binding.log.toArray().filter((f): f is Uint8Array => f instanceof Uint8Array);
}

/**
 * What `Conversation` does with a segment ([INNER-8]): listens to `vouched` events from the start, projects the
 * inner doc, and settles each new entry by a vouch or else by verifying its own signature (counted in
 * `verified`).
 */
export class Reader {
  readonly vouched = new VouchedEntries();
  readonly authentic = new WeakMap<object, boolean>();
  verified = 0;
  readonly projection: MessageProjection;
  constructor(
    readonly peer: Peer,
    world: World,
    convId = SCOPE.convId,
  ) {
    const verify = identityVerifier((u) => world.users.get(u)?.publicKey);
    peer.binding.on((e) => {
      if (e.type === 'vouched') this.vouched.add(e.values);
    });
    this.projection = new MessageProjection(peer.inner, {
      authentic: (v) => this.authentic.get(v) === true,
      onEntry: (value, entry) => {
        if (this.vouched.take(value)) return void this.authentic.set(value, true);
        this.verified++;
        this.authentic.set(value, verify(entry.author, entrySigningBytes(convId, entry), fromBase64Url(entry.sig)));
      },
    });
  }
  async texts(): Promise<string[]> {
    await this.peer.binding.whenIdle();
    return this.projection.update().messages.map((m) => m.text);
  }
  ids(): string[] {
    return this.projection.update().messages.map((m) => m.id);
  }
}

/** A message claiming `author` with a signature that does not verify (made with the `forger` key). */
export function forged(author: { userId: string }, deviceId: string, counter: number, text: string, forger: Uint8Array): SignedMessage {
  return signMessage(SCOPE.convId, { userId: author.userId, deviceId, signingKey: forger }, { counter, ts: 100 + counter, text });
}

const Hex = z.string().regex(/^[0-9a-f]*$/).transform((h, ctx) => fromHex(h) ?? (ctx.addIssue({ code: 'custom', message: 'hex' }), z.NEVER));

/** Schema of a frozen frame fixture (test/fixtures/*.json, written by make-fixture.ts / make-snapshot-fixture.ts). */
export function frameFixture<K extends 'update' | 'snapshot'>(kind: K) {
  return z
    .object({
      description: z.string(),
      convId: z.string(),
      segmentId: z.string(),
      kind: z.literal(kind),
      epoch: z.number().int(),
      epochKey: Hex,
      userId: z.string(),
      deviceId: z.string(),
      counter: z.number().int(),
      signingSeed: Hex,
      signingPublicKey: Hex,
      nonce: Hex,
      plaintext: Hex,
      frame: Hex,
    })
    .strict();
}

/**
 * [COMPACT-3] [INNER-8] The laundering attempt: `u` writes a real message, `v` plants a message naming `u` with
 * `v`'s own signature (`forged`) in `v`'s inner doc, both sync, and `u`'s device compacts, so `u` signs a
 * snapshot carrying the forgery. Returns both peers and the forgery.
 */
export async function launderedSnapshot(world: World, u: TestUser, v: TestUser, counter: number, text: string): Promise<{ a: Peer; b: Peer; fake: SignedMessage }> {
  // `u` on a legacy device: a key under a tagged one is refused at the frame ([INNER-11]) before this layer.
  const a = new Peer(world, u, { deviceId: newDeviceId() });
  const b = new Peer(world, v);
  a.send('real', 1);
  await syncPeers(a, b);
  const fake = forged(u, a.deviceId, counter, text, v.secretKey);
  innerRoots(b.inner).messages.set(fake.id, fake);
  await syncPeers(a, b);
  if (!innerRoots(a.inner).messages.has(fake.id)) throw new Error('the forgery did not reach the compactor');
  const compacted = await a.binding.compact({ minFrames: 1 });
  if (!compacted.ok) throw new Error(`compaction failed: ${compacted.code}`);
  return { a, b, fake };
}

const ProcessEnv = z.object({ env: z.record(z.string(), z.string().optional()) });

/** fast-check settings: PARLEY_FC_SEED and PARLEY_FC_RUNS from the environment, else `seed` and `numRuns`. */
export function fcSettings(seed: number, numRuns: number): { seed: number; numRuns: number } {
  const proc = ProcessEnv.safeParse(Reflect.get(globalThis, 'process'));
  const env = proc.success ? proc.data.env : {};
  return { seed: Number(env.PARLEY_FC_SEED ?? seed), numRuns: Number(env.PARLEY_FC_RUNS ?? numRuns) };
}

/**
 * Real, cached signature checks against `users`' identity keys: `verify` for `materialize`, and `authentic` for a
 * `MessageProjection` (an entry counts when its own signature verifies).
 */
export function authenticOver(users: readonly TestUser[]): { verify: VerifyFn; authentic: (value: object) => boolean } {
  const verify = new VerificationCache().wrap(identityVerifier((id) => users.find((x) => x.userId === id)?.publicKey));
  const authentic = (value: object) => {
    const e = parseMessageEntry(value) ?? parseOpEntry(value);
    return e !== undefined && verify(e.author, entrySigningBytes(SCOPE.convId, e), fromBase64Url(e.sig));
  };
  return { verify, authentic };
}

/** Test fixtures for the envelope layer: users, resolvers, peers and a tiny in-memory network. */
import * as Y from 'yjs';
import { generateSigningKeyPair, randomBytes } from '../../src/crypto/index.ts';
import { toHex } from '../../src/protocol/index.ts';
import {
  EnvelopeBinding,
  identityVerifier,
  materialize,
  MemoryCounterStore,
  putMessage,
  putOp,
  signMessage,
  signOp,
  VerificationCache,
  type CounterStore,
  type FrameResolvers,
  type FrameScope,
  type OpBody,
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
  readonly deviceId = newDeviceId();
  private idCounter = 0;
  readonly counters: CounterStore;
  constructor(
    readonly world: World,
    readonly user: TestUser,
    opts: { resolvers?: FrameResolvers; counters?: CounterStore; envelope?: Uint8Array } = {},
  ) {
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

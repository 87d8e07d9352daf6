/**
 * Shared fixtures for the sync, REST and durability tests: real users with real key pairs, conversations
 * created through REST with real epoch-key wraps, real sealed frames, a real provider, and a RAW
 * WebSocket client that speaks the Hocuspocus wire format (for input no honest provider would send).
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as decoding from 'lib0/decoding';
import * as encoding from 'lib0/encoding';
import * as syncProtocol from 'y-protocols/sync';
import { Awareness } from 'y-protocols/awareness';
import * as Y from 'yjs';
import WebSocket from 'ws';
import { HocuspocusProvider, HocuspocusProviderWebsocket } from '@hocuspocus/provider';
import { CONTEXT, generateBoxKeyPair, generateSigningKeyPair, sign, type BoxKeyPair, type SigningKeyPair } from '@parley/shared/crypto';
import { Conversation, SessionResponse, toBase64Url } from '@parley/shared/protocol';
import { sealFrame } from '@parley/shared/envelope';
import { epochKeyCommitment, generateEpochKey, wrapEpochKey } from '../../../shared/src/crypto/wrap.ts';
import { call, newAccount, uniqueName } from '../helpers/accounts.ts';
import { createTestDatabase, RELAXED_RATE_LIMITS, type TestServer } from '../helpers/server.ts';
import { loadConfig } from '../../src/config.ts';
import { startServer } from '../../src/server.ts';
import type { SyncLimits } from '../../src/sync/sync-server.ts';

/** A registered user with the real key pairs behind its public keys. */
export interface TestUser {
  id: string;
  username: string;
  token: string;
  identity: SigningKeyPair;
  sealing: BoxKeyPair;
  deviceId: string;
}

/** Registers a user whose public keys are real (so wraps and frames made for it are real). */
export async function registerUser(baseUrl: string, prefix = 'u'): Promise<TestUser> {
  const identity = generateSigningKeyPair();
  const sealing = generateBoxKeyPair();
  const account = newAccount(uniqueName(prefix));
  account.body['publicKeys'] = {
    identity: toBase64Url(identity.publicKey),
    sealing: toBase64Url(sealing.publicKey),
    sealingSig: toBase64Url(sign(identity.secretKey, CONTEXT.sealingKey, sealing.publicKey)),
  };
  const res = await call(baseUrl, 'POST', '/api/auth/register', { json: account.body });
  if (res.status !== 201) throw new Error(`register failed: ${res.status} ${JSON.stringify(res.body)}`);
  const session = SessionResponse.parse(res.body);
  return { id: session.user.id, username: account.username, token: session.accessToken, identity, sealing, deviceId: randomBytes(16).toString('hex') };
}

/** A real epoch upload: a fresh key, its commitment, and a signed sealed-box wrap per recipient. */
export function epochUpload(convId: string, epoch: number, wrapper: TestUser, recipients: readonly TestUser[], key = generateEpochKey()) {
  return {
    key,
    body: {
      epoch,
      keyCommitment: toBase64Url(epochKeyCommitment(convId, epoch, key)),
      wraps: recipients.map((r) => {
        const w = wrapEpochKey({ convId, epoch, key, recipientId: r.id, recipientSealingPublic: r.sealing.publicKey, wrapperIdentitySecret: wrapper.identity.secretKey });
        return { recipientId: w.recipientId, wrap: toBase64Url(w.wrap), sig: toBase64Url(w.sig) };
      }),
    },
  };
}

/** Creates a conversation through REST; returns it with the epoch-0 key. */
export async function createConversation(baseUrl: string, creator: TestUser, others: readonly TestUser[], kind: 'direct' | 'group' = 'group') {
  // The client picks the id: epoch-0 wraps and the key commitment bind it.
  const id = randomUUID();
  const up = epochUpload(id, 0, creator, [creator, ...others]);
  const res = await call(baseUrl, 'POST', '/api/conversations', { token: creator.token, json: { id, kind, memberIds: others.map((o) => o.id), epoch: up.body } });
  if (res.status !== 201 && res.status !== 200) throw new Error(`create failed: ${res.status} ${JSON.stringify(res.body)}`);
  const conversation = Conversation.parse((res.body as { conversation: unknown }).conversation);
  return { conversation, key: up.key, status: res.status };
}

/** The open segment of a conversation. */
export function openSegment(c: Conversation): string {
  const s = c.segments.find((x) => x.state === 'open');
  if (!s) throw new Error('no open segment');
  return s.id;
}

/** A real sealed frame (the server never opens it; honest peers would). */
export function frameFor(user: TestUser, scope: { convId: string; segmentId: string }, epochKey: Uint8Array, counter: number, text = `frame ${counter}`): Uint8Array {
  return sealFrame({
    scope,
    kind: 'update',
    epoch: 0,
    epochKey,
    userId: user.id,
    deviceId: user.deviceId,
    counter,
    signingKey: user.identity.secretKey,
    plaintext: new TextEncoder().encode(text),
  });
}

/** Polls `pred` until it holds (or throws after `ms`). */
export async function waitFor(pred: () => boolean | Promise<boolean>, ms = 10_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    if (await pred()) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** The WebSocket URL of a test server's sync endpoint. */
export function syncUrl(httpUrl: string): string {
  return `${httpUrl.replace(/^http/, 'ws')}/sync`;
}

/** A real provider on its own socket, recording auth results, closes and acks. */
export interface TestProvider {
  doc: Y.Doc;
  log: Y.Array<Uint8Array>;
  provider: HocuspocusProvider;
  socket: HocuspocusProviderWebsocket;
  authFailures: string[];
  authenticated: string[];
  closes: string[];
  synced(): Promise<void>;
  /** Resolves when every local change has been acknowledged. */
  acked(ms?: number): Promise<void>;
  destroy(): void;
}

/** Attaches a provider for `name` (optionally sharing `socket`). */
export function connectProvider(httpUrl: string, token: string, name: string, opts: { socket?: HocuspocusProviderWebsocket; doc?: Y.Doc } = {}): TestProvider {
  const socket = opts.socket ?? new HocuspocusProviderWebsocket({ url: syncUrl(httpUrl), delay: 100, minDelay: 100, maxDelay: 500 });
  const doc = opts.doc ?? new Y.Doc();
  const authFailures: string[] = [];
  const authenticated: string[] = [];
  const closes: string[] = [];
  // y-protocols starts every Awareness with the state {}, which the server refuses ([SYNC-4]): clients
  // announce null until they have an encrypted presence state.
  const awareness = new Awareness(doc);
  awareness.setLocalState(null);
  const provider = new HocuspocusProvider({
    websocketProvider: socket,
    name,
    document: doc,
    awareness,
    token,
    onAuthenticationFailed: ({ reason }) => authFailures.push(reason),
    onAuthenticated: ({ scope }) => authenticated.push(scope),
    onClose: ({ event }) => closes.push(event.reason),
  });
  provider.attach();
  return {
    doc,
    log: doc.getArray<Uint8Array>('log'),
    provider,
    socket,
    authFailures,
    authenticated,
    closes,
    synced: () => waitFor(() => provider.isSynced, 10_000, `${name} synced`),
    acked: (ms = 10_000) => waitFor(() => provider.unsyncedChanges === 0, ms, `${name} acked`),
    destroy() {
      provider.destroy();
      if (!opts.socket) socket.destroy();
    },
  };
}

/** A message received by the raw client, decoded as far as the Hocuspocus envelope goes. */
export interface RawMessage {
  doc: string;
  type: number;
  /** Auth (2): 0 token request, 1 permission denied, 2 authenticated. Sync (0): y-sync subtype. */
  sub?: number;
  /** Auth reason/scope, or CLOSE (7) reason. */
  text?: string;
  /** Sync payload (state vector or update), or SyncStatus value. */
  bytes?: Uint8Array;
  status?: number;
}

/** Hocuspocus message types (types.ts MessageType). */
export const MSG = { Sync: 0, Awareness: 1, Auth: 2, QueryAwareness: 3, Stateless: 5, Close: 7, SyncStatus: 8 } as const;

/** A raw WebSocket speaking the Hocuspocus wire format, for hostile input. */
export class RawClient {
  readonly messages: RawMessage[] = [];
  readonly closed: Promise<{ code: number; reason: string }>;
  closeEvent: { code: number; reason: string } | null = null;
  private constructor(readonly ws: WebSocket) {
    this.closed = new Promise((resolve) =>
      ws.on('close', (code, reason) => {
        this.closeEvent = { code, reason: reason.toString() };
        resolve(this.closeEvent);
      }),
    );
    ws.on('error', () => {});
    ws.on('message', (data: Buffer) => this.messages.push(RawClient.decode(new Uint8Array(data))));
  }

  /** Opens a socket (rejects on an HTTP refusal, with the status in the message). */
  static async open(httpUrl: string, headers: Record<string, string> = {}): Promise<RawClient> {
    const ws = new WebSocket(syncUrl(httpUrl), { headers });
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
      ws.once('error', reject);
    });
    return new RawClient(ws);
  }

  static decode(data: Uint8Array): RawMessage {
    const d = decoding.createDecoder(data);
    const doc = decoding.readVarString(d);
    const type = decoding.readVarUint(d);
    const m: RawMessage = { doc, type };
    try {
      if (type === MSG.Auth) {
        m.sub = decoding.readVarUint(d);
        if (decoding.hasContent(d)) m.text = decoding.readVarString(d);
      } else if (type === MSG.Close) m.text = decoding.readVarString(d);
      else if (type === MSG.SyncStatus) m.status = decoding.readVarUint(d);
      else if (type === MSG.Sync) {
        m.sub = decoding.readVarUint(d);
        m.bytes = decoding.readVarUint8Array(d);
      }
    } catch {
      // partial decode is fine for tests
    }
    return m;
  }

  send(bytes: Uint8Array): void {
    this.ws.send(bytes);
  }

  private frame(doc: string, type: number, write: (e: encoding.Encoder) => void): Uint8Array {
    const e = encoding.createEncoder();
    encoding.writeVarString(e, doc);
    encoding.writeVarUint(e, type);
    write(e);
    return encoding.toUint8Array(e);
  }

  auth(doc: string, token: string): void {
    this.send(this.frame(doc, MSG.Auth, (e) => { encoding.writeVarUint(e, 0); encoding.writeVarString(e, token); }));
  }
  /** Auth and wait for the answer: 'read-write' | 'readonly' | the denial reason. */
  async authenticate(doc: string, token: string): Promise<{ ok: boolean; text: string }> {
    const from = this.messages.length;
    this.auth(doc, token);
    const m = await this.next((x) => x.doc === doc && x.type === MSG.Auth && (x.sub === 1 || x.sub === 2), from);
    return { ok: m.sub === 2, text: m.text ?? '' };
  }
  syncStep1(doc: string, ydoc = new Y.Doc()): void {
    this.send(this.frame(doc, MSG.Sync, (e) => syncProtocol.writeSyncStep1(e, ydoc)));
  }
  update(doc: string, update: Uint8Array): void {
    this.send(this.frame(doc, MSG.Sync, (e) => syncProtocol.writeUpdate(e, update)));
  }
  syncStep2(doc: string, update: Uint8Array): void {
    this.send(this.frame(doc, MSG.Sync, (e) => { encoding.writeVarUint(e, syncProtocol.messageYjsSyncStep2); encoding.writeVarUint8Array(e, update); }));
  }
  awareness(doc: string, update: Uint8Array): void {
    this.send(this.frame(doc, MSG.Awareness, (e) => encoding.writeVarUint8Array(e, update)));
  }

  /** Waits for a message matching `pred` received at index >= `from`. */
  async next(pred: (m: RawMessage) => boolean, from = 0, ms = 10_000): Promise<RawMessage> {
    let found: RawMessage | undefined;
    await waitFor(() => (found = this.messages.slice(from).find(pred)) !== undefined || this.closeEvent !== null, ms, 'raw message');
    if (!found) throw new Error(`socket closed (${JSON.stringify(this.closeEvent)}) before the expected message`);
    return found;
  }
  /** Waits for the server's CLOSE for `doc`; returns its reason. */
  async docClosed(doc: string, from = 0, ms = 10_000): Promise<string> {
    return (await this.next((m) => m.doc === doc && m.type === MSG.Close, from, ms)).text ?? '';
  }
  close(): void {
    this.ws.close();
  }
}

/** An awareness update (y-protocols encoding) with the given entries. */
export function awarenessUpdate(entries: { clientId: number; clock: number; state: unknown }[]): Uint8Array {
  const e = encoding.createEncoder();
  encoding.writeVarUint(e, entries.length);
  for (const x of entries) {
    encoding.writeVarUint(e, x.clientId);
    encoding.writeVarUint(e, x.clock);
    encoding.writeVarString(e, JSON.stringify(x.state));
  }
  return encoding.toUint8Array(e);
}

/** A valid encrypted-presence state. */
export function presence(epoch = 0): { v: 1; epoch: number; ciphertext: string } {
  return { v: 1, epoch, ciphertext: toBase64Url(randomBytes(48)) };
}

/** A Yjs update that pushes `frames` into `log` of a fresh document with a fixed client id. */
export function pushUpdate(frames: Uint8Array[], clientID?: number): Uint8Array {
  const d = new Y.Doc();
  if (clientID !== undefined) d.clientID = clientID;
  d.getArray<Uint8Array>('log').push(frames);
  return Y.encodeStateAsUpdate(d);
}

/** Rows of doc_updates for a document, merged into a Y.Doc; returns the frames in `log`. */
export function framesOf(updates: Uint8Array[]): Uint8Array[] {
  const d = new Y.Doc();
  for (const u of updates) Y.applyUpdate(d, u);
  return d.getArray<Uint8Array>('log').toArray();
}

/** Like helpers/server.ts `startTestServer`, plus sync limits (which that helper does not pass through). */
export async function startSyncTestServer(options: {
  backend: 'postgres' | 'pglite';
  syncLimits?: Partial<SyncLimits>;
  env?: Record<string, string>;
  /** Reuse this PostgreSQL database (not dropped on close). */
  databaseUrl?: string;
  /** Reuse this data directory (PGlite lives here; not removed on close). */
  dataDir?: string;
}): Promise<TestServer & { databaseUrl: string | null; dataDir: string }> {
  const ownDir = options.dataDir === undefined;
  const dataDir = options.dataDir ?? (await mkdtemp(path.join(tmpdir(), 'parley-sync-test-')));
  const database = options.backend === 'postgres' && !options.databaseUrl ? await createTestDatabase() : null;
  const databaseUrl = options.databaseUrl ?? database?.url ?? null;
  const jwtSecret = options.env?.['JWT_SECRET'] ?? randomBytes(32).toString('base64url');
  const logs: string[] = [];
  try {
    const config = loadConfig({
      PORT: '0',
      HOST: '127.0.0.1',
      DATA_DIR: dataDir,
      LOG_LEVEL: 'debug',
      ...(databaseUrl ? { DATABASE_URL: databaseUrl } : {}),
      ...options.env,
      JWT_SECRET: jwtSecret,
    });
    const server = await startServer(config, {
      logSink: (line) => logs.push(line),
      rateLimits: RELAXED_RATE_LIMITS,
      appDistDir: path.join(dataDir, 'no-app'),
      ...(options.syncLimits ? { syncLimits: options.syncLimits } : {}),
    });
    return {
      server,
      url: server.url,
      logs,
      jwtSecret,
      databaseUrl,
      dataDir,
      query: (sql, params) => server.db.query(sql, params),
      async close() {
        await server.close();
        await database?.drop();
        if (ownDir) await rm(dataDir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await database?.drop();
    if (ownDir) await rm(dataDir, { recursive: true, force: true });
    throw error;
  }
}

/** The stored updates of one document, oldest first. */
export async function storedUpdates(srv: Pick<TestServer, 'query'>, doc: string): Promise<Uint8Array[]> {
  const r = await srv.query('SELECT update FROM doc_updates WHERE doc = $1 ORDER BY seq', [doc]);
  return r.rows.map((row: { update: Buffer }) => new Uint8Array(row.update));
}

/** Registers several users at once, typed as a tuple matching `names`. */
export async function registerUsers<const N extends readonly string[]>(baseUrl: string, names: N): Promise<{ -readonly [K in keyof N]: TestUser }> {
  const users = await Promise.all(names.map((n) => registerUser(baseUrl, n)));
  return users as { -readonly [K in keyof N]: TestUser };
}

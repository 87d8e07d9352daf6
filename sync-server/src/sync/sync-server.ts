/**
 * The sync endpoint: Hocuspocus 4 mounted at `/sync` on the same HTTP(S) server as the REST API.
 * A composition of small extensions, each with one job (docs/protocol.md [SYNC-*]):
 *
 * - `AuthExtension`: JWT + document access in `onAuthenticate`, read-only for closed segments and foreign
 *   profiles, re-checks in `onTokenSync`.
 * - `Limits`: per-connection message budget and size caps in `beforeHandleMessage`.
 * - `AwarenessGuard`: only `{v, epoch, ciphertext}` states, only for client ids the connection owns.
 * - `EnvelopeGuard`: `beforeSync` admits only binary frames into `log` and returns at once, so Hocuspocus
 *   applies and relays the update without waiting for PostgreSQL; the append starts right away and the
 *   connection's acknowledgement (`SyncStatus`) is held until it is committed (`DurableAcks`: an
 *   acknowledged update is durable, [SYNC-5], [SYNC-8], [SYNC-9]).
 * - `Persistence` (@hocuspocus/extension-database): loads the merged rows; its debounced store runs the
 *   key-less structural compaction of the rows.
 * - `Presence`: tells contacts when a user comes online or goes offline, on their inbox channel.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { Hocuspocus, type Connection, type Document, type Extension } from '@hocuspocus/server';
import { Database as DatabaseExtension } from '@hocuspocus/extension-database';
import { Redis as RedisExtension } from '@hocuspocus/extension-redis';
import { Redis as IORedis } from 'ioredis';
import * as decoding from 'lib0/decoding';
import { WebSocketServer, type WebSocket } from 'ws';
import { CLOSE, docNameFor, KEEPALIVE, type InboxNotice } from '@parley/shared/protocol';
import type { Database } from '../db/database.ts';
import { compactDoc, docStats, loadMerged, UpdateAppender } from '../db/doc-updates.ts';
import { contactsOf, memberIds, touchConversation } from '../db/conversations.ts';
import { revokedAmong } from '../db/sessions.ts';
import type { TokenService } from '../auth/tokens.ts';
import type { Logger } from '../log.ts';
import { TokenBuckets } from '../auth/rate-limit.ts';
import { authorizeDocument, type DocTarget } from './doc-access.ts';
import { parseAwarenessUpdate } from './awareness.ts';
import { checkEnvelopeUpdate } from './envelope-validator.ts';
import { DurableAcks, rangesOf } from './durable-acks.ts';
import { SyncRejection } from './errors.ts';
import { Metrics } from '../metrics.ts';
import { localPresence, redisPresence, type PresenceStore } from './presence.ts';

/** Limits of the sync endpoint (documented in docs/operations.md). */
export interface SyncLimits {
  /** Largest WebSocket message; bigger closes the whole socket (1009). */
  maxPayloadBytes: number;
  /** Largest single frame (one element of `log`). */
  frameMaxBytes: number;
  /** Message budget per document connection: burst and refill per second. */
  messagesBurst: number;
  messagesPerSecond: number;
  /** Row count above which the debounced store compacts a document's rows. */
  compactAfterRows: number;
}

export const DEFAULT_SYNC_LIMITS: SyncLimits = Object.freeze({
  maxPayloadBytes: 8 * 1024 * 1024,
  frameMaxBytes: 256 * 1024,
  messagesBurst: 400,
  messagesPerSecond: 500,
  compactAfterRows: 50,
});

/** Per-connection context set by `onAuthenticate`. */
export interface SyncContext {
  userId: string;
  sessionId: string;
  target: DocTarget;
  /** Awareness client ids this connection introduced. */
  awarenessIds: Set<number>;
}

/** Options for `createSyncServer`. */
export interface SyncServerOptions {
  db: Database;
  tokens: TokenService;
  log: Logger;
  /** Origins allowed to open the socket besides the server's own. */
  allowedOrigins: readonly string[];
  limits?: Partial<SyncLimits>;
  /** Path of the endpoint (default `/sync`). */
  path?: string;
  /** Where counters go (GET /metrics); a private registry when omitted. */
  metrics?: Metrics;
  /** With a Redis URL, instances are linked with @hocuspocus/extension-redis. */
  redis?: { url: string; identifier: string };
}

/** The running sync endpoint. */
export interface SyncServer {
  readonly hocuspocus: Hocuspocus<SyncContext>;
  /** Handles an HTTP upgrade; returns false when the path is not the sync endpoint. */
  handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): boolean;
  /** Sends a stateless notice to every live inbox connection of `userId` on this instance. */
  notify(userId: string, notice: InboxNotice): void;
  /** Closes `userId`'s connections to documents of `convId` (or all documents when omitted). */
  closeUserConnections(userId: string, close: { code: number; reason: string }, convId?: string): void;
  /** Closes every connection to the given documents (e.g. segments that became read-only). */
  closeDocuments(docNames: readonly string[], close: { code: number; reason: string }): void;
  /** Closes (4401) connections whose session was revoked; limited to `userId`'s connections when given. */
  recheckSessions(userId: string | null): Promise<void>;
  /**
   * Routes "close these documents" after a failed append to every instance (default: this instance only;
   * the Redis fan-out sets itself here, see fanout.ts).
   */
  setDocumentCloser(close: (docNames: readonly string[], close: { code: number; reason: string }) => void): void;
  /** Routes presence notices (default: this instance only; server.ts sets the cross-instance fan-out). */
  setNotifier(notify: (userId: string, notice: InboxNotice) => void): void;
  /** True when the user has at least one authenticated connection on this instance. */
  isOnline(userId: string): boolean;
  /** Presence across instances (Redis-backed when linked). */
  readonly presence: PresenceStore;
  /** Stops accepting sockets, closes connections and flushes pending stores. */
  destroy(): Promise<void>;
}

function toBytes(data: WebSocket.RawData): Uint8Array {
  if (Array.isArray(data)) return new Uint8Array(Buffer.concat(data));
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

/** Request headers Hocuspocus may keep; nothing else (no Cookie, no Authorization) stays in long-lived memory. */
const KEPT_HEADERS = ['host', 'origin', 'user-agent'] as const;

/**
 * The web `Request` Hocuspocus keeps for the socket's lifetime: the path and a few harmless headers only. No
 * hook reads request headers (authentication is in-band), so copying all of them would keep the refresh
 * cookie and every other header alive in memory for as long as the socket is open.
 */
function webRequest(request: IncomingMessage): Request {
  const headers = new Headers();
  for (const name of KEPT_HEADERS) {
    const value = request.headers[name];
    if (typeof value === 'string') headers.set(name, value);
  }
  return new Request(`http://localhost${request.url ?? '/'}`, { headers });
}

/** Same-origin check for the upgrade: the Origin's host must equal the Host header, or be allowed. */
function originAllowed(request: IncomingMessage, allowed: readonly string[]): boolean {
  const origin = request.headers.origin;
  if (origin === undefined) return true; // non-browser clients send none; they are not a CSRF vector
  if (allowed.includes(origin)) return true;
  try {
    return new URL(origin).host === request.headers.host;
  } catch {
    return false;
  }
}

/** Creates the sync endpoint. Nothing listens until `handleUpgrade` is wired to an HTTP server. */
export function createSyncServer(options: SyncServerOptions): SyncServer {
  const { db, tokens, log } = options;
  const limits: SyncLimits = { ...DEFAULT_SYNC_LIMITS, ...options.limits };
  const path = options.path ?? '/sync';
  const metrics = options.metrics ?? new Metrics();
  const reject: (name: keyof typeof CLOSE, detail: string) => never = (name, detail) => {
    metrics.rejections.inc({ reason: CLOSE[name].reason });
    throw new SyncRejection(name, detail);
  };
  const budgets = new TokenBuckets({ capacity: limits.messagesBurst, refillPerSecond: limits.messagesPerSecond }, Date.now);
  /** userId -> number of authenticated document connections on this instance. */
  const online = new Map<string, number>();
  const presence: PresenceStore = options.redis ? redisPresence(options.redis.url, options.redis.identifier, log) : localPresence();

  const auth: Extension = {
    extensionName: 'AuthExtension',
    priority: 200,
    async onAuthenticate(data) {
      let principal;
      try {
        principal = await tokens.verifyAccessToken(data.token);
      } catch {
        reject('Unauthorized', 'invalid token');
      }
      const target = await authorizeDocument(db, principal.userId, data.documentName);
      if (target.readOnly) data.connectionConfig.readOnly = true;
      const context: SyncContext = { userId: principal.userId, sessionId: principal.sessionId, target, awarenessIds: new Set() };
      return context;
    },
    async onTokenSync(data) {
      const ctx = data.context as SyncContext;
      let principal;
      try {
        principal = await tokens.verifyAccessToken(data.token);
      } catch {
        reject('Unauthorized', 'invalid token on re-check');
      }
      if (principal.userId !== ctx.userId) reject('Unauthorized', 'token is for another user');
      const target = await authorizeDocument(db, principal.userId, data.documentName);
      if (target.readOnly) data.connection.readOnly = true;
    },
  };

  const limitsExtension: Extension = {
    extensionName: 'Limits',
    priority: 190,
    async beforeHandleMessage(data) {
      const ctx = data.context as SyncContext;
      try {
        budgets.take(data.socketId + '\0' + data.documentName);
      } catch {
        log.warn('sync.rate_limited', { userId: ctx.userId, doc: data.documentName });
        reject('RateLimited', 'too many messages');
      }
      // Awareness: decode the raw message and enforce shape and client-id ownership.
      const decoder = decoding.createDecoder(data.update);
      decoding.readVarString(decoder);
      const type = decoding.readVarUint(decoder);
      metrics.messages.inc({ kind: type === 0 ? 'sync' : type === 1 ? 'awareness' : 'other' });
      if (type === 1) {
        const update = decoding.readVarUint8Array(decoder);
        const parsed = parseAwarenessUpdate(update);
        if (!parsed.ok) reject('InvalidAwareness', parsed.problem);
        const others = (data.document.getConnections() as Connection<SyncContext>[]).filter((c) => c.context !== ctx);
        for (const entry of parsed.entries) {
          if (ctx.awarenessIds.has(entry.clientId)) continue;
          if (others.some((c) => c.context?.awarenessIds?.has(entry.clientId))) reject('InvalidAwareness', 'client id owned by another connection');
          if (ctx.awarenessIds.size >= 4) reject('InvalidAwareness', 'too many client ids');
          // A removal for an id nobody owns is harmless; claiming it lets the state be set later.
          ctx.awarenessIds.add(entry.clientId);
        }
      }
    },
    async beforeHandleAwareness(data) {
      // Hocuspocus decodes into a scratch Awareness that adds its own empty state: keep only the ids
      // this connection owns (validated above).
      const ctx = data.context as SyncContext | undefined;
      if (!ctx) return;
      for (const id of [...data.states.keys()]) if (!ctx.awarenessIds.has(id)) data.states.delete(id);
    },
  };

  const envelopeGuard: Extension = {
    extensionName: 'EnvelopeGuard',
    priority: 180,
    async beforeSync(data) {
      if (data.type !== 1 && data.type !== 2) return; // SyncStep1 carries a state vector only
      const ctx = data.context as SyncContext;
      const update = data.payload;
      const problem = checkEnvelopeUpdate(update, limits.frameMaxBytes);
      if (problem) {
        log.warn('sync.invalid_update', { userId: ctx.userId, doc: data.documentName, problem, bytes: update.length });
        reject(problem === 'frame_too_large' ? 'TooLarge' : 'InvalidUpdate', problem);
      }
      const ranges = rangesOf(update);
      if (data.connection.readOnly) {
        // Not applied. Hocuspocus acknowledges a read-only SyncStep2 with SyncStatus(true) when memory already
        // holds it: that acknowledgement waits until the memory covering it is durable ([SYNC-8]).
        if (data.type === 1) durableAcks.expect(data.connection, { kind: 'step2', update, ranges, readOnly: true });
        return;
      }
      if (ctx.target.kind === 'inbox') reject('InvalidUpdate', 'the inbox is read-only');
      // Return without waiting for PostgreSQL: Hocuspocus applies and relays the update now; the append starts
      // when it acknowledges, and the acknowledgement leaves once the append is committed ([SYNC-5]). An update
      // whose ids are all durable already (a replay, a SyncStep2 after reconnect) is not appended again.
      const target = ctx.target;
      const onStored = target.kind === 'segment' || target.kind === 'meta' ? () => conversationChanged(target.convId, data.documentName) : undefined;
      durableAcks.expect(
        data.connection,
        data.type === 1 ? { kind: 'step2', update, ranges, readOnly: false, ...(onStored ? { onStored } : {}) } : { kind: 'update', update, ranges, ...(onStored ? { onStored } : {}) },
      );
    },
  };

  /** Group commit: appends queued while a statement is in flight go together in the next one. */
  const appender = new UpdateAppender(db);
  /**
   * Appends one update; resolves once its row is committed. Metrics and the debug line (no content) on
   * commit; the latency is per update, from this call to the commit (queueing behind a statement included),
   * and `batch` is the number of rows its statement inserted.
   */
  const append = async (documentName: string, update: Uint8Array): Promise<void> => {
    const started = performance.now();
    const batch = await appender.append(documentName, update);
    const ms = performance.now() - started;
    metrics.updatesStored.inc();
    metrics.bytesStored.inc({}, update.length);
    metrics.storeLatency.observe(ms / 1000);
    log.debug('sync.stored', { doc: documentName, bytes: update.length, batch, ms: Math.round(ms) });
  };

  /**
   * After a failed append the document's memory holds relayed content that is not durable, and its sender
   * never gets the acknowledgement. Close the document on every instance (once per second at most), so its
   * clients reconnect and re-sync: into a reloaded document (they send what it lacks) or into the same memory
   * (the SyncStep2 rule appends it before acknowledging).
   */
  let closeDocsEverywhere: (docNames: readonly string[], close: { code: number; reason: string }) => void = (names, close) => closeDocumentsLocally(names, close);
  const recentlyClosed = new Map<string, number>();
  const durableAcks = new DurableAcks({
    append,
    onStoreFailure(documentName, error) {
      metrics.errors.inc({ where: 'store' });
      log.error('sync.store_failed', { err: error, doc: documentName });
      const at = recentlyClosed.get(documentName);
      if (at !== undefined && Date.now() - at < 1000) return;
      recentlyClosed.set(documentName, Date.now());
      if (recentlyClosed.size > 1000) for (const [name, t] of recentlyClosed) if (Date.now() - t >= 1000) recentlyClosed.delete(name);
      closeDocsEverywhere([documentName], CLOSE.Unavailable);
    },
    onAckFailure(connection) {
      // Its count of unacknowledged updates can never reach zero on this session: make it reconnect.
      connection.close(CLOSE.Unavailable);
    },
  });

  /**
   * "Conversation changed" notices on members' inboxes (no content: the server only says which document
   * changed), at most one per conversation per second; also bumps the conversation's activity time.
   */
  const changedTimers = new Map<string, ReturnType<typeof setTimeout>>();
  function conversationChanged(convId: string, docName: string): void {
    if (changedTimers.has(convId)) return;
    const timer = setTimeout(() => {
      changedTimers.delete(convId);
      void (async () => {
        try {
          await touchConversation(db, convId);
          for (const userId of await memberIds(db, convId)) notifyVia(userId, { v: 1, type: 'conversation_changed', convId, docName });
        } catch (error) {
          log.warn('sync.change_notice_failed', { err: error });
        }
      })();
    }, 1000);
    timer.unref();
    changedTimers.set(convId, timer);
  }

  /** Stores (compactions) in flight: `destroy` waits for them before the database is closed. */
  const storing = new Set<Promise<void>>();
  const compactIfNeeded = async (documentName: string): Promise<void> => {
    const stats = await docStats(db, documentName);
    if (stats.rows < limits.compactAfterRows) return;
    const r = await compactDoc(db, documentName);
    metrics.compactions.inc();
    log.info('sync.compacted', { doc: documentName, rows: r.before, bytesBefore: r.bytesBefore, bytesAfter: r.bytesAfter });
  };
  const persistence = new DatabaseExtension({
    fetch: async ({ documentName, document }) => {
      const stored = (await loadMerged(db, documentName))?.update ?? null;
      durableAcks.loaded(document, stored); // what is durable is what was loaded, not what memory will hold
      return stored;
    },
    store: ({ documentName }) => {
      const p = compactIfNeeded(documentName);
      storing.add(p);
      void p.then(() => storing.delete(p), () => storing.delete(p));
      return p;
    },
  });

  /** Answers a client's keepalive ping on that connection only ([SYNC-10]); other stateless payloads are ignored. */
  const keepalive: Extension = {
    extensionName: 'Keepalive',
    priority: 170,
    async onStateless({ payload, connection }) {
      if (payload === KEEPALIVE.ping) connection.sendStateless(KEEPALIVE.pong);
    },
  };

  const extensions: Extension[] = [auth, limitsExtension, envelopeGuard, keepalive, persistence];
  const redisClients: IORedis[] = [];
  if (options.redis) {
    const url = options.redis.url;
    let lastWarned = 0;
    // The extension's own clients (publisher, subscriber), each with an error listener: a client without one
    // makes ioredis print "Unhandled error event" on every failed reconnect while Redis is down. Logged at
    // most every 10 s.
    const createClient = () => {
      const client = new IORedis(url, { maxRetriesPerRequest: 3 });
      client.on('error', (error) => {
        if (Date.now() - lastWarned < 10_000) return;
        lastWarned = Date.now();
        log.warn('sync.redis_error', { err: error });
      });
      redisClients.push(client);
      return client;
    };
    extensions.unshift(new RedisExtension({ createClient, identifier: options.redis.identifier, prefix: 'parley:doc' }));
  }

  const hocuspocus: Hocuspocus<SyncContext> = new Hocuspocus<SyncContext>({
    name: 'parley',
    quiet: true,
    timeout: 60_000,
    debounce: 5_000,
    maxDebounce: 30_000,
    maxUnauthenticatedQueueSize: 1024 * 1024,
    maxUnauthenticatedQueueMessages: 200,
    maxPendingDocuments: 100,
    yDocOptions: { gc: true, gcFilter: () => true },
    extensions,
    async connected({ context }) {
      const ctx = context;
      const before = online.get(ctx.userId) ?? 0;
      online.set(ctx.userId, before + 1);
      if (before === 0) queuePresence(ctx.userId, true);
    },
    async onDisconnect({ context }) {
      const ctx = context as SyncContext | undefined;
      if (!ctx?.userId) return;
      const n = (online.get(ctx.userId) ?? 1) - 1;
      if (n <= 0) {
        online.delete(ctx.userId);
        queuePresence(ctx.userId, false);
      } else online.set(ctx.userId, n);
    },
  });

  function notify(userId: string, notice: InboxNotice): void {
    const doc = hocuspocus.documents.get(docNameFor('i', userId));
    if (!doc) return;
    const payload = JSON.stringify(notice);
    for (const c of doc.getConnections()) c.sendStateless(payload);
  }

  let notifyVia: (userId: string, notice: InboxNotice) => void = notify;
  // Presence changes are applied in the order they happened (a quick reconnect must end "online").
  let presenceQueue: Promise<void> = Promise.resolve();
  function queuePresence(userId: string, isOnline: boolean): void {
    presenceQueue = presenceQueue.then(() => announcePresence(userId, isOnline));
  }

  async function announcePresence(userId: string, isOnline: boolean): Promise<void> {
    try {
      await presence.setLocal(userId, isOnline);
      // Going offline here while still connected through another instance is not "offline".
      if (!isOnline && (online.get(userId) ?? 0) === 0 && (await presence.isOnline(userId))) return;
      if (!isOnline && (online.get(userId) ?? 0) > 0) return;
      const at = new Date().toISOString();
      for (const contact of await contactsOf(db, userId)) notifyVia(contact, { v: 1, type: 'presence', userId, online: isOnline, at });
    } catch (error) {
      log.warn('sync.presence_failed', { error: error instanceof Error ? error.message : 'unknown' });
    }
  }

  function closeDocumentsLocally(docNames: readonly string[], close: { code: number; reason: string }): void {
    for (const name of docNames) {
      const doc = hocuspocus.documents.get(name);
      if (!doc) continue;
      for (const c of doc.getConnections()) c.close(close);
    }
  }

  function connectionsWhere(pred: (ctx: SyncContext, doc: Document) => boolean): Connection<SyncContext>[] {
    const out: Connection<SyncContext>[] = [];
    for (const doc of hocuspocus.documents.values()) {
      for (const c of doc.getConnections() as Connection<SyncContext>[]) if (c.context && pred(c.context, doc)) out.push(c);
    }
    return out;
  }

  const wss = new WebSocketServer({ noServer: true, maxPayload: limits.maxPayloadBytes, perMessageDeflate: false });
  metrics.gauge('parley_sync_connections', 'Open WebSocket connections on this instance', () => wss.clients.size);
  metrics.gauge('parley_sync_documents', 'Documents loaded in memory on this instance', () => hocuspocus.getDocumentsCount());
  metrics.gauge('parley_sync_online_users', 'Users with at least one authenticated connection on this instance', () => online.size);

  // Token re-check of long-lived sockets: ask every connection for a fresh token every 5 minutes.
  const recheck = setInterval(() => {
    for (const doc of hocuspocus.documents.values()) for (const c of doc.getConnections()) c.requestToken();
  }, 5 * 60_000);
  recheck.unref();

  /**
   * Hands an accepted socket to Hocuspocus. A function of its own so the socket's listeners close over the
   * slim `Request` only, not the upgrade's `IncomingMessage` (which would stay reachable for the socket's life).
   */
  function wire(ws: WebSocket, req: Request): void {
    const connection = hocuspocus.handleConnection(ws, req);
    ws.on('message', (data) => connection.handleMessage(toBytes(data)));
    ws.on('close', (code, reason) => connection.handleClose({ code, reason: reason.toString() }));
    ws.on('error', (error) => log.warn('sync.socket_error', { error: error.message }));
  }

  return {
    hocuspocus,
    handleUpgrade(request, socket, head) {
      const url = request.url ?? '';
      if (url !== path && !url.startsWith(`${path}?`) && !url.startsWith(`${path}/`)) return false;
      if (!originAllowed(request, options.allowedOrigins)) {
        socket.end('HTTP/1.1 403 Forbidden\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n{"error":{"code":"origin_not_allowed","message":"Origin not allowed"}}');
        return true;
      }
      wss.handleUpgrade(request, socket, head, (ws) => wire(ws, webRequest(request)));
      return true;
    },
    notify,
    async recheckSessions(userId) {
      const conns = connectionsWhere((ctx) => userId === null || ctx.userId === userId);
      if (conns.length === 0) return;
      const revoked = await revokedAmong(db, [...new Set(conns.map((c) => c.context.sessionId))]);
      for (const c of conns) if (revoked.has(c.context.sessionId)) c.close(CLOSE.Unauthorized);
    },
    setNotifier(fn) {
      notifyVia = fn;
    },
    closeUserConnections(userId, close, convId) {
      for (const c of connectionsWhere((ctx) => ctx.userId === userId && (convId === undefined || ('convId' in ctx.target && ctx.target.convId === convId)))) c.close(close);
    },
    closeDocuments: closeDocumentsLocally,
    setDocumentCloser(fn) {
      closeDocsEverywhere = fn;
    },
    isOnline: (userId) => (online.get(userId) ?? 0) > 0,
    presence,
    async destroy() {
      clearInterval(recheck);
      for (const t of changedTimers.values()) clearTimeout(t);
      changedTimers.clear();
      for (const client of wss.clients) client.close(CLOSE.Unavailable.code, CLOSE.Unavailable.reason);
      wss.close();
      hocuspocus.closeConnections();
      await hocuspocus.flushPendingStores();
      // Stores started by a last disconnect (unloadImmediately) are not "pending" any more, and with Redis a
      // store first waits for its lock: wait until documents unload (they do after their store), bounded
      // because a failed store keeps its document in memory, then for stores already in our hook.
      const deadline = Date.now() + 5_000;
      while (hocuspocus.getDocumentsCount() > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      await Promise.allSettled([...storing]);
      await durableAcks.settled(); // appends already started finish before the database closes
      for (const client of redisClients) client.disconnect();
      await presence.close();
    },
  };
}

/**
 * `SyncConnection`: one multiplexed WebSocket (`HocuspocusProviderWebsocket`) per client and one
 * `HocuspocusProvider` per open document, authenticated in-band with a fresh access token on every (re)open.
 *
 * Watchdog: a document connection closed by the server is classified by its reason (`CLOSE` in the
 * protocol): `unauthorized`, `unavailable`, `rate-limited` and unknown reasons re-attach after a backoff
 * (the token function refreshes the token); `segment-closed`, `removed` and `forbidden` are reported to the
 * owner of the document and never retried. Awareness local state is null before attach, because the server
 * closes a document connection that announces any state but an encrypted one.
 *
 * Keepalive ([SYNC-10]): when nothing has arrived for `keepaliveMs`, the connection sends a stateless ping on
 * one authenticated document; the server's pong keeps both ends' silence timeouts from closing an idle socket
 * (which otherwise happened every 30 s: a reconnect, re-authentication and re-sync of every document).
 */
import { HocuspocusProvider, HocuspocusProviderWebsocket } from '@hocuspocus/provider';
import { Awareness } from 'y-protocols/awareness';
import type * as Y from 'yjs';
import { CLOSE, KEEPALIVE } from '../protocol/index.ts';

/** Why the server closed a document for good (the owner decides what to do). */
export type DocCloseReason = 'segment-closed' | 'removed' | 'forbidden';

/** Options of one open document. */
export interface OpenDocOptions {
  /** Called once when the server closes the document for a reason that retrying cannot fix. */
  onFinalClose?: (reason: DocCloseReason) => void;
  /** Server stateless messages (inbox notices). */
  onStateless?: (payload: string) => void;
  /** Count of local updates the server has not acknowledged yet. */
  onUnsynced?: (count: number) => void;
  /** Each completed sync handshake. */
  onSynced?: () => void;
  /** Remote awareness states changed. */
  onAwareness?: (awareness: Awareness) => void;
}

/** A document attached to the socket. */
export interface DocLink {
  readonly name: string;
  readonly provider: HocuspocusProvider;
  readonly awareness: Awareness;
  /** True after the first handshake since the last (re)connect. */
  readonly synced: boolean;
  /** Resolves after the next completed handshake (immediately when synced now). */
  whenSynced(): Promise<void>;
  /** Resolves once the server has acknowledged every local update (and the doc is synced). */
  whenAcked(): Promise<void>;
  /** Detaches and destroys the provider (the doc itself is left alone). */
  close(): void;
}

const FINAL: ReadonlySet<string> = new Set([CLOSE.SegmentClosed.reason, CLOSE.Removed.reason, CLOSE.Forbidden.reason]);
const RETRY: ReadonlySet<string> = new Set([
  CLOSE.Unauthorized.reason,
  CLOSE.Unavailable.reason,
  CLOSE.RateLimited.reason,
  CLOSE.InvalidAwareness.reason,
  CLOSE.InvalidUpdate.reason,
  CLOSE.TooLarge.reason,
]);

function reasonOf(text: string): string {
  // Permission-denied reasons may carry a detail after the stable name ("unauthorized: invalid token").
  const i = text.indexOf(':');
  return (i < 0 ? text : text.slice(0, i)).trim();
}

/** See the module comment. */
export class SyncConnection {
  readonly socket: HocuspocusProviderWebsocket;
  readonly #links = new Map<string, DocLink>();
  #destroyed = false;

  /**
   * `baseUrl` is the server's http(s) URL; the socket goes to ws(s)://host/sync. `WebSocket` defaults to the
   * global one (browsers, Node >= 22).
   */
  constructor(
    baseUrl: string,
    private readonly token: () => Promise<string>,
    options: {
      WebSocket?: unknown;
      connect?: boolean;
      /** Silence after which a keepalive ping goes out (default 10 s; 0 disables, for tests). */
      keepaliveMs?: number;
      /** The provider's own silence timeout before it reconnects (default 30 s; tests shorten it). */
      silenceTimeoutMs?: number;
      /**
       * The server refused a document's token (`unauthorized`). The token function returns a cached token
       * until it nears expiry, so the owner should check the session (a refresh) here: a session revoked
       * elsewhere is otherwise only noticed once the access token expires.
       */
      onUnauthorized?: () => void;
    } = {},
  ) {
    this.#onUnauthorized = options.onUnauthorized;
    const url = new URL(baseUrl);
    url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
    url.pathname = url.pathname.replace(/\/$/, '') + '/sync';
    this.socket = new HocuspocusProviderWebsocket({
      url: url.href,
      autoConnect: options.connect ?? true,
      delay: 250,
      minDelay: 100,
      maxDelay: 10_000,
      messageReconnectTimeout: options.silenceTimeoutMs ?? 30_000,
      ...(options.WebSocket ? { WebSocketPolyfill: options.WebSocket } : {}),
    });
    const keepaliveMs = options.keepaliveMs ?? 10_000;
    if (keepaliveMs > 0) {
      this.#keepalive = setInterval(() => this.#ping(keepaliveMs), Math.max(100, Math.floor(keepaliveMs / 2)));
      (this.#keepalive as { unref?: () => void }).unref?.();
    }
  }

  #keepalive: ReturnType<typeof setInterval> | undefined;
  readonly #onUnauthorized: (() => void) | undefined;

  /** Sends a keepalive ping when the socket is open and has been silent for `silentMs` ([SYNC-10]). */
  #ping(silentMs: number): void {
    if (this.#destroyed || this.socket.status !== 'connected') return;
    const last = this.socket.lastMessageReceived; // ms (lib0's getUnixTime is Date.now); 0 before the first
    if (last !== 0 && Date.now() - last < silentMs) return;
    for (const l of this.#links.values())
      if (l.provider.isAuthenticated) {
        l.provider.sendStateless(KEEPALIVE.ping);
        return;
      }
  }

  /** Whether the socket is meant to be connected. */
  get online(): boolean {
    return this.socket.shouldConnect;
  }

  /** Drops the socket and stops reconnecting (offline mode); documents keep working locally. */
  disconnect(): void {
    this.socket.disconnect();
  }

  /** Reconnects after `disconnect()`; every attached document re-authenticates and re-syncs. */
  connect(): void {
    void this.socket.connect().catch(() => undefined);
  }

  /** Attaches `doc` as document `name`. Opening the same name twice returns the existing link. */
  open(name: string, doc: Y.Doc, options: OpenDocOptions = {}): DocLink {
    const existing = this.#links.get(name);
    if (existing) return existing;
    const awareness = new Awareness(doc);
    awareness.setLocalState(null);
    let finalClosed = false;
    let retryDelay = 200;
    let retryTimer: ReturnType<typeof setTimeout> | undefined;
    let unsynced = 0;
    const waiters = new Set<() => void>();
    const wake = () => {
      for (const w of [...waiters]) w();
    };
    const provider = new HocuspocusProvider({
      websocketProvider: this.socket,
      name,
      document: doc,
      awareness,
      token: () => this.token(),
    });
    const retry = () => {
      if (finalClosed || this.#destroyed || retryTimer !== undefined) return;
      retryTimer = setTimeout(() => {
        retryTimer = undefined;
        if (finalClosed || this.#destroyed) return;
        // The server already dropped this document connection. Leaving it the normal way would send a CLOSE
        // message for it, which the server queues (no connection for that name) and then applies to the
        // re-authenticated connection, closing it again ("provider_initiated"). Forget the document locally
        // first, so detaching sends nothing, then attach again (auth + sync on the same socket).
        this.socket.configuration.providerMap.delete(provider.effectiveName);
        provider.detach();
        provider.attach();
      }, retryDelay);
      retryDelay = Math.min(retryDelay * 2, 15_000);
    };
    const handle = (raw: string) => {
      const reason = reasonOf(raw);
      if (FINAL.has(reason)) {
        if (finalClosed) return;
        finalClosed = true;
        options.onFinalClose?.(reason as DocCloseReason);
      } else if (RETRY.has(reason)) {
        if (reason === CLOSE.Unauthorized.reason) this.#onUnauthorized?.();
        retry();
      }
    };
    provider.on('close', ({ event }: { event: { reason?: string } }) => handle(event?.reason ?? ''));
    provider.on('authenticationFailed', ({ reason }: { reason: string }) => handle(reason));
    provider.on('authenticated', () => {
      retryDelay = 200;
    });
    provider.on('synced', () => {
      options.onSynced?.();
      wake();
    });
    provider.on('unsyncedChanges', ({ number }: { number: number }) => {
      unsynced = number;
      options.onUnsynced?.(number);
      wake();
    });
    provider.on('stateless', ({ payload }: { payload: string }) => {
      if (payload !== KEEPALIVE.pong) options.onStateless?.(payload);
    });
    awareness.on('change', () => options.onAwareness?.(awareness));
    const wait = (pred: () => boolean) =>
      new Promise<void>((resolve) => {
        if (pred()) return resolve();
        const w = () => {
          if (!pred()) return;
          waiters.delete(w);
          resolve();
        };
        waiters.add(w);
      });
    const link: DocLink = {
      name,
      provider,
      awareness,
      get synced() {
        return provider.synced;
      },
      whenSynced: () => wait(() => provider.synced),
      whenAcked: () => wait(() => provider.synced && unsynced === 0 && provider.unsyncedChanges === 0),
      close: () => {
        finalClosed = true;
        if (retryTimer !== undefined) clearTimeout(retryTimer);
        this.#links.delete(name);
        provider.destroy();
        wake();
      },
    };
    this.#links.set(name, link);
    provider.attach();
    return link;
  }

  /** The link of an open document. */
  link(name: string): DocLink | undefined {
    return this.#links.get(name);
  }

  /** Closes every document and the socket. */
  destroy(): void {
    this.#destroyed = true;
    if (this.#keepalive !== undefined) clearInterval(this.#keepalive);
    for (const l of [...this.#links.values()]) l.close();
    this.socket.destroy();
  }
}

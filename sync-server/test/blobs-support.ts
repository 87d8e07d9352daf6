/**
 * Fixtures for the blob tests: deterministic file data streamed in pieces (never a whole large file in
 * memory), a real HttpTransport signed in as a test user, a fetch that counts requests and can drop one
 * and a TCP proxy that cuts connections mid-answer (faults at the network edge, nothing else is faked), and
 * row counts of the blob tables.
 */
import { createConnection, createServer, type AddressInfo, type Socket } from 'node:net';
import { sha256 } from '@noble/hashes/sha2.js';
import { HttpTransport, type FetchLike } from '../../shared/src/client/transport.ts';
import type { TestUser } from './sync/support.ts';

/** Deterministic pseudo-random bytes (xorshift32 from `seed`), produced `piece` bytes at a time. */
export async function* deterministicBytes(size: number, seed: number, piece = 1 << 20): AsyncGenerator<Uint8Array> {
  let x = seed >>> 0 || 1;
  for (let offset = 0; offset < size; offset += piece) {
    const out = new Uint8Array(Math.min(piece, size - offset));
    for (let i = 0; i < out.length; i++) {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      out[i] = x & 0xff;
    }
    yield out;
  }
}

/** SHA-256 of `deterministicBytes(size, seed)`, computed by streaming it. */
export async function deterministicSha256(size: number, seed: number): Promise<Uint8Array> {
  const h = sha256.create();
  for await (const p of deterministicBytes(size, seed)) h.update(p);
  return h.digest();
}

/** All of `deterministicBytes` in one array (small files only). */
export async function deterministicArray(size: number, seed: number): Promise<Uint8Array> {
  const out = new Uint8Array(size);
  let o = 0;
  for await (const p of deterministicBytes(size, seed)) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** Counts requests by "METHOD kind" and can make the next matching request fail like a dropped connection. */
export interface CountingFetch {
  fetch: FetchLike;
  counts: Map<string, number>;
  /** The next `n` requests whose method and path match fail with a TypeError (as fetch does offline). */
  dropNext(method: string, pathPattern: RegExp, n?: number): void;
}

export function countingFetch(): CountingFetch {
  const counts = new Map<string, number>();
  const drops: Array<{ method: string; pattern: RegExp; left: number }> = [];
  return {
    counts,
    dropNext(method, pattern, n = 1) {
      drops.push({ method, pattern, left: n });
    },
    fetch: async (url, init) => {
      const method = init.method ?? 'GET';
      const path = new URL(url).pathname;
      const kind = path.replace(/[0-9a-f-]{36}/g, ':id').replace(/\/chunks\/\d+$/, '/chunks/:n');
      counts.set(`${method} ${kind}`, (counts.get(`${method} ${kind}`) ?? 0) + 1);
      const drop = drops.find((d) => d.left > 0 && d.method === method && d.pattern.test(path));
      if (drop) {
        drop.left -= 1;
        throw new TypeError('fetch failed (connection dropped by the test)');
      }
      return fetch(url, init);
    },
  };
}

/** A real transport signed in as `user` (its access token, valid for the token's lifetime). */
export function transportFor(baseUrl: string, user: TestUser, fetchImpl?: FetchLike): HttpTransport {
  const t = new HttpTransport({ baseUrl, ...(fetchImpl ? { fetch: fetchImpl } : {}) });
  t.setAccessToken({ token: user.token, expiresAt: Date.now() + 9 * 60_000 });
  return t;
}

/** Row counts of the blob tables. */
export async function blobRowCounts(query: (sql: string) => Promise<{ rows: unknown[] }>): Promise<{ blobs: number; chunks: number; refs: number }> {
  const r = (await query('SELECT (SELECT count(*) FROM blobs)::int AS blobs, (SELECT count(*) FROM blob_chunks)::int AS chunks, (SELECT count(*) FROM blob_refs)::int AS refs')).rows[0] as {
    blobs: number;
    chunks: number;
    refs: number;
  };
  return r;
}

/** A TCP proxy in front of a server whose connections break off mid-answer. */
export interface CuttingProxy {
  /** Base URL through the proxy. */
  url: string;
  /** Connections accepted so far. */
  readonly connections: number;
  close(): Promise<void>;
}

/**
 * Forwards TCP connections to `target`; the k-th connection (from 0) is closed once `cutAfter(k)` bytes of
 * the server's answer passed through it (`Infinity`: never), as when a phone loses its network mid-transfer.
 * Closed with a FIN after the bytes, not a reset, so the client reads exactly that many: a reset may discard
 * what its kernel had not handed over yet, which would make the break point vary. `closeDelayMs` holds the
 * connection open that long first (Chromium may fail the stream before handing the last bytes to the page).
 */
export async function cuttingProxy(target: string, cutAfter: (k: number) => number, closeDelayMs = 0): Promise<CuttingProxy> {
  const { hostname, port } = new URL(target);
  const open = new Set<Socket>();
  let connections = 0;
  const server = createServer((client) => {
    const limit = cutAfter(connections++);
    const upstream = createConnection({ host: hostname, port: Number(port) });
    open.add(client).add(upstream);
    let passed = 0;
    const cut = () => {
      client.end();
      upstream.destroy();
    };
    upstream.on('data', (data: Buffer) => {
      if (passed + data.length <= limit) {
        passed += data.length;
        client.write(data);
        return;
      }
      client.write(data.subarray(0, Math.max(0, limit - passed)));
      passed = limit;
      upstream.pause();
      if (closeDelayMs > 0) setTimeout(cut, closeDelayMs);
      else cut();
    });
    client.on('data', (data: Buffer) => {
      if (!upstream.destroyed) upstream.write(data);
    });
    for (const s of [client, upstream]) {
      s.on('error', () => undefined);
      s.on('close', () => {
        open.delete(s);
        if (s === client) upstream.destroy();
        else client.end(); // after what was written (a destroy could drop it)
      });
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    get connections() {
      return connections;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of open) s.destroy();
        server.close(() => resolve());
      }),
  };
}

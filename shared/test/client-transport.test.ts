/**
 * HttpTransport with a fake fetch (the network edge is the only thing faked; the real server is driven in
 * sync-server/test/integration/client-accounts.test.ts): error bodies become typed errors, responses are
 * schema-checked, the Node cookie jar, single-flight refresh and retry-once on 401.
 */
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { CookieJar, HttpTransport, ClientError, type FetchLike } from '../src/client/index.ts';

interface Call {
  url: string;
  method: string;
  headers: Record<string, string>;
}

function headersOf(init: RequestInit): Record<string, string> {
  return z.record(z.string(), z.string()).parse(init.headers ?? {});
}

function json(status: number, body: unknown, headers: [string, string][] = []): Response {
  return new Response(body === undefined ? null : JSON.stringify(body), {
    status,
    headers: [['content-type', 'application/json'], ...headers],
  });
}

const SID = '7a0e8a3c-4c1e-4a53-9d1e-0f6f2b1c9d11';
const Ok = z.object({ ok: z.literal(true) }).strict();

function fake(handler: (call: Call, n: number) => Response | Promise<Response>): { fetch: FetchLike; calls: Call[] } {
  const calls: Call[] = [];
  return {
    calls,
    fetch: async (url, init) => {
      const call = { url, method: init.method ?? 'GET', headers: headersOf(init) };
      calls.push(call);
      return handler(call, calls.length);
    },
  };
}

async function errorOf(p: Promise<unknown>): Promise<ClientError> {
  const e = await p.then(
    () => null,
    (err: unknown) => err,
  );
  if (e instanceof ClientError) return e;
  throw new Error(`expected ClientError, got ${String(e)}`);
}

describe('HttpTransport', () => {
  it('turns a catalogue error body into a typed ClientError with status and Retry-After', async () => {
    const f = fake(() => json(429, { error: { code: 'rate_limited', message: 'slow down' } }, [['retry-after', '7']]));
    const t = new HttpTransport({ baseUrl: 'http://api.test', fetch: f.fetch });
    const e = await errorOf(t.request(Ok, 'POST', '/api/auth/login', { body: {} }));
    expect([e.code, e.status, e.retryAfter, e.message]).toEqual(['rate_limited', 429, 7, 'slow down']);
  });

  it('maps a non-catalogue error body by status, and a wrong success body to bad_response', async () => {
    const t1 = new HttpTransport({ baseUrl: 'http://api.test', fetch: fake(() => new Response('<html>', { status: 502 })).fetch });
    expect((await errorOf(t1.request(Ok, 'GET', '/x'))).code).toBe('internal');
    const t2 = new HttpTransport({ baseUrl: 'http://api.test', fetch: fake(() => json(200, { ok: 'yes' })).fetch });
    expect((await errorOf(t2.request(Ok, 'GET', '/x'))).code).toBe('bad_response');
    const t3 = new HttpTransport({ baseUrl: 'http://api.test', fetch: fake(() => new Response('not json', { status: 200 })).fetch });
    expect((await errorOf(t3.request(Ok, 'GET', '/x'))).code).toBe('bad_response');
  });

  it('reports fetch failures as network errors', async () => {
    const t = new HttpTransport({
      baseUrl: 'http://api.test',
      fetch: () => Promise.reject(new TypeError('fetch failed')),
    });
    expect((await errorOf(t.request(Ok, 'GET', '/x'))).code).toBe('network');
  });

  it('keeps the refresh cookie itself (Node) and sends it back only under its path; sends Origin', async () => {
    const f = fake((call) => {
      if (call.url.endsWith('/api/auth/login'))
        return json(200, { ok: true }, [['set-cookie', 'parley_rt=abc123; Path=/api/auth; HttpOnly; SameSite=Strict']]);
      return json(200, { ok: true });
    });
    const t = new HttpTransport({ baseUrl: 'http://api.test:8080', fetch: f.fetch });
    await t.request(Ok, 'POST', '/api/auth/login', { body: {} });
    await t.request(Ok, 'POST', '/api/auth/refresh', { body: {} });
    await t.request(Ok, 'GET', '/api/conversations');
    expect(f.calls[1]!.headers.cookie).toBe('parley_rt=abc123');
    expect(f.calls[2]!.headers.cookie).toBeUndefined();
    expect(f.calls[0]!.headers.origin).toBe('http://api.test:8080');
  });

  it('refreshes once for concurrent callers when the token is about to expire', async () => {
    let now = 1_000_000;
    let refreshes = 0;
    const f = fake(async (call) => {
      if (call.url.endsWith('/api/auth/refresh')) {
        refreshes++;
        await new Promise((r) => setTimeout(r, 10));
        return json(200, { accessToken: `t${refreshes}`, accessTokenExpiresAt: now + 900_000, sessionId: SID });
      }
      return json(200, { ok: true });
    });
    const t = new HttpTransport({ baseUrl: 'http://api.test', fetch: f.fetch, now: () => now });
    t.setAccessToken({ token: 't0', expiresAt: now + 10_000 }); // inside the 30 s margin
    await Promise.all([1, 2, 3, 4].map(() => t.request(Ok, 'GET', '/api/auth/me', { auth: true })));
    expect(refreshes).toBe(1);
    expect(f.calls.filter((c) => c.url.endsWith('/me')).every((c) => c.headers.authorization === 'Bearer t1')).toBe(true);
    now += 1000;
    await t.request(Ok, 'GET', '/api/auth/me', { auth: true });
    expect(refreshes).toBe(1); // still fresh
  });

  it('on 401 refreshes and retries exactly once; a failed refresh means not_signed_in', async () => {
    const now = 5_000_000;
    const f = fake((call) => {
      if (call.url.endsWith('/api/auth/refresh'))
        return json(200, { accessToken: 'new', accessTokenExpiresAt: now + 900_000, sessionId: SID });
      return call.headers.authorization === 'Bearer new' ? json(200, { ok: true }) : json(401, { error: { code: 'unauthorized', message: 'expired' } });
    });
    const t = new HttpTransport({ baseUrl: 'http://api.test', fetch: f.fetch, now: () => now });
    t.setAccessToken({ token: 'old', expiresAt: now + 600_000 });
    await expect(t.request(Ok, 'GET', '/api/auth/me', { auth: true })).resolves.toEqual({ ok: true });
    expect(f.calls.map((c) => c.url.split('/').pop())).toEqual(['me', 'refresh', 'me']);

    const dead = fake(() => json(401, { error: { code: 'unauthorized', message: 'revoked' } }));
    const t2 = new HttpTransport({ baseUrl: 'http://api.test', fetch: dead.fetch, now: () => now });
    t2.setAccessToken({ token: 'old', expiresAt: now + 600_000 });
    expect((await errorOf(t2.request(Ok, 'GET', '/api/auth/me', { auth: true }))).code).toBe('not_signed_in');
    expect(dead.calls).toHaveLength(2); // me, refresh; no loop
  });

  it('refuses a non-http base URL', () => {
    expect(() => new HttpTransport({ baseUrl: 'file:///etc/passwd', fetch: fake(() => json(200, {})).fetch })).toThrow(ClientError);
  });
});

describe('CookieJar', () => {
  it('stores, expires and deletes cookies', () => {
    const jar = new CookieJar();
    jar.store(['a=1; Path=/api/auth; Max-Age=10', 'b=2; Path=/'], 0);
    expect(jar.header('/api/auth/refresh', 0)).toBe('a=1; b=2');
    expect(jar.header('/api/authx', 0)).toBe('b=2');
    expect(jar.header('/api/auth/refresh', 11_000)).toBe('b=2');
    jar.store(['b=; Path=/; Expires=Thu, 01 Jan 1970 00:00:00 GMT'], 0);
    expect(jar.header('/', 0)).toBeNull();
  });
});

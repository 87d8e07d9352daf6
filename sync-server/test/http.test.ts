/**
 * HTTP edge: probes, security headers, the single error shape (400/404/405/413/415/403), the Origin
 * check, static app serving with SPA fallback, TLS + HSTS + Secure cookies.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import net from 'node:net';
import https from 'node:https';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ErrorBody } from '@parley/shared/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONTENT_SECURITY_POLICY } from '../src/http/security.ts';
import { clientErrorResponse } from '../src/server.ts';
import { call, errorCode, newAccount } from './helpers/accounts.ts';
import { startTestServer, type TestServer } from './helpers/server.ts';

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer({ backend: 'postgres', env: { ALLOWED_ORIGINS: 'https://friend.example' } });
});
afterAll(async () => {
  await t?.close();
});

function expectSecurityHeaders(headers: Headers, hsts = false) {
  expect(headers.get('content-security-policy')).toBe(CONTENT_SECURITY_POLICY);
  expect(CONTENT_SECURITY_POLICY).toContain("frame-ancestors 'none'");
  expect(headers.get('x-content-type-options')).toBe('nosniff');
  expect(headers.get('referrer-policy')).toBe('no-referrer');
  expect(headers.get('x-frame-options')).toBe('DENY');
  expect(headers.get('cross-origin-opener-policy')).toBe('same-origin');
  expect(headers.get('permissions-policy')).toContain('camera=()');
  expect(headers.get('x-powered-by')).toBeNull();
  expect(headers.get('strict-transport-security') !== null).toBe(hsts);
}

/** Sends a raw request with node:http (fetch cannot send a lying Content-Length or stream slowly). */
function rawRequest(
  url: string,
  options: { method: string; path: string; headers: Record<string, string | number>; body?: Buffer },
): Promise<{ status: number; body: string; headers: http.IncomingHttpHeaders }> {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const req = http.request({ host: u.hostname, port: u.port, method: options.method, path: options.path, headers: options.headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers }));
    });
    // The server may close the socket after answering early; the response already arrived by then.
    req.on('error', (error) => reject(error));
    if (options.body) req.write(options.body);
    req.end();
  });
}

describe('probes', () => {
  it('GET /healthz answers ok with security headers', async () => {
    const res = await call(t.url, 'GET', '/healthz');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ status: 'ok' });
    expectSecurityHeaders(res.headers);
  });

  it('GET /readyz answers ready while the database answers', async () => {
    const res = await call(t.url, 'GET', '/readyz');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ status: 'ready' });
  });

  it('GET /readyz answers 503 with the error shape when the database is gone', async () => {
    const other = await startTestServer({ backend: 'postgres' });
    try {
      await other.server.db.close();
      const res = await call(other.url, 'GET', '/readyz');
      expect(res.status).toBe(503);
      expect(ErrorBody.parse(res.body).error.code).toBe('unavailable');
      expect(JSON.stringify(res.body)).not.toMatch(/at .*\.ts|pool/i);
    } finally {
      await other.close();
    }
  });
});

describe('error shape', () => {
  it('unknown API route -> 404 not_found', async () => {
    const res = await call(t.url, 'GET', '/api/nope?x=1');
    expect(res.status).toBe(404);
    expect(ErrorBody.parse(res.body).error.code).toBe('not_found');
    expectSecurityHeaders(res.headers);
  });

  it('wrong method -> 405 with Allow', async () => {
    for (const [method, p, allow] of [
      ['GET', '/api/auth/login', 'POST'],
      ['PUT', '/api/auth/me', 'GET, HEAD'],
      ['POST', '/healthz', 'GET, HEAD'],
      ['GET', '/api/auth/sessions/00000000-0000-0000-0000-000000000000', 'DELETE'],
    ] as const) {
      const res = await call(t.url, method, p);
      expect(res.status, `${method} ${p}`).toBe(405);
      expect(ErrorBody.parse(res.body).error.code).toBe('method_not_allowed');
      expect(res.headers.get('allow')).toBe(allow);
    }
  });

  it('malformed JSON -> 400 invalid_json', async () => {
    for (const raw of ['{', '{"username":', 'nul', '"just a string"', '{"a":1}{"b":2}']) {
      const res = await call(t.url, 'POST', '/api/auth/prelogin', { rawBody: raw, contentType: 'application/json' });
      expect(res.status, raw).toBe(400);
      expect(errorCode(res.body), raw).toBe('invalid_json');
    }
  });

  it('wrong, missing and extra fields -> 400 invalid_request naming the paths but not the values', async () => {
    const secretish = 'SECRET-VALUE-123';
    const res = await call(t.url, 'POST', '/api/auth/login', { json: { username: 42, authKey: secretish, [secretish]: 1 } });
    expect(res.status).toBe(400);
    const body = ErrorBody.parse(res.body);
    expect(body.error.code).toBe('invalid_request');
    expect(body.error.message).toContain('username');
    expect(body.error.message).toContain('authKey');
    expect(body.error.message).toContain('unexpected field');
    expect(body.error.message).not.toContain(secretish);
    const missing = await call(t.url, 'POST', '/api/auth/login', { json: {} });
    expect(ErrorBody.parse(missing.body).error.message).toMatch(/username.*authKey|authKey.*username/);
  });

  it('non-JSON content type -> 415', async () => {
    for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x']) {
      const res = await call(t.url, 'POST', '/api/auth/prelogin', { rawBody: 'username=alice', contentType: type });
      expect(res.status, type).toBe(415);
      expect(errorCode(res.body)).toBe('unsupported_media_type');
    }
    const charset = await call(t.url, 'POST', '/api/auth/prelogin', { rawBody: '{}', contentType: 'application/json; charset=latin1' });
    expect(charset.status).toBe(415);
  });

  it('a 1 MB body is refused with 413 before it is read', async () => {
    const big = Buffer.alloc(1024 * 1024, 0x61);
    const res = await rawRequest(t.url, {
      method: 'POST',
      path: '/api/auth/register',
      headers: { 'content-type': 'application/json', 'content-length': big.length, connection: 'close' },
    });
    // Nothing but headers was sent: the answer cannot have waited for the body.
    expect(res.status).toBe(413);
    expect(JSON.parse(res.body)).toEqual({ error: { code: 'payload_too_large', message: 'Request body exceeds 65536 bytes' } });
  });

  it('a body over 64 KiB without Content-Length (chunked) is refused with 413', async () => {
    const big = Buffer.from(JSON.stringify({ username: 'a'.repeat(70 * 1024) }));
    const res = await rawRequest(t.url, {
      method: 'POST',
      path: '/api/auth/prelogin',
      headers: { 'content-type': 'application/json', 'transfer-encoding': 'chunked' },
      body: big,
    });
    expect(res.status).toBe(413);
    expect(JSON.parse(res.body).error.code).toBe('payload_too_large');
  });

  it('never answers 500 or leaks internals for odd input', async () => {
    const odd = [
      ['POST', '/api/auth/prelogin', '[]'],
      ['POST', '/api/auth/prelogin', '{"__proto__":{"admin":true}}'],
      ['POST', '/api/auth/prelogin', '{"constructor":{"prototype":{}}}'],
      ['POST', '/api/auth/refresh', '{"x":1}'],
      ['POST', '/api/auth/logout', '[1]'],
      ['POST', '/api/auth/register', 'null'],
    ] as const;
    for (const [method, p, raw] of odd) {
      const res = await call(t.url, method, p, { rawBody: raw, contentType: 'application/json' });
      expect(res.status, raw).toBeGreaterThanOrEqual(400);
      expect(res.status, raw).toBeLessThan(500);
      expect(JSON.stringify(res.body)).not.toMatch(/\.ts:|node_modules|stack/);
    }
    const badPath = await call(t.url, 'GET', '/%E0%A4%A');
    expect(badPath.status).toBeLessThan(500);
  });
});

/** Writes raw bytes on a new TCP connection and resolves with everything the server sends until it closes. */
function rawExchange(url: string, bytes: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const socket = net.connect(Number(u.port), u.hostname, () => socket.write(bytes));
    let got = '';
    socket.setEncoding('utf8');
    socket.on('data', (c: string) => (got += c));
    socket.on('close', () => resolve(got));
    socket.on('error', reject);
  });
}

describe('connections that fail below HTTP', () => {
  it('a malformed request line gets 400 and the connection closes', async () => {
    const got = await rawExchange(t.url, 'GET / HTTX/1.1\r\nHost: x\r\n\r\n');
    expect(got.startsWith('HTTP/1.1 400 Bad Request\r\n')).toBe(true);
  });

  it('headers over the limit get 431', async () => {
    const got = await rawExchange(t.url, `GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`);
    expect(got.startsWith('HTTP/1.1 431 Request Header Fields Too Large\r\n')).toBe(true);
  });

  it('answers as Node itself would: 408 for a timed-out connection (browsers resend then), nothing to a reset peer', () => {
    expect(clientErrorResponse('ERR_HTTP_REQUEST_TIMEOUT')).toBe('HTTP/1.1 408 Request Timeout\r\nConnection: close\r\n\r\n');
    expect(clientErrorResponse('HPE_CHUNK_EXTENSIONS_OVERFLOW')).toMatch(/^HTTP\/1\.1 413 /);
    expect(clientErrorResponse('HPE_INVALID_METHOD')).toMatch(/^HTTP\/1\.1 400 /);
    expect(clientErrorResponse(undefined)).toMatch(/^HTTP\/1\.1 400 /);
    expect(clientErrorResponse('ECONNRESET')).toBeNull();
  });
});

describe('origin check', () => {
  const body = () => ({ username: 'alice' });
  it('refuses a cross-origin state-changing request', async () => {
    const res = await call(t.url, 'POST', '/api/auth/prelogin', { json: body(), headers: { origin: 'https://evil.example' } });
    expect(res.status).toBe(403);
    expect(errorCode(res.body)).toBe('origin_not_allowed');
    const nul = await call(t.url, 'POST', '/api/auth/logout', { headers: { origin: 'null' } });
    expect(nul.status).toBe(403);
  });

  it('allows same-origin, listed origins, and requests without Origin', async () => {
    expect((await call(t.url, 'POST', '/api/auth/prelogin', { json: body(), headers: { origin: t.url } })).status).toBe(200);
    expect((await call(t.url, 'POST', '/api/auth/prelogin', { json: body(), headers: { origin: 'https://friend.example' } })).status).toBe(200);
    expect((await call(t.url, 'POST', '/api/auth/prelogin', { json: body() })).status).toBe(200);
    // Safe methods are not state-changing.
    expect((await call(t.url, 'GET', '/healthz', { headers: { origin: 'https://evil.example' } })).status).toBe(200);
  });
});

describe('static app', () => {
  it('serves a script-free placeholder when app/dist is absent', async () => {
    const res = await call(t.url, 'GET', '/');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/html');
    expect(String(res.body)).toContain('Parley');
    expect(String(res.body)).not.toMatch(/<script|style=/i);
    expectSecurityHeaders(res.headers);
    expect((await call(t.url, 'GET', '/api/whatever')).status).toBe(404);
  });

  it('serves app/dist with an index.html fallback for client routes, never for /api', async () => {
    const dist = await mkdtemp(path.join(tmpdir(), 'parley-dist-'));
    await mkdir(path.join(dist, 'assets'));
    await writeFile(path.join(dist, 'index.html'), '<!doctype html><title>app shell</title>');
    await writeFile(path.join(dist, 'assets', 'app-123.js'), 'console.log(1)');
    const s = await startTestServer({ backend: 'postgres', appDistDir: dist });
    try {
      const root = await call(s.url, 'GET', '/');
      expect(String(root.body)).toContain('app shell');
      expect(root.headers.get('cache-control')).toBe('no-cache');
      const route = await call(s.url, 'GET', '/c/some-conversation');
      expect(String(route.body)).toContain('app shell');
      expectSecurityHeaders(route.headers);
      const asset = await call(s.url, 'GET', '/assets/app-123.js');
      expect(asset.headers.get('content-type')).toContain('javascript');
      expect(asset.headers.get('cache-control')).toContain('immutable');
      expect((await call(s.url, 'GET', '/assets/missing.js')).status).toBe(404);
      const api = await call(s.url, 'GET', '/api/unknown');
      expect(api.status).toBe(404);
      expect(errorCode(api.body)).toBe('not_found');
      expect((await call(s.url, 'GET', '/healthz')).body).toEqual({ status: 'ok' });
    } finally {
      await s.close();
      await rm(dist, { recursive: true, force: true });
    }
  });
});

describe.runIf(existsSync('/usr/bin/openssl'))('TLS', () => {
  it('serves HTTPS itself with HSTS and Secure cookies', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'parley-tls-'));
    const cert = path.join(dir, 'cert.pem');
    const key = path.join(dir, 'key.pem');
    execFileSync('/usr/bin/openssl', [
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1',
      '-subj', '/CN=127.0.0.1', '-keyout', key, '-out', cert,
    ], { stdio: 'ignore' });
    const s = await startTestServer({ backend: 'postgres', env: { TLS_CERT_FILE: cert, TLS_KEY_FILE: key } });
    try {
      expect(s.url).toMatch(/^https:\/\//);
      const account = newAccount();
      const res = await new Promise<{ status: number; headers: http.IncomingHttpHeaders }>((resolve, reject) => {
        const u = new URL(s.url);
        const req = https.request(
          { host: u.hostname, port: u.port, path: '/api/auth/register', method: 'POST', rejectUnauthorized: false, headers: { 'content-type': 'application/json' } },
          (r) => {
            r.resume();
            r.on('end', () => resolve({ status: r.statusCode ?? 0, headers: r.headers }));
          },
        );
        req.on('error', reject);
        req.end(JSON.stringify(account.body));
      });
      expect(res.status).toBe(201);
      expect(res.headers['strict-transport-security']).toBe('max-age=31536000; includeSubDomains');
      expect(String(res.headers['set-cookie'])).toMatch(/; Secure/);
    } finally {
      await s.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});

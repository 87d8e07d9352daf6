/**
 * Precompressed app assets (app/scripts/precompress.mjs writes .br/.gz siblings): the server sends the
 * encoding the client accepts with the original's content type, falls back to the plain file otherwise,
 * uses the compressed shell for client routes, and never leaves the dist directory.
 */
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import http from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { brotliCompressSync, gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from './helpers/server.ts';

function get(url: string, encoding?: string): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer }> {
  return new Promise((resolve, reject) => {
    http.get(url, { headers: encoding ? { 'accept-encoding': encoding } : {} }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (d: Buffer) => parts.push(d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(parts) }));
    }).on('error', reject);
  });
}

describe('precompressed static assets', () => {
  let s: TestServer;
  const js = 'console.log("parley");'.repeat(100);
  const html = `<!doctype html><title>shell</title>${' '.repeat(2000)}`;
  beforeAll(async () => {
    const dist = await mkdtemp(path.join(tmpdir(), 'parley-dist-'));
    await mkdir(path.join(dist, 'assets'));
    await writeFile(path.join(dist, 'index.html'), html);
    await writeFile(path.join(dist, 'index.html.br'), brotliCompressSync(html));
    await writeFile(path.join(dist, 'assets', 'app-1.js'), js);
    await writeFile(path.join(dist, 'assets', 'app-1.js.br'), brotliCompressSync(js));
    await writeFile(path.join(dist, 'assets', 'app-1.js.gz'), gzipSync(js));
    s = await startTestServer({ backend: 'postgres', appDistDir: dist });
  });
  afterAll(async () => {
    await s?.close();
  });

  it('sends brotli, then gzip, then plain, always with the right type and Vary', async () => {
    const br = await get(`${s.url}/assets/app-1.js`, 'gzip, deflate, br');
    expect(br.headers['content-encoding']).toBe('br');
    expect(br.headers['content-type']).toContain('javascript');
    expect(br.headers['vary']).toContain('Accept-Encoding');
    expect(br.headers['cache-control']).toContain('immutable');
    expect(br.body.length).toBeLessThan(js.length);
    const gz = await get(`${s.url}/assets/app-1.js`, 'gzip');
    expect(gz.headers['content-encoding']).toBe('gzip');
    const plain = await get(`${s.url}/assets/app-1.js`);
    expect(plain.headers['content-encoding']).toBeUndefined();
    expect(plain.body.toString()).toBe(js);
  });

  it('client routes get the compressed shell; security headers stay', async () => {
    const r = await get(`${s.url}/c/some-conversation`, 'br');
    expect(r.status).toBe(200);
    expect(r.headers['content-encoding']).toBe('br');
    expect(r.headers['content-type']).toContain('text/html');
    expect(r.headers['cache-control']).toBe('no-cache');
    expect(r.headers['content-security-policy']).toContain("default-src 'self'");
  });

  it('never serves files outside the dist directory', async () => {
    for (const p of ['/assets/..%2F..%2Fpackage.json', '/..%2f..%2fetc%2fpasswd', '/%2e%2e/%2e%2e/package.json']) {
      const r = await get(`${s.url}${p}`, 'br, gzip');
      expect(r.body.toString()).not.toContain('"workspaces"');
      expect(r.body.toString()).not.toContain('root:');
    }
  });
});

/**
 * deploy/nginx.conf must load in a real nginx. The tests use Debian's nginx (1.22), which differs from the
 * image compose runs (nginx:1.28), so a COPY of the file is checked with exactly these substitutions, each
 * asserted to have happened so a reshaped file cannot slip through:
 *   1. `server syncN:8080 resolve ...` -> `server 127.0.0.1:<port> ...`: compose service names do not
 *      resolve outside compose, and the `resolve` parameter only exists in open-source nginx >= 1.27.3.
 *      (The rest of each server line, max_fails/fail_timeout, is kept and checked.)
 *   2. /etc/nginx/certs/*.pem -> a throwaway self-signed pair generated here.
 *   3. /etc/nginx/parley-locations.conf -> deploy/nginx-locations.conf (where compose mounts it from).
 * Everything else (TLS settings, HSTS, redirect, upgrade map, timeouts, the shared locations) is checked
 * verbatim.
 */
import { closeSync, openSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEPLOY, HAVE_NGINX, NGINX, makeSelfSignedCert, run } from './helpers.ts';

describe.skipIf(!HAVE_NGINX)(`deploy/nginx.conf (nginx -t with ${NGINX})`, () => {
  let dir = '';
  let conf = '';
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'parley-nginx-t-'));
    conf = await readFile(path.join(DEPLOY, 'nginx.conf'), 'utf8');
  });
  afterAll(async () => {
    if (dir !== '') await rm(dir, { recursive: true, force: true });
  });

  it('passes nginx -t after the documented substitutions only', async () => {
    const { cert, key } = makeSelfSignedCert(dir);
    let port = 18081;
    const upstream = /server (sync\d):8080 resolve( [^;]*);/g;
    const hosts = [...conf.matchAll(upstream)].map((m) => m[1]);
    expect(hosts).toEqual(['sync1', 'sync2', 'sync3']);
    let copy = conf.replace(upstream, (_all, _host: string, rest: string) => `server 127.0.0.1:${port++}${rest};`);

    const swaps: Array<[string, string]> = [
      ['ssl_certificate /etc/nginx/certs/fullchain.pem;', `ssl_certificate ${cert};`],
      ['ssl_certificate_key /etc/nginx/certs/privkey.pem;', `ssl_certificate_key ${key};`],
      ['include /etc/nginx/parley-locations.conf;', `include ${path.join(DEPLOY, 'nginx-locations.conf')};`],
    ];
    for (const [from, to] of swaps) {
      expect(copy.split(from).length - 1, `exactly one ${from}`).toBe(1);
      copy = copy.replace(from, to);
    }
    const file = path.join(dir, 'nginx.conf');
    await writeFile(file, copy);
    // access_log goes to /dev/stdout (the container log); give nginx a plain file as stdout here.
    const stdout = openSync(path.join(dir, 'stdout.log'), 'w');
    let r;
    try {
      r = run(NGINX, ['-t', '-q', '-p', dir, '-e', path.join(dir, 'error.log'), '-c', file], {}, stdout);
    } finally {
      closeSync(stdout);
    }
    const log = await readFile(path.join(dir, 'error.log'), 'utf8').catch(() => '');
    expect(`${r.stderr}${log}`, 'nginx -t printed warnings or errors').toBe('');
    expect(r.status).toBe(0);
  });

  it('has the edge behaviour the deployment relies on', async () => {
    const locations = await readFile(path.join(DEPLOY, 'nginx-locations.conf'), 'utf8');
    // HTTP -> HTTPS redirect and HSTS on every TLS response.
    expect(conf).toMatch(/listen 80 default_server;[\s\S]*return 301 https:\/\/\$host\$request_uri;/);
    expect(conf).toMatch(/add_header Strict-Transport-Security "max-age=\d{8,}[^"]*" always;/);
    expect(conf).toMatch(/ssl_protocols TLSv1\.2 TLSv1\.3;/);
    // Passive health checks on every upstream server.
    expect(conf.match(/max_fails=\d+ fail_timeout=\d+s/g)).toHaveLength(3);
    // WebSocket upgrade with a long read timeout; forwarding headers repeated inside /sync (no inheritance).
    const sync = /location = \/sync \{([\s\S]*?)\n\}/.exec(locations)?.[1] ?? '';
    expect(sync).toContain('proxy_set_header Upgrade $http_upgrade;');
    expect(sync).toContain('proxy_set_header Connection $connection_upgrade;');
    expect(sync).toContain('proxy_set_header X-Forwarded-For $remote_addr;');
    expect(sync).toContain('proxy_set_header X-Forwarded-Proto $scheme;');
    expect(sync).toContain('proxy_set_header Host $http_host;');
    expect(Number(/proxy_read_timeout (\d+)s;/.exec(sync)?.[1])).toBeGreaterThanOrEqual(600);
    // Room for future blobs.
    expect(Number(/client_max_body_size (\d+)m;/.exec(locations)?.[1])).toBeGreaterThanOrEqual(100);
    // The local topology uses the very same locations file.
    expect(await readFile(path.join(DEPLOY, 'nginx-local.conf'), 'utf8')).toContain('include {{LOCATIONS}};');
  });
});

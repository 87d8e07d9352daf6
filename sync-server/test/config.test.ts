/** Configuration: defaults, validation errors naming each bad variable, path resolution, the secret file. */
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { CONFIG_DOCS, ConfigError, loadConfig } from '../src/config.ts';
import { loadOrCreateJwtSecret } from '../src/secrets.ts';

function problems(env: Record<string, string>): string[] {
  try {
    loadConfig(env, '/srv');
  } catch (error) {
    if (error instanceof ConfigError) return [...error.problems];
    throw error;
  }
  return [];
}

describe('loadConfig', () => {
  it('has documented defaults and is frozen', () => {
    const c = loadConfig({}, '/srv/parley');
    expect(c).toEqual({
      port: 8080,
      host: '127.0.0.1',
      dataDir: '/srv/parley/data',
      databaseUrl: null,
      redisUrl: null,
      jwtSecret: null,
      allowedOrigins: [],
      tls: null,
      trustProxy: false,
      logLevel: 'info',
      accessTokenTtlSeconds: 600,
      blobMaxBytes: 104_857_600,
      blobQuotaBytes: 1_073_741_824,
      blobGraceSeconds: 86_400,
      rateLimitMultiplier: 1,
      appDir: null,
    });
    expect(Object.isFrozen(c)).toBe(true);
    expect(Object.isFrozen(c.allowedOrigins)).toBe(true);
  });

  it('resolves relative paths against INIT_CWD (where npm start was typed)', () => {
    const c = loadConfig(
      { INIT_CWD: '/home/me/parley', DATA_DIR: './data', APP_DIR: 'build/app', TLS_CERT_FILE: 'c.pem', TLS_KEY_FILE: '/etc/k.pem' },
      '/home/me/parley/sync-server',
    );
    expect(c.dataDir).toBe('/home/me/parley/data');
    expect(c.appDir).toBe('/home/me/parley/build/app');
    expect(c.tls).toEqual({ certFile: '/home/me/parley/c.pem', keyFile: '/etc/k.pem' });
  });

  it('parses every variable', () => {
    const c = loadConfig({
      PORT: '0', HOST: '0.0.0.0', DATABASE_URL: 'postgres://u@db/x', REDIS_URL: 'redis://r:6379', JWT_SECRET: 'x'.repeat(32),
      ALLOWED_ORIGINS: 'https://a.example, https://b.example:8443/', TRUST_PROXY: '10.0.0.0/8,loopback', LOG_LEVEL: 'warn',
      ACCESS_TOKEN_TTL_SECONDS: '120',
    });
    expect(c).toMatchObject({
      port: 0, host: '0.0.0.0', databaseUrl: 'postgres://u@db/x', redisUrl: 'redis://r:6379', jwtSecret: 'x'.repeat(32),
      allowedOrigins: ['https://a.example', 'https://b.example:8443'], trustProxy: ['10.0.0.0/8', 'loopback'], logLevel: 'warn',
      accessTokenTtlSeconds: 120,
    });
    expect(loadConfig({ TRUST_PROXY: 'true' }).trustProxy).toBe(true);
    expect(loadConfig({ TRUST_PROXY: '2' }).trustProxy).toBe(2);
    expect(loadConfig({ PORT: '' }).port).toBe(8080);
  });

  it('lists every bad variable by name without echoing values', () => {
    const secret = 'tooshort-secret';
    const found = problems({
      PORT: '99999', DATABASE_URL: 'mysql://x', REDIS_URL: 'http://x', JWT_SECRET: secret, ALLOWED_ORIGINS: 'https://a.example/path',
      TLS_CERT_FILE: 'c.pem', TRUST_PROXY: 'maybe', LOG_LEVEL: 'loud', ACCESS_TOKEN_TTL_SECONDS: '5',
    });
    const names = found.map((p) => p.split(':')[0]);
    expect(names).toEqual(
      expect.arrayContaining(['PORT', 'DATABASE_URL', 'REDIS_URL', 'JWT_SECRET', 'ALLOWED_ORIGINS', 'TLS_CERT_FILE', 'TRUST_PROXY', 'LOG_LEVEL', 'ACCESS_TOKEN_TTL_SECONDS']),
    );
    expect(found.join('\n')).not.toContain(secret);
  });

  it('refuses plain HTTP on a non-loopback HOST unless TLS or TRUST_PROXY is set', () => {
    expect(problems({ HOST: '0.0.0.0' })).toEqual([expect.stringMatching(/^HOST: refusing to serve plain HTTP/)]);
    expect(problems({ HOST: '192.168.1.5' })).toHaveLength(1);
    expect(problems({ HOST: '0.0.0.0', TRUST_PROXY: 'loopback' })).toEqual([]);
    expect(problems({ HOST: '0.0.0.0', TLS_CERT_FILE: 'c', TLS_KEY_FILE: 'k' })).toEqual([]);
    expect(problems({ HOST: '::1' })).toEqual([]);
    expect(problems({ HOST: 'localhost' })).toEqual([]);
  });

  it('requires JWT_SECRET when REDIS_URL is set (instances must agree)', () => {
    expect(problems({ REDIS_URL: 'redis://r' })).toEqual([expect.stringMatching(/^JWT_SECRET:/)]);
  });

  it('CONFIG_DOCS covers every variable and the README documents each one', async () => {
    const readme = await readFile(fileURLToPath(new URL('../README.md', import.meta.url)), 'utf8');
    const names = CONFIG_DOCS.map((d) => d.name);
    expect(names).toEqual(expect.arrayContaining(['PORT', 'HOST', 'DATA_DIR', 'DATABASE_URL', 'REDIS_URL', 'JWT_SECRET', 'ALLOWED_ORIGINS', 'TLS_CERT_FILE', 'TLS_KEY_FILE', 'TRUST_PROXY', 'LOG_LEVEL', 'ACCESS_TOKEN_TTL_SECONDS']));
    for (const name of names) expect(readme, name).toContain(`\`${name}\``);
  });
});

describe('loadOrCreateJwtSecret', () => {
  it('creates a 0600 secret once and reuses it', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'parley-secret-'));
    try {
      const dataDir = path.join(dir, 'nested', 'data');
      const [a, b] = await Promise.all([loadOrCreateJwtSecret(dataDir), loadOrCreateJwtSecret(dataDir)]);
      expect(a).toBe(b);
      expect(a.length).toBeGreaterThanOrEqual(32);
      expect((await stat(path.join(dataDir, 'jwt-secret'))).mode & 0o777).toBe(0o600);
      expect(await loadOrCreateJwtSecret(dataDir)).toBe(a);
      await writeFile(path.join(dataDir, 'jwt-secret'), 'short');
      await expect(loadOrCreateJwtSecret(dataDir)).rejects.toThrow(/shorter than 32/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

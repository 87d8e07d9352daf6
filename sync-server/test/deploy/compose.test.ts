/**
 * deploy/compose.yaml is validated with `docker-compose config` (Debian's docker-compose 1.29, which needs
 * no engine for this), using deploy/.env.example with its two deliberately empty secrets filled in with
 * generated values. deploy/Dockerfile cannot be built here (no engine), so it gets static checks: every
 * path it COPYs from the build context exists and is not excluded by .dockerignore.
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEPLOY, ROOT, run } from './helpers.ts';

const COMPOSE = '/usr/bin/docker-compose';
const HAVE_COMPOSE = existsSync(COMPOSE);

describe.skipIf(!HAVE_COMPOSE)('deploy/compose.yaml (docker-compose config)', () => {
  let dir = '';
  let example = '';
  const jwtSecret = randomBytes(32).toString('hex');
  const postgresPassword = randomBytes(12).toString('hex');
  const composeArgs = (envFile: string) => ['-f', path.join(DEPLOY, 'compose.yaml'), '--env-file', envFile];

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'parley-compose-'));
    example = await readFile(path.join(DEPLOY, '.env.example'), 'utf8');
  });
  afterAll(async () => {
    if (dir !== '') await rm(dir, { recursive: true, force: true });
  });

  async function filledEnv(): Promise<string> {
    expect(example).toMatch(/^JWT_SECRET=$/m);
    expect(example).toMatch(/^POSTGRES_PASSWORD=$/m);
    const file = path.join(dir, 'filled.env');
    await writeFile(
      file,
      example.replace(/^JWT_SECRET=$/m, `JWT_SECRET=${jwtSecret}`).replace(/^POSTGRES_PASSWORD=$/m, `POSTGRES_PASSWORD=${postgresPassword}`),
    );
    return file;
  }

  it('validates with the example settings and wires three instances to one secret, database and Redis', async () => {
    const env = await filledEnv();
    const r = run(COMPOSE, [...composeArgs(env), 'config']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const services = run(COMPOSE, [...composeArgs(env), 'config', '--services']).stdout.split('\n').filter(Boolean).sort();
    expect(services).toEqual(['nginx', 'postgres', 'redis', 'sync1', 'sync2', 'sync3']);

    const out = r.stdout;
    const count = (needle: string) => out.split(needle).length - 1;
    expect(count(`JWT_SECRET: ${jwtSecret}`)).toBe(3);
    expect(count(`DATABASE_URL: postgres://parley:${postgresPassword}@postgres:5432/parley`)).toBe(3);
    expect(count('REDIS_URL: redis://redis:6379')).toBe(3);
    for (const name of ['sync1', 'sync2', 'sync3']) {
      expect(out).toContain(`hostname: ${name}`);
      expect(out).toContain(`- ${name}-data:/data`);
    }
    // Only nginx publishes ports; PostgreSQL has a health check and a volume.
    expect(count('published:')).toBe(2);
    expect(out).toContain('pg_isready');
    expect(out).toContain('postgres-data:/var/lib/postgresql/data');
  });

  it('refuses to run while the secrets in .env.example are still empty', () => {
    const r = run(COMPOSE, [...composeArgs(path.join(DEPLOY, '.env.example')), 'config', '-q']);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/JWT_SECRET|POSTGRES_PASSWORD/);
  });

  it('documents every variable compose.yaml reads in .env.example, each with a comment', async () => {
    const compose = await readFile(path.join(DEPLOY, 'compose.yaml'), 'utf8');
    const used = new Set([...compose.matchAll(/\$\{([A-Z_][A-Z0-9_]*)/g)].map((m) => m[1]));
    expect(used.size).toBeGreaterThan(5);
    const lines = example.split('\n');
    for (const name of used) {
      const at = lines.findIndex((l) => l.startsWith(`${name}=`));
      expect(at, `${name} in .env.example`).toBeGreaterThan(0);
      // A comment directly above, or above a run of related settings (HTTP_PORT/HTTPS_PORT).
      let above = at - 1;
      while (above > 0 && /^[A-Z_][A-Z0-9_]*=/.test(lines[above] ?? '')) above -= 1;
      expect(lines[above], `comment above ${name}`).toMatch(/^#/);
    }
  });
});

describe('deploy/Dockerfile (static checks; no engine to build it)', () => {
  it('copies only paths that exist and that .dockerignore lets through', async () => {
    const dockerfile = await readFile(path.join(DEPLOY, 'Dockerfile'), 'utf8');
    const ignore = (await readFile(path.join(ROOT, '.dockerignore'), 'utf8'))
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l !== '' && !l.startsWith('#'));
    const sources = [...dockerfile.matchAll(/^COPY (?!--from)(.+) \S+$/gm)].flatMap((m) => (m[1] ?? '').split(' '));
    expect(sources.length).toBeGreaterThan(5);
    for (const src of sources) {
      expect(existsSync(path.join(ROOT, src)), `${src} exists`).toBe(true);
      const top = src.split('/')[0] ?? src;
      expect(ignore.includes(top) || ignore.includes(src), `${src} not excluded by .dockerignore`).toBe(false);
    }
    // Secrets next to compose.yaml never reach a build context.
    expect(ignore).toContain('deploy');
  });

  it('runs unprivileged on node:24-slim with a health check, port 8080 and a data volume', async () => {
    const dockerfile = await readFile(path.join(DEPLOY, 'Dockerfile'), 'utf8');
    expect(dockerfile).toMatch(/^ARG NODE_IMAGE=node:24-slim$/m);
    expect(dockerfile.match(/^FROM \$\{NODE_IMAGE\} AS \w+$/gm)).toHaveLength(3);
    expect(dockerfile).toMatch(/^USER node$/m);
    expect(dockerfile).toMatch(/^EXPOSE 8080$/m);
    expect(dockerfile).toMatch(/^VOLUME \["\/data"\]$/m);
    expect(dockerfile).toMatch(/^HEALTHCHECK [\s\S]*\/healthz/m);
    expect(dockerfile).toMatch(/^ENV HOST=0\.0\.0\.0$/m);
    expect(dockerfile).toMatch(/^ENV TRUST_PROXY=\S+$/m);
    // The USER line comes after the last root-only step.
    expect(dockerfile.indexOf('USER node')).toBeGreaterThan(dockerfile.lastIndexOf('RUN '));
  });

  it('has a health-check command that works with this Node', async () => {
    // Extract the exec-form command and run it against a throwaway HTTP server answering /healthz.
    const dockerfile = await readFile(path.join(DEPLOY, 'Dockerfile'), 'utf8');
    const json = /CMD (\["node", "-e", .*\])$/m.exec(dockerfile)?.[1];
    expect(json).toBeDefined();
    const [, , script] = JSON.parse(json ?? '[]') as string[];
    const http = await import('node:http');
    const server = http.createServer((req, res) => {
      res.statusCode = req.url === '/healthz' ? 200 : 404;
      res.end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    const port = typeof address === 'object' && address !== null ? address.port : 0;
    try {
      const { spawn } = await import('node:child_process');
      const exitCode = (env: Record<string, string>) =>
        new Promise<number | null>((resolve) => {
          const child = spawn(process.execPath, ['-e', script ?? ''], { env: { PATH: process.env['PATH'] ?? '', ...env } });
          child.on('exit', (code) => resolve(code));
        });
      expect(await exitCode({ PORT: String(port) })).toBe(0);
      server.close();
      expect(await exitCode({ PORT: String(port) })).toBe(1);
    } finally {
      server.close();
    }
  });
});

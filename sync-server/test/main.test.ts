/**
 * The real entry point as a child process: bad configuration exits non-zero with a readable message;
 * a good one starts, serves, and stops cleanly on SIGTERM.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from './helpers/server.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

function run(env: Record<string, string>) {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: ROOT,
    env: { PATH: process.env['PATH'] ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, exited, out: () => stdout, err: () => stderr };
}

let db: TestDatabase;
let dataDir: string;
beforeAll(async () => {
  db = await createTestDatabase();
  dataDir = await mkdtemp(path.join(tmpdir(), 'parley-main-'));
});
afterAll(async () => {
  await db?.drop();
  await rm(dataDir, { recursive: true, force: true });
});

describe('main.ts', () => {
  it('exits non-zero, naming each bad variable', async () => {
    const p = run({ PORT: 'abc', LOG_LEVEL: 'loud', DATA_DIR: dataDir });
    expect(await p.exited).toBe(2);
    expect(p.err()).toContain('PORT');
    expect(p.err()).toContain('LOG_LEVEL');
    expect(p.err()).not.toMatch(/at .*\.ts/);
  });

  it('refuses plain HTTP on a non-loopback HOST', async () => {
    const p = run({ HOST: '0.0.0.0', DATA_DIR: dataDir });
    expect(await p.exited).not.toBe(0);
    expect(p.err()).toContain('refusing to serve plain HTTP');
  });

  it('starts, serves /healthz, and exits 0 on SIGTERM', async () => {
    const p = run({ PORT: '0', DATABASE_URL: db.url, DATA_DIR: dataDir });
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setInterval(() => {
        const m = /"msg":"listening","url":"([^"]+)"/.exec(p.out());
        if (m?.[1]) {
          clearInterval(timer);
          resolve(m[1]);
        }
      }, 50);
      p.exited.then((code) => {
        clearInterval(timer);
        reject(new Error(`exited ${code}: ${p.err()}`));
      });
    });
    expect(await (await fetch(`${url}/healthz`)).json()).toEqual({ status: 'ok' });
    p.child.kill('SIGTERM');
    expect(await p.exited).toBe(0);
    expect(p.out()).toContain('"msg":"stopped"');
  });
});

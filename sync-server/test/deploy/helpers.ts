/**
 * Shared helpers for the deployment tests: repository paths, a throwaway self-signed certificate (generated
 * at test time, never committed) and a small process runner.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const DEPLOY = path.join(ROOT, 'deploy');
export const NGINX = process.env['NGINX'] ?? '/usr/sbin/nginx';
export const HAVE_NGINX = existsSync(NGINX);

export interface RunResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs a command to completion with a clean, explicit environment (nothing leaks in from the shell).
 * `stdoutFd` gives the child a file as stdout (nginx opens /dev/stdout, which fails on some pipe types).
 */
export function run(command: string, args: string[], env: Record<string, string> = {}, stdoutFd?: number): RunResult {
  const r = spawnSync(command, args, {
    cwd: ROOT,
    ...(stdoutFd === undefined ? {} : { stdio: ['ignore', stdoutFd, 'pipe'] }),
    encoding: 'utf8',
    timeout: 60_000,
    env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: process.env['HOME'] ?? '/tmp', ...env },
  });
  if (r.error) throw r.error;
  return { status: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

/** Writes fullchain.pem / privkey.pem (self-signed, 1 day, CN=localhost) into `dir` with the openssl CLI. */
export function makeSelfSignedCert(dir: string): { cert: string; key: string } {
  const cert = path.join(dir, 'fullchain.pem');
  const key = path.join(dir, 'privkey.pem');
  const r = run('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
    '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=localhost',
  ]);
  if (r.status !== 0) throw new Error(`openssl failed: ${r.stderr}`);
  return { cert, key };
}

/**
 * Server child processes: spawned with their own Node (so their CPU and memory are measured apart from the
 * clients), bound to 127.0.0.1 on a free port, asked for GC'd memory over IPC, and sampled from /proc.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { cpuProfileFlags } from './cpu-profile.ts';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { SERVER_NODE_FLAGS } from '../../sync-server/src/node-flags.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');
const CLK_TCK = 100;

export const ADMIN_PG = process.env['BENCH_POSTGRES_URL'] ?? 'postgres://postgres@127.0.0.1:5432/postgres';

/** A throwaway PostgreSQL database. */
export async function createDatabase(prefix: string): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `${prefix}_${randomBytes(5).toString('hex')}`;
  const admin = new pg.Client({ connectionString: ADMIN_PG });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`).finally(() => admin.end());
  const url = new URL(ADMIN_PG);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const c = new pg.Client({ connectionString: ADMIN_PG });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).finally(() => c.end());
    },
  };
}

export interface MemReport {
  rss: number;
  heapUsed: number;
  /** Committed V8 heap (all spaces). */
  heapTotal: number;
  external: number;
  arrayBuffers: number;
  docs: number;
  connections: number;
  /** Committed and used bytes of each V8 heap space (new_space, old_space, ...). */
  spaces: Record<string, { committed: number; used: number }>;
  /** Milliseconds of GC pauses since the process started (young generation, full), and their number. */
  gc: { minor: number; major: number; count: number };
}

/** A running server child. */
export class ServerProc {
  #seq = 0;
  readonly #waiting = new Map<number, (m: unknown) => void>();
  private constructor(
    readonly kind: 'parley' | 'baseline',
    readonly child: ChildProcess,
    readonly port: number,
    readonly cleanup: () => Promise<void>,
  ) {
    child.on('message', (m: unknown) => {
      const r = m as { id: number };
      this.#waiting.get(r.id)?.(r);
      this.#waiting.delete(r.id);
    });
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }
  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }
  get wsUrl(): string {
    return `ws://127.0.0.1:${this.port}`;
  }

  /**
   * Starts a server child. The Parley server runs with the flags it ships with (SERVER_NODE_FLAGS, as in
   * `npm start` and the Docker image); the baseline with Node's defaults, as a plain Hocuspocus server would.
   * `nodeFlags` overrides either (e.g. to show what Parley's flags do to the baseline); `env` adds variables
   * (e.g. glibc's MALLOC_* tunables, for experiments).
   */
  static async start(kind: 'parley' | 'baseline', dbUrl: string, opts: { nodeFlags?: readonly string[]; env?: Record<string, string> } = {}): Promise<ServerProc> {
    const dataDir = await mkdtemp(path.join(tmpdir(), `bench-${kind}-`));
    const entry = path.join(ROOT, 'bench/servers', kind === 'parley' ? 'parley-server.ts' : 'baseline-server.ts');
    const env: Record<string, string> = {
      PATH: process.env['PATH'] ?? '',
      HOME: process.env['HOME'] ?? '/tmp',
      NODE_ENV: 'production',
      PORT: '0',
      HOST: '127.0.0.1',
      DATA_DIR: dataDir,
      DATABASE_URL: dbUrl,
      LOG_LEVEL: 'warn',
      ...opts.env,
    };
    const nodeFlags = opts.nodeFlags ?? (kind === 'parley' ? SERVER_NODE_FLAGS : []);
    // --expose-gc only lets the IPC `mem` command force the two full GCs before a reading.
    const child = spawn(process.execPath, [...nodeFlags, ...cpuProfileFlags(`${kind}-server`), '--expose-gc', '--import', 'tsx', entry], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
    child.stderr?.on('data', (d: Buffer) => process.stderr.write(`[${kind}-server] ${d.toString().slice(0, 2000)}`));
    const port = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${kind} server did not start in 60 s`)), 60_000);
      let buf = '';
      child.stdout?.on('data', (d: Buffer) => {
        buf += d.toString();
        const m = /READY (\d+)/.exec(buf);
        if (m) {
          clearTimeout(timer);
          resolve(Number(m[1]));
        }
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`${kind} server exited with ${code}`));
      });
    });
    return new ServerProc(kind, child, port, () => rm(dataDir, { recursive: true, force: true }));
  }

  /** Memory after two full GCs in the child. */
  mem(): Promise<MemReport> {
    return this.#request<MemReport>({ cmd: 'mem' }, 30_000);
  }

  /** Writes a heap snapshot of the child (after a full GC) into `dir`; resolves with its path. */
  async snapshot(dir: string): Promise<string> {
    return (await this.#request<{ file: string }>({ cmd: 'snapshot', dir }, 300_000)).file;
  }

  #request<T>(msg: Record<string, unknown>, timeoutMs: number): Promise<T> {
    const id = ++this.#seq;
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`${String(msg['cmd'])} request timed out`)), timeoutMs);
      this.#waiting.set(id, (m) => {
        clearTimeout(t);
        resolve(m as T);
      });
      this.child.send({ id, ...msg });
    });
  }

  /** RSS from /proc (no GC), bytes. */
  rssNow(): number {
    return procRss(this.pid);
  }

  /** CPU seconds used so far (user + system). */
  cpuSeconds(): number {
    return procCpu(this.pid);
  }

  async stop(): Promise<void> {
    if (this.child.exitCode === null) {
      const exited = new Promise((r) => this.child.once('exit', r));
      this.child.kill('SIGTERM');
      const t = setTimeout(() => this.child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(t);
    }
    await this.cleanup();
  }
}

export function procRss(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : NaN;
}

export function procCpu(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
}

/** CPU and peak RSS of a process over a window (sampled every 250 ms). */
export class Sampler {
  #timer: ReturnType<typeof setInterval> | undefined;
  #cpu0 = 0;
  #t0 = 0;
  peakRss = 0;
  constructor(readonly pid: number) {}
  start(): this {
    this.#cpu0 = procCpu(this.pid);
    this.#t0 = performance.now();
    this.peakRss = procRss(this.pid);
    this.#timer = setInterval(() => {
      try {
        this.peakRss = Math.max(this.peakRss, procRss(this.pid));
      } catch {
        /* process gone */
      }
    }, 250);
    return this;
  }
  /** Average CPU use over the window in cores (1.0 = one core busy), and peak RSS. */
  stop(): { cpuCores: number; cpuSeconds: number; peakRss: number } {
    if (this.#timer) clearInterval(this.#timer);
    const cpuSeconds = procCpu(this.pid) - this.#cpu0;
    const wall = (performance.now() - this.#t0) / 1000;
    return { cpuCores: cpuSeconds / Math.max(wall, 1e-9), cpuSeconds, peakRss: this.peakRss };
  }
}

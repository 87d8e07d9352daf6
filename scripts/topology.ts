/**
 * The deploy/compose.yaml topology without Docker: N sync-server instances (default 3) sharing a fresh
 * PostgreSQL database, the machine's Redis and one JWT secret, behind Debian's nginx with the same proxy
 * rules as production (deploy/nginx-locations.conf, wrapped by the deploy/nginx-local.conf template).
 *
 *   npx tsx scripts/topology.ts start   # runs in the foreground until Ctrl-C / SIGTERM, then cleans up
 *   npx tsx scripts/topology.ts stop    # stops a topology started from another terminal
 *
 * Tests import `startTopology()` instead. Everything it creates (processes, the temp directory, the
 * database) is removed by `stop()`, which is idempotent and also runs when start-up fails half-way.
 *
 * Environment (CLI and defaults): TOPOLOGY_POSTGRES_URL (admin URL, default
 * postgres://postgres@127.0.0.1:5432/postgres), TOPOLOGY_REDIS_URL (default redis://127.0.0.1:6379),
 * NGINX (default /usr/sbin/nginx).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { SERVER_NODE_FLAGS } from '../sync-server/src/node-flags.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const TSX_CLI = path.join(ROOT, 'node_modules/tsx/dist/cli.mjs');
const SERVER_MAIN = 'sync-server/src/main.ts';
const NGINX_TEMPLATE = path.join(ROOT, 'deploy/nginx-local.conf');
const NGINX_LOCATIONS = path.join(ROOT, 'deploy/nginx-locations.conf');

export const DEFAULT_POSTGRES_URL = 'postgres://postgres@127.0.0.1:5432/postgres';
export const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379';
export const DEFAULT_NGINX = '/usr/sbin/nginx';
/** Where `start` records what `stop` (another process) must clean up. */
export const STATE_FILE = path.join(tmpdir(), 'parley-topology.json');

/** Kept per process so a chatty instance cannot grow memory without bound. */
const MAX_LOG_LINES = 5000;

export interface TopologyOptions {
  /** Number of sync-server instances (default 3). */
  instances?: number;
  /** Admin connection used to CREATE/DROP the per-topology database. */
  postgresAdminUrl?: string;
  /** Passed to every instance as REDIS_URL; `null` leaves it unset (single-instance semantics). */
  redisUrl?: string | null;
  /** nginx binary (default /usr/sbin/nginx). */
  nginx?: string;
  /** Extra environment for every instance (after the topology's own variables, so it can override them). */
  env?: Record<string, string>;
  /** LOG_LEVEL for the instances (default info: the access log is what tests count). */
  logLevel?: 'debug' | 'info' | 'warn' | 'error';
  /** How long to wait for every instance and then nginx to report ready (default 60 s). */
  readyTimeoutMs?: number;
  /** Mirror instance and nginx output here as it arrives (the CLI prints it). */
  onOutput?: (source: string, line: string) => void;
}

export interface TopologyInstance {
  /** `sync1`, `sync2`, ... as in compose.yaml. */
  readonly name: string;
  readonly port: number;
  /** Pid of the instance's process-group leader (the tsx launcher; the server is its child). */
  readonly pid: number;
  /** Direct URL of this instance, bypassing nginx. */
  readonly url: string;
  /** Captured stdout+stderr lines (JSON log lines from the server), most recent MAX_LOG_LINES. */
  readonly logs: string[];
  /** Resolves with the exit code (or signal name) once the whole instance has exited. */
  readonly exited: Promise<number | string>;
  /** Signals the instance's whole process group (launcher and server). */
  kill(signal?: NodeJS.Signals): void;
}

export interface Topology {
  /** nginx's URL: what a client would use. */
  readonly url: string;
  readonly nginxPort: number;
  readonly nginxPid: number;
  readonly instances: readonly TopologyInstance[];
  /** The per-topology database (dropped by stop()). */
  readonly databaseUrl: string;
  /** Temp directory holding the nginx config, its logs and temp files (removed by stop()). */
  readonly dir: string;
  /** Captured nginx access-log lines (`... $upstream_addr` last) read from disk. */
  nginxAccessLog(): Promise<string[]>;
  /** Stops nginx and every instance (SIGTERM, then SIGKILL after 10 s), drops the database, removes dir. */
  stop(): Promise<void>;
}

/** A TCP port that was free a moment ago on 127.0.0.1. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const address = srv.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      srv.close(() => (port > 0 ? resolve(port) : reject(new Error('could not allocate a port'))));
    });
  });
}

/** True when `pid` (or, with a negative pid, its process group) still exists. */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // already gone
  }
}

interface Managed {
  name: string;
  child: ChildProcess;
  logs: string[];
  exited: Promise<number | string>;
}

/**
 * Spawns `command` as the leader of a new process group (so the tsx launcher AND the server it starts
 * can be signalled together, and nothing is left behind), capturing output line by line.
 */
function launch(name: string, command: string, args: string[], env: NodeJS.ProcessEnv, onOutput?: (source: string, line: string) => void): Managed {
  const child = spawn(command, args, { cwd: ROOT, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  const logs: string[] = [];
  const capture = (stream: NodeJS.ReadableStream | null) => {
    let pending = '';
    stream?.setEncoding('utf8');
    stream?.on('data', (chunk: string) => {
      pending += chunk;
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) {
        logs.push(line);
        if (logs.length > MAX_LOG_LINES) logs.shift();
        onOutput?.(name, line);
      }
    });
  };
  capture(child.stdout);
  capture(child.stderr);
  const exited = new Promise<number | string>((resolve) => {
    child.once('exit', (code, signal) => resolve(code ?? signal ?? 'unknown'));
    child.once('error', (error) => {
      logs.push(`spawn failed: ${error.message}`);
      resolve('spawn-error');
    });
  });
  return { name, child, logs, exited };
}

/** Stops a process group: SIGTERM, then SIGKILL when it has not exited after `graceMs`. */
async function stopGroup(m: Managed, graceMs = 10_000): Promise<void> {
  const pid = m.child.pid;
  if (pid === undefined) return;
  signalGroup(pid, 'SIGTERM');
  const timer = new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), graceMs).unref());
  if ((await Promise.race([m.exited, timer])) === 'timeout') signalGroup(pid, 'SIGKILL');
  await m.exited;
  // The leader has exited; make sure no straggler of its group (the server under tsx) outlives it.
  const deadline = Date.now() + graceMs;
  while (alive(-pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  if (alive(-pid)) signalGroup(pid, 'SIGKILL');
}

async function waitForOk(url: string, timeoutMs: number, failFast: () => string | null): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = 'no answer yet';
  while (Date.now() < deadline) {
    const failure = failFast();
    if (failure !== null) throw new Error(failure);
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
      await res.arrayBuffer();
      if (res.ok) return;
      last = `HTTP ${res.status}`;
    } catch (error) {
      last = error instanceof Error ? error.message : String(error);
    }
    await new Promise((r) => setTimeout(r, 150));
  }
  throw new Error(`${url} not ready after ${timeoutMs} ms (${last})`);
}

function tail(lines: readonly string[], n = 20): string {
  return lines.slice(-n).join('\n');
}

async function adminQuery(adminUrl: string, sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

/** Database names are generated here, never taken from input, so interpolating them into SQL is safe. */
function dropDatabaseSql(name: string): string {
  if (!/^parley_topology_[0-9a-f]+$/.test(name)) throw new Error(`refusing to drop unexpected database ${name}`);
  return `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`;
}

/** Starts the topology and resolves once /readyz answers 200 through nginx. */
export async function startTopology(opts: TopologyOptions = {}): Promise<Topology> {
  const count = opts.instances ?? 3;
  if (!Number.isInteger(count) || count < 1 || count > 16) throw new Error('instances must be an integer 1..16');
  const nginxBin = opts.nginx ?? process.env['NGINX'] ?? DEFAULT_NGINX;
  if (!existsSync(nginxBin)) throw new Error(`nginx not found at ${nginxBin} (apt-get install -y nginx-light)`);
  const adminUrl = opts.postgresAdminUrl ?? process.env['TOPOLOGY_POSTGRES_URL'] ?? DEFAULT_POSTGRES_URL;
  const redisUrl = opts.redisUrl === undefined ? (process.env['TOPOLOGY_REDIS_URL'] ?? DEFAULT_REDIS_URL) : opts.redisUrl;
  const readyTimeoutMs = opts.readyTimeoutMs ?? 60_000;

  const dbName = `parley_topology_${randomBytes(6).toString('hex')}`;
  const dbUrl = new URL(adminUrl);
  dbUrl.pathname = `/${dbName}`;
  const dir = await mkdtemp(path.join(tmpdir(), 'parley-topology-'));
  const managed: Managed[] = [];
  let nginx: Managed | null = null;
  let dbCreated = false;
  let stopping: Promise<void> | null = null;

  const stop = () => {
    stopping ??= (async () => {
      const errors: unknown[] = [];
      // nginx first, so no new request reaches an instance that is shutting down.
      if (nginx !== null) await stopGroup(nginx).catch((e: unknown) => errors.push(e));
      await Promise.all(managed.map((m) => stopGroup(m).catch((e: unknown) => errors.push(e))));
      if (dbCreated) await adminQuery(adminUrl, dropDatabaseSql(dbName)).catch((e: unknown) => errors.push(e));
      await rm(dir, { recursive: true, force: true }).catch((e: unknown) => errors.push(e));
      if (errors.length > 0) throw new AggregateError(errors, 'topology stop: some cleanup failed');
    })();
    return stopping;
  };

  try {
    await adminQuery(adminUrl, `CREATE DATABASE ${dbName}`);
    dbCreated = true;

    // One secret for all instances, as in compose (.env JWT_SECRET): tokens minted by one verify on all.
    const jwtSecret = randomBytes(32).toString('base64url');
    const ports: number[] = [];
    for (let i = 0; i < count; i += 1) {
      let port = await freePort();
      while (ports.includes(port)) port = await freePort();
      ports.push(port);
    }
    ports.forEach((port, i) => {
      const name = `sync${i + 1}`;
      const env: NodeJS.ProcessEnv = {
        PATH: process.env['PATH'] ?? '/usr/bin:/bin',
        HOME: process.env['HOME'] ?? dir,
        ...(process.env['TMPDIR'] === undefined ? {} : { TMPDIR: process.env['TMPDIR'] }),
        PORT: String(port),
        HOST: '127.0.0.1',
        DATA_DIR: path.join(dir, name),
        DATABASE_URL: dbUrl.toString(),
        JWT_SECRET: jwtSecret,
        TRUST_PROXY: 'loopback',
        LOG_LEVEL: opts.logLevel ?? 'info',
        ...(redisUrl === null ? {} : { REDIS_URL: redisUrl }),
        ...opts.env,
      };
      managed.push(launch(name, process.execPath, [TSX_CLI, ...SERVER_NODE_FLAGS, SERVER_MAIN], env, opts.onOutput));
    });

    // Instances first, directly: a crash is reported with its own output instead of as an nginx 502.
    await Promise.all(
      managed.map((m, i) => {
        let exitCode: number | string | null = null;
        void m.exited.then((code) => (exitCode = code));
        return waitForOk(`http://127.0.0.1:${ports[i]}/readyz`, readyTimeoutMs, () =>
          exitCode === null ? null : `${m.name} exited (${exitCode}) during start-up:\n${tail(m.logs)}`,
        );
      }),
    );

    const nginxPort = await freePort();
    for (const sub of ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']) await mkdir(path.join(dir, sub));
    // When this runs as root, nginx's workers drop to `nobody` and must be able to enter the directory.
    await chmod(dir, 0o755);
    const template = await readFile(NGINX_TEMPLATE, 'utf8');
    const upstreams = ports.map((p) => `        server 127.0.0.1:${p} max_fails=3 fail_timeout=10s;`).join('\n');
    const conf = template
      .replaceAll('{{PREFIX}}', dir)
      .replaceAll('{{PORT}}', String(nginxPort))
      .replaceAll('{{LOCATIONS}}', NGINX_LOCATIONS)
      .replaceAll('{{UPSTREAM_SERVERS}}', upstreams);
    const leftover = /\{\{[A-Z_]+\}\}/.exec(conf);
    if (leftover !== null) throw new Error(`nginx template placeholder not filled: ${leftover[0]}`);
    const confFile = path.join(dir, 'nginx.conf');
    await writeFile(confFile, conf);
    // -e: the error log before the config is read (otherwise nginx tries /var/log/nginx/error.log first).
    nginx = launch('nginx', nginxBin, ['-p', dir, '-e', path.join(dir, 'error.log'), '-c', confFile], { PATH: process.env['PATH'] ?? '/usr/bin:/bin' }, opts.onOutput);
    const nginxProc = nginx;
    let nginxExit: number | string | null = null;
    void nginxProc.exited.then((code) => (nginxExit = code));
    const url = `http://127.0.0.1:${nginxPort}`;
    await waitForOk(`${url}/readyz`, readyTimeoutMs, () => {
      if (nginxExit === null) return null;
      return `nginx exited (${nginxExit}):\n${tail(nginxProc.logs)}`;
    });

    const instances: TopologyInstance[] = managed.map((m, i) => {
      const pid = m.child.pid ?? -1;
      return {
        name: m.name,
        port: ports[i] ?? -1,
        pid,
        url: `http://127.0.0.1:${ports[i]}`,
        logs: m.logs,
        exited: m.exited,
        kill: (signal: NodeJS.Signals = 'SIGTERM') => signalGroup(pid, signal),
      };
    });
    return {
      url,
      nginxPort,
      nginxPid: nginxProc.child.pid ?? -1,
      instances,
      databaseUrl: dbUrl.toString(),
      dir,
      async nginxAccessLog() {
        const text = await readFile(path.join(dir, 'access.log'), 'utf8').catch(() => '');
        return text.split('\n').filter((l) => l !== '');
      },
      stop,
    };
  } catch (error) {
    await stop().catch(() => undefined);
    throw error;
  }
}

// ---------------------------------------------------------------------------------------------------------
// CLI

interface State {
  supervisorPid: number;
  url: string;
  dir: string;
  database: string;
  adminUrl: string;
  pids: number[];
}

async function cliStart(): Promise<void> {
  if (existsSync(STATE_FILE)) {
    const state = JSON.parse(await readFile(STATE_FILE, 'utf8')) as State;
    if (alive(state.supervisorPid)) throw new Error(`a topology is already running (pid ${state.supervisorPid}, ${state.url}); run "stop" first`);
  }
  const adminUrl = process.env['TOPOLOGY_POSTGRES_URL'] ?? DEFAULT_POSTGRES_URL;
  const topo = await startTopology({ onOutput: (source, line) => process.stdout.write(`[${source}] ${line}\n`) });
  const state: State = {
    supervisorPid: process.pid,
    url: topo.url,
    dir: topo.dir,
    database: new URL(topo.databaseUrl).pathname.slice(1),
    adminUrl,
    pids: [topo.nginxPid, ...topo.instances.map((i) => i.pid)],
  };
  await writeFile(STATE_FILE, JSON.stringify(state, null, 2));
  process.stdout.write(
    `\nParley topology ready: ${topo.url}\n` +
      topo.instances.map((i) => `  ${i.name}: ${i.url} (pid ${i.pid})\n`).join('') +
      `  database: ${state.database}\n  nginx: pid ${topo.nginxPid}, files in ${topo.dir}\nCtrl-C or "npx tsx scripts/topology.ts stop" to stop.\n`,
  );
  let done = false;
  const shutdown = (why: string) => {
    if (done) return;
    done = true;
    process.stdout.write(`\nstopping (${why})...\n`);
    topo
      .stop()
      .then(() => rm(STATE_FILE, { force: true }))
      .then(
        () => process.exit(0),
        (error: unknown) => {
          process.stderr.write(`stop failed: ${String(error)}\n`);
          process.exit(1);
        },
      );
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  // An instance dying on its own is worth knowing about but does not stop the others (as in compose).
  for (const i of topo.instances) void i.exited.then((code) => !done && process.stderr.write(`${i.name} exited (${code})\n`));
}

async function cliStop(): Promise<void> {
  if (!existsSync(STATE_FILE)) {
    process.stdout.write('no topology state file; nothing to stop\n');
    return;
  }
  const state = JSON.parse(await readFile(STATE_FILE, 'utf8')) as State;
  if (alive(state.supervisorPid)) {
    // The supervisor owns the clean-up; ask it and wait.
    process.kill(state.supervisorPid, 'SIGTERM');
    const deadline = Date.now() + 30_000;
    while (alive(state.supervisorPid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    if (!alive(state.supervisorPid)) {
      process.stdout.write('stopped\n');
      return;
    }
    process.stderr.write('supervisor did not exit; cleaning up directly\n');
  }
  // Supervisor gone (crashed or killed): clean up what it recorded.
  for (const pid of state.pids) if (pid > 0) signalGroup(pid, 'SIGKILL');
  await adminQuery(state.adminUrl, dropDatabaseSql(state.database));
  await rm(state.dir, { recursive: true, force: true });
  await rm(STATE_FILE, { force: true });
  process.stdout.write('stopped (cleaned up after a dead supervisor)\n');
}

const isMain = process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (isMain) {
  const command = process.argv[2];
  const run = command === 'start' ? cliStart : command === 'stop' ? cliStop : null;
  if (run === null) {
    process.stderr.write('usage: npx tsx scripts/topology.ts start|stop\n');
    process.exit(2);
  }
  run().catch((error: unknown) => {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  });
}

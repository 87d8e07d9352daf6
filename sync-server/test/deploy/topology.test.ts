/**
 * scripts/topology.ts: three real sync-server instances (shared PostgreSQL database, the machine's Redis,
 * one JWT secret) behind Debian's nginx using deploy/nginx-locations.conf. Checks that probes answer
 * through nginx, that requests are spread over all instances (each instance's own access log), that the
 * WebSocket upgrade is proxied, that a killed instance is routed around, and that stop() leaves no
 * process, database or temp directory behind.
 *
 * Needs nginx (/usr/sbin/nginx, or NGINX=...), PostgreSQL at 127.0.0.1:5432 and Redis at 127.0.0.1:6379
 * like the rest of the suite; skipped with a message only when nginx is missing.
 */
import { existsSync } from 'node:fs';
import http from 'node:http';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_POSTGRES_URL, startTopology, type Topology } from '../../../scripts/topology.ts';
import { HAVE_NGINX, NGINX } from './helpers.ts';

if (!HAVE_NGINX) {
  console.warn(`topology test skipped: nginx not found at ${NGINX} (apt-get install -y nginx-light)`);
}

/** Alive check on a process group (the instances and nginx each lead one). */
function groupAlive(pid: number): boolean {
  try {
    process.kill(-pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function requestLines(logs: readonly string[], path: string): number {
  return logs.filter((line) => line.includes('"msg":"request"') && line.includes(`"path":"${path}"`)).length;
}

/** Raw WebSocket handshake (no client library needed): resolves with the status nginx relays. */
function upgradeStatus(base: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.request(`${base}/sync`, {
      headers: {
        Connection: 'Upgrade',
        Upgrade: 'websocket',
        'Sec-WebSocket-Version': '13',
        'Sec-WebSocket-Key': Buffer.from('parley-deploy-ws').toString('base64'),
      },
      timeout: 5000,
    });
    req.on('upgrade', (res, socket) => {
      socket.destroy();
      resolve(res.statusCode ?? 0);
    });
    req.on('response', (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('timeout', () => req.destroy(new Error('upgrade timed out')));
    req.on('error', reject);
    req.end();
  });
}

describe.skipIf(!HAVE_NGINX)('local topology: 3 instances behind nginx (scripts/topology.ts)', () => {
  let topo: Topology | null = null;

  beforeAll(async () => {
    topo = await startTopology({ readyTimeoutMs: 60_000 });
  });
  afterAll(async () => {
    await topo?.stop();
  });

  it('answers /healthz and /readyz through nginx', async () => {
    const t = topo!;
    expect(t.instances).toHaveLength(3);
    for (const probe of ['/healthz', '/readyz']) {
      const res = await fetch(`${t.url}${probe}`);
      expect(res.status, probe).toBe(200);
      expect(res.headers.get('server')).toBe('nginx');
      await res.arrayBuffer();
    }
  });

  it('spreads requests over every instance', async () => {
    const t = topo!;
    const before = t.instances.map((i) => requestLines(i.logs, '/healthz'));
    for (let n = 0; n < 30; n += 1) {
      const res = await fetch(`${t.url}/healthz`);
      expect(res.status).toBe(200);
      await res.arrayBuffer();
    }
    // Access-log lines are written on 'finish'; give the last ones a moment to reach the pipe.
    await new Promise((r) => setTimeout(r, 300));
    const served = t.instances.map((i, k) => requestLines(i.logs, '/healthz') - (before[k] ?? 0));
    expect(served.reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(30);
    for (const [k, count] of served.entries()) expect(count, `${t.instances[k]?.name} served none of 30`).toBeGreaterThan(0);
    // nginx's own log agrees: three distinct upstream addresses.
    const upstreams = new Set((await t.nginxAccessLog()).filter((l) => l.includes(' /healthz ')).map((l) => l.split(' ').at(-1)));
    expect(upstreams.size).toBe(3);
  });

  it('proxies the WebSocket upgrade on /sync', async () => {
    expect(await upgradeStatus(topo!.url)).toBe(101);
  });

  it('keeps /metrics off the public edge while each instance serves it directly', async () => {
    const t = topo!;
    const edge = await fetch(`${t.url}/metrics`);
    await edge.arrayBuffer();
    expect(edge.status).toBe(404);
    const direct = await fetch(`${t.instances[0]!.url}/metrics`);
    expect(direct.status).toBe(200);
    expect(await direct.text()).toMatch(/^# TYPE /m);
  });

  it('routes around an instance that died (passive health check)', async () => {
    const t = topo!;
    const victim = t.instances[1]!;
    victim.kill('SIGKILL');
    await victim.exited;
    for (let n = 0; n < 12; n += 1) {
      const res = await fetch(`${t.url}/healthz`);
      expect(res.status).toBe(200);
      await res.arrayBuffer();
    }
  });

  it('stop() leaves no process, database or directory behind', async () => {
    const t = topo!;
    const pids = [t.nginxPid, ...t.instances.map((i) => i.pid)];
    const dbName = new URL(t.databaseUrl).pathname.slice(1);
    await t.stop();
    topo = null;
    for (const pid of pids) expect(groupAlive(pid), `process group ${pid}`).toBe(false);
    expect(existsSync(t.dir)).toBe(false);
    const admin = new pg.Client({ connectionString: process.env['TOPOLOGY_POSTGRES_URL'] ?? DEFAULT_POSTGRES_URL });
    await admin.connect();
    try {
      const r = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [dbName]);
      expect(r.rowCount).toBe(0);
    } finally {
      await admin.end();
    }
    await expect(fetch(`${t.url}/healthz`)).rejects.toThrow();
  });
});

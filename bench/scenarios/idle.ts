/**
 * (c) Idle authenticated connections: N sockets, each authenticated and synced on one document, then left
 * idle. Server memory per connection = (GC'd RSS after − before) / N, read in the server child.
 *
 * Parley: N started `ParleyClient`s (socket + inbox channel authenticated with a JWT; the client also
 * loads the key directory and the conversation list over REST), spread over U users, each client its own
 * device. Baseline: N providers, each on its own socket, on U documents, run twice: with Node's defaults
 * (the baseline column) and with Parley's shipped Node flags (a note), so the effect of the flags is shown
 * apart from Parley's own code.
 */
import { docNameFor } from '@parley/shared/protocol';
import { withTimeout, type ParleyClient } from '@parley/shared/client';
import { baselineProvider, registerUsers, startClient, type BaselineLink } from '../lib/clients.ts';
import { clientCpu, withServer, type Ctx } from '../lib/context.ts';
import type { MemReport, ServerProc } from '../lib/proc.ts';
import { MiB, round, row, type ScenarioResult } from '../lib/result.ts';
import { SERVER_NODE_FLAGS } from '../../sync-server/src/node-flags.ts';
import { pool, sleep, waitFor } from '../lib/stats.ts';

interface Measure {
  before: MemReport;
  after: MemReport;
  rssBefore: number;
  rssAfter: number;
  connectS: number;
  connections: number;
  ok: number;
}

async function settle(server: ServerProc): Promise<{ mem: MemReport; rss: number }> {
  await sleep(3000);
  const mem = await server.mem();
  return { mem, rss: server.rssNow() };
}

export async function idle(ctx: Ctx): Promise<ScenarioResult> {
  const n = ctx.quick ? 200 : 2000;
  const nUsers = ctx.quick ? 5 : 20;

  const p = await withServer('parley', async (server): Promise<Measure> => {
    const users = await registerUsers(server.url, nUsers, 'id', ctx.log);
    const b = await settle(server);
    const t0 = performance.now();
    const cpu = clientCpu();
    const clients: ParleyClient[] = await pool(Array.from({ length: n }, (_, i) => i), 25, (i) => startClient(server.url, users[i % nUsers]!));
    const synced = () => clients.filter((c) => c.sync.link(docNameFor('i', c.context.userId))?.synced).length;
    await waitFor(() => synced() === n, 60_000, 200);
    const connectS = (performance.now() - t0) / 1000;
    ctx.log(`parley idle: ${synced()}/${n} clients authenticated + synced in ${connectS.toFixed(1)} s (client CPU ${cpu().toFixed(2)} cores)`);
    const a = await settle(server);
    const ok = synced();
    await Promise.all(clients.map((c) => c.stop().catch(() => undefined)));
    return { before: b.mem, after: a.mem, rssBefore: b.rss, rssAfter: a.rss, connectS, connections: a.mem.connections, ok };
  });

  const baselineRun = (nodeFlags?: readonly string[]) =>
    withServer(
      'baseline',
      async (server): Promise<Measure> => {
        const b = await settle(server);
        const t0 = performance.now();
        const links: BaselineLink[] = [];
        for (let i = 0; i < n; i++) links.push(baselineProvider(server.wsUrl, `user-${i % nUsers}`));
        await withTimeout(Promise.all(links.map((l) => l.synced)), 60_000);
        const connectS = (performance.now() - t0) / 1000;
        const ok = links.filter((l) => l.provider.synced).length;
        const a = await settle(server);
        for (const l of links) l.destroy();
        return { before: b.mem, after: a.mem, rssBefore: b.rss, rssAfter: a.rss, connectS, connections: a.mem.connections, ok };
      },
      nodeFlags === undefined ? {} : { nodeFlags },
    );
  const bl = await baselineRun();
  // For honesty: the same Node flags Parley ships with, applied to the baseline (not its column: the
  // baseline is plain Hocuspocus with defaults).
  const blFlags = await baselineRun(SERVER_NODE_FLAGS);

  const per = (m: Measure) => (m.after.rss - m.before.rss) / n / 1024;
  const youngMiB = (m: Measure) => round((m.after.spaces['new_space']?.committed ?? NaN) / MiB, 1);
  const heapPer = (m: Measure) => (m.after.heapUsed + m.after.external - m.before.heapUsed - m.before.external) / n / 1024;
  return {
    id: 'c',
    title: 'Idle connections',
    setup: `${n} authenticated idle sockets (${nUsers} users); memory read after 2 full GCs in the server process, 3 s after the last sync`,
    rows: [
      row('server RSS per idle connection', round(per(p), 1), round(per(bl), 1), 'kB', { text: '≤ 32 kB', met: per(p) <= 32 }),
      row('server heap+external per connection', round(heapPer(p), 1), round(heapPer(bl), 1), 'kB'),
      row('server RSS with all connected', round(p.after.rss / MiB), round(bl.after.rss / MiB), 'MiB'),
      row('connected and synced', `${p.ok}/${n}`, `${bl.ok}/${n}`, ''),
      row('time to connect all', round(p.connectS), round(bl.connectS), 's'),
    ],
    notes: [
      `Server-side open connections counted by Hocuspocus at the end: Parley ${p.connections}, baseline ${bl.connections}. RSS (GC'd) before → after: Parley ${round(p.before.rss / MiB)} → ${round(p.after.rss / MiB)} MiB, baseline ${round(bl.before.rss / MiB)} → ${round(bl.after.rss / MiB)} MiB (/proc VmRSS after: ${round(p.rssAfter / MiB)} / ${round(bl.rssAfter / MiB)} MiB).`,
      `Parley runs with the Node flags it ships with (${SERVER_NODE_FLAGS.join(' ')}; sync-server/src/node-flags.ts, docs/operations.md "Memory"), the baseline with Node's defaults. V8 young generation committed after GC with all connected: Parley ${youngMiB(p)} MiB, baseline ${youngMiB(bl)} MiB. The baseline with Parley's flags: ${round(per(blFlags), 1)} kB RSS and ${round(heapPer(blFlags), 1)} kB heap+external per connection, young generation ${youngMiB(blFlags)} MiB, ${blFlags.ok}/${n} synced.`,
      'RSS per connection is (after − before) / N. Memory the process freed before the sockets connected (e.g. argon2 buffers from registering the users, still held by malloc) is reused by them without growing RSS, so this row can read below heap+external; heap+external is the steadier figure.',
      'Parley connect time includes each client start (key directory, conversation list over REST, socket, JWT auth of the inbox channel); clients start 25 at a time.',
    ],
  };
}

/**
 * Ad-hoc: the sender's CPU per message without receivers. Sends N messages into a 2-member conversation at
 * RATE msg/s from one client and prints this process's CPU, its main thread's CPU and busy time (event-loop utilisation)
 * per message (PROF=<file>: a CPU profile of the run;
 * WALK=1: each segment log's length and linked-list items; THREADS=1: CPU per thread of this process).
 *
 *   N=2000 RATE=200 node_modules/node/bin/node --import tsx bench/tools/send-cost.ts
 */
import { Session } from 'node:inspector/promises';
import { writeFileSync } from 'node:fs';
import { performance as nodePerformance } from 'node:perf_hooks';
import { registerUsers, startClient } from '../lib/clients.ts';
import { withServer } from '../lib/context.ts';
import { sleep } from '../lib/stats.ts';

const N = Number(process.env['N'] ?? 2000);
const RATE = Number(process.env['RATE'] ?? 200);
const PROF = process.env['PROF'];
const log = (s: string) => console.log(s);

await withServer('parley', async (server) => {
  const [a, b] = await registerUsers(server.url, 2, 'sc', log);
  const sender = await startClient(server.url, a!);
  const conv = await sender.createGroup('send-cost', [b!.username]);
  const c = await sender.open(conv.id);
  for (let i = 0; i < 200; i++) await c.send(`warm ${i}`);
  await sleep(1000);
  let session: Session | undefined;
  if (PROF) {
    session = new Session();
    session.connect();
    await session.post('Profiler.enable');
    await session.post('Profiler.start');
  }
  const c0 = process.cpuUsage();
  const m0 = process.threadCpuUsage();
  const e0 = nodePerformance.eventLoopUtilization();
  const t0 = performance.now();
  const sends: Promise<string>[] = [];
  for (let i = 0; i < N; i++) {
    const due = t0 + (i * 1000) / RATE;
    while (performance.now() < due) await sleep(1);
    sends.push(c.send(`message number ${i} with some words in it`));
  }
  await Promise.all(sends);
  await sleep(500);
  const cpu = process.cpuUsage(c0);
  const main = process.threadCpuUsage(m0);
  const busy = nodePerformance.eventLoopUtilization(e0).active;
  const wall = performance.now() - t0;
  if (session && PROF) {
    const { profile } = await session.post('Profiler.stop');
    writeFileSync(PROF, JSON.stringify(profile));
    session.disconnect();
  }
  log(`${N} messages in ${(wall / 1000).toFixed(1)} s: CPU ${((cpu.user + cpu.system) / 1000).toFixed(0)} ms (user ${(cpu.user / 1000).toFixed(0)}), ${((cpu.user + cpu.system) / N).toFixed(0)} µs per message, ${(((cpu.user + cpu.system) / 1000 / wall)).toFixed(2)} cores; main thread CPU ${((main.user + main.system) / 1000).toFixed(0)} ms, ${((main.user + main.system) / N).toFixed(0)} µs per message (busy ${busy.toFixed(0)} ms: event-loop utilisation, counts time preempted too)`);
  if (process.env['WALK']) {
    for (const seg of c.info.segments) {
      const link = sender.sync.link(seg.id);
      if (!link) continue;
      const arr = link.provider.document.getArray('log');
      let items = 0;
      let deleted = 0;
      const clients = new Set<number>();
      for (let n = (arr as unknown as { _start: { right: unknown; deleted: boolean; id: { client: number } } | null })._start; n; n = n.right as typeof n) {
        items++;
        if (n.deleted) deleted++;
        clients.add(n.id.client);
      }
      log(`segment ${seg.idx}: log length ${arr.length}, list items ${items} (${deleted} deleted), clients ${clients.size}`);
    }
  }
  if (process.env['THREADS']) {
    const { readdirSync, readFileSync } = await import('node:fs');
    for (const t of readdirSync('/proc/self/task')) {
      const st = readFileSync(`/proc/self/task/${t}/stat`, 'utf8');
      const f = st.slice(st.lastIndexOf(')') + 2).split(' ');
      const name = readFileSync(`/proc/self/task/${t}/comm`, 'utf8').trim();
      log(`thread ${t} ${name}: user ${Number(f[11]) * 10} ms, sys ${Number(f[12]) * 10} ms`);
    }
  }
  await sender.stop();
});
process.exit(0);

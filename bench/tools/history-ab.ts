/**
 * A/B of (d) full-history opens between two checkouts' clients, in ONE process against ONE seeded server, the two
 * alternating open by open (A B B A ...). Runs minutes apart differ by up to ±30% on this VM; opens that
 * alternate within a minute share its state, so the medians compare the code. Both clients are imported from
 * their own checkout (own Yjs, own module state), never from this one: the seeding writer runs this checkout's
 * code, and a client sharing its warmed-up modules came out 7-8% faster than the same code imported from a
 * worktree (A/A at 30,000 messages). An A/A run (one commit on both sides) gives medians within a few percent,
 * single opens ±15% apart: read differences under ~10% as noise. Each checkout needs its own node_modules, e.g.
 * `git worktree add /tmp/wt-a <commit>` and `cp -a node_modules /tmp/wt-a/`. Reports wall time to the first
 * screen (the newest message shown, as bench (d) times it) and to the full history, the main thread's busy time
 * (event-loop utilisation) and the process CPU (all threads).
 *
 *   A=/tmp/wt-a B=/tmp/wt-b N=30000 OPENS=8 node_modules/node/bin/node --import tsx bench/tools/history-ab.ts
 */
import { performance as nodePerformance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { resolve } from 'node:path';
import { z } from 'zod';
import type * as Client from '@parley/shared/client';
import { PASSWORD, registerUsers, startClient } from '../lib/clients.ts';
import { now, withServer } from '../lib/context.ts';
import { fullGc, sleep, waitFor } from '../lib/stats.ts';
import { historyTexts, seedParley } from '../scenarios/history.ts';

const Env = z.object({
  A: z.string().min(1),
  B: z.string().min(1),
  N: z.coerce.number().int().min(100).default(30_000),
  OPENS: z.coerce.number().int().min(1).max(100).default(8),
});
const env = Env.parse(process.env);
const log = (s: string) => console.log(s);

type ClientModule = Pick<typeof Client, 'AccountClient' | 'MemoryStorage' | 'ParleyClient'>;
const load = async (dir: string) => (await import(pathToFileURL(resolve(dir, 'shared/src/client/index.ts')).href)) as ClientModule;
const clients = { a: await load(env.A), b: await load(env.B) };

/** A fresh device of the reader opens the conversation and loads all of it: ms to the first screen and the full history, and CPU. */
async function open(mod: ClientModule, baseUrl: string, username: string, convId: string, n: number, newest: string): Promise<{ first: number; full: number; cpu: number; busy: number }> {
  fullGc(); // a clean heap for each device, not the previous open's garbage
  const account = new mod.AccountClient({ baseUrl });
  await account.login({ username, password: PASSWORD });
  const client = new mod.ParleyClient({ baseUrl, storage: new mod.MemoryStorage(), account });
  await client.start();
  const c0 = process.cpuUsage();
  const e0 = nodePerformance.eventLoopUtilization();
  const t0 = now();
  const conv = await client.open(convId);
  if (!(await waitFor(() => conv.messages.at(-1)?.text === newest, 120_000, 2))) throw new Error('the newest message never showed');
  const first = now() - t0;
  while (await conv.loadOlder()) {
    /* every older segment */
  }
  if (!(await waitFor(() => conv.messages.length >= n, 120_000, 5))) throw new Error(`incomplete: ${conv.messages.length}/${n}`);
  const full = now() - t0;
  const c = process.cpuUsage(c0);
  const busy = nodePerformance.eventLoopUtilization(e0).active;
  await client.stop();
  return { first, full, cpu: (c.user + c.system) / 1000, busy };
}

await withServer('parley', async (server) => {
  const [wu, ru] = await registerUsers(server.url, 2, 'ab', log);
  const writer = await startClient(server.url, wu!);
  const texts = historyTexts(env.N);
  const conv = await writer.createGroup('history', [ru!.username]);
  const seed = await seedParley(server.url, writer, conv, texts, { quick: false, log });
  log(`seeded ${env.N} messages: ${seed.segments} segments, ${seed.frames} frames, ${seed.seconds.toFixed(0)} s`);
  const firsts = { a: [] as number[], b: [] as number[] };
  const runs = { a: [] as number[], b: [] as number[] };
  const cpus = { a: [] as number[], b: [] as number[] };
  const busys = { a: [] as number[], b: [] as number[] };
  for (let i = 0; i < env.OPENS; i++) {
    const order: Array<'a' | 'b'> = i % 2 === 0 ? ['a', 'b'] : ['b', 'a'];
    for (const which of order) {
      await sleep(2000); // the previous device's documents unload on the server
      const r = await open(clients[which], server.url, ru!.username, conv.id, env.N, texts.at(-1)!);
      firsts[which].push(r.first);
      runs[which].push(r.full);
      cpus[which].push(r.cpu);
      busys[which].push(r.busy);
      log(`open ${i + 1} ${which.toUpperCase()}: first screen ${r.first.toFixed(0)} ms, full ${r.full.toFixed(0)} ms, main thread busy ${r.busy.toFixed(0)} ms, process CPU ${r.cpu.toFixed(0)} ms`);
    }
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[(xs.length - 1) >> 1]!;
  const line = (what: string, xs: { a: number[]; b: number[] }) =>
    log(`median ${what}: A ${median(xs.a).toFixed(0)} ms, B ${median(xs.b).toFixed(0)} ms (B/A ${(median(xs.b) / median(xs.a)).toFixed(2)})`);
  log(`A = ${env.A}, B = ${env.B}, ${env.N} messages, ${env.OPENS} opens each`);
  line('first screen', firsts);
  line('full history', runs);
  line('main thread busy (event-loop active)', busys);
  line('process CPU (all threads)', cpus);
  await writer.stop();
});
process.exit(0);

/**
 * A/B of (d) full-history opens between this checkout's client and another checkout's, in ONE process against
 * ONE seeded server, the two alternating open by open (A B B A ...). Runs that are minutes apart differ by up to
 * ±30% on this VM; opens that alternate within a minute share its state, so the medians compare the code.
 * The other checkout needs its own node_modules (e.g. `git worktree add /tmp/wt-old <commit>` and a copy of
 * node_modules): its client module is imported from there, with its own Yjs.
 *
 *   OTHER=/tmp/wt-old N=30000 OPENS=8 node_modules/node/bin/node --import tsx bench/tools/history-ab.ts
 */
import { pathToFileURL } from 'node:url';
import { resolve } from 'node:path';
import { z } from 'zod';
import * as Here from '@parley/shared/client';
import { PASSWORD, registerUsers, startClient } from '../lib/clients.ts';
import { now, withServer } from '../lib/context.ts';
import { fullGc, sleep, waitFor } from '../lib/stats.ts';
import { historyTexts, seedParley } from '../scenarios/history.ts';

const Env = z.object({
  OTHER: z.string().min(1),
  N: z.coerce.number().int().min(100).default(30_000),
  OPENS: z.coerce.number().int().min(1).max(100).default(8),
});
const env = Env.parse(process.env);
const log = (s: string) => console.log(s);

type ClientModule = Pick<typeof Here, 'AccountClient' | 'MemoryStorage' | 'ParleyClient'>;
const other = (await import(pathToFileURL(resolve(env.OTHER, 'shared/src/client/index.ts')).href)) as ClientModule;

/** A fresh device of the reader opens the conversation and loads all of it: ms to the full history, and CPU. */
async function open(mod: ClientModule, baseUrl: string, username: string, convId: string, n: number): Promise<{ full: number; cpu: number }> {
  fullGc(); // a clean heap for each device, not the previous open's garbage
  const account = new mod.AccountClient({ baseUrl });
  await account.login({ username, password: PASSWORD });
  const client = new mod.ParleyClient({ baseUrl, storage: new mod.MemoryStorage(), account });
  await client.start();
  const c0 = process.cpuUsage();
  const t0 = now();
  const conv = await client.open(convId);
  while (await conv.loadOlder()) {
    /* every older segment */
  }
  if (!(await waitFor(() => conv.messages.length >= n, 120_000, 5))) throw new Error(`incomplete: ${conv.messages.length}/${n}`);
  const full = now() - t0;
  const c = process.cpuUsage(c0);
  await client.stop();
  return { full, cpu: (c.user + c.system) / 1000 };
}

await withServer('parley', async (server) => {
  const [wu, ru] = await registerUsers(server.url, 2, 'ab', log);
  const writer = await startClient(server.url, wu!);
  const texts = historyTexts(env.N);
  const conv = await writer.createGroup('history', [ru!.username]);
  const seed = await seedParley(server.url, writer, conv, texts, { quick: false, log });
  log(`seeded ${env.N} messages: ${seed.segments} segments, ${seed.frames} frames, ${seed.seconds.toFixed(0)} s`);
  const runs = { here: [] as number[], other: [] as number[] };
  const cpus = { here: [] as number[], other: [] as number[] };
  for (let i = 0; i < env.OPENS; i++) {
    const order: Array<'here' | 'other'> = i % 2 === 0 ? ['here', 'other'] : ['other', 'here'];
    for (const which of order) {
      await sleep(2000); // the previous device's documents unload on the server
      const r = await open(which === 'here' ? Here : other, server.url, ru!.username, conv.id, env.N);
      runs[which].push(r.full);
      cpus[which].push(r.cpu);
      log(`open ${i + 1} ${which.padEnd(5)}: full ${r.full.toFixed(0)} ms, CPU ${r.cpu.toFixed(0)} ms`);
    }
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[(xs.length - 1) >> 1]!;
  log(`median full: here ${median(runs.here).toFixed(0)} ms, other ${median(runs.other).toFixed(0)} ms (here/other ${(median(runs.here) / median(runs.other)).toFixed(2)})`);
  log(`median CPU:  here ${median(cpus.here).toFixed(0)} ms, other ${median(cpus.other).toFixed(0)} ms`);
  await writer.stop();
});
process.exit(0);

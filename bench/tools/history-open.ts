/**
 * Ad-hoc (d) runs without the rest of the bench: seeds N messages once (as bench (d) does), then opens the
 * conversation with OPENS fresh devices and prints first screen, full history and this process's CPU per open.
 * PROF=<file> writes a V8 CPU profile of the last open (read it with bench/tools/cpuprofile.mjs).
 *
 *   N=30000 OPENS=5 PROF=/tmp/open.cpuprofile node_modules/node/bin/node --import tsx bench/tools/history-open.ts
 */
import { Session } from 'node:inspector/promises';
import { writeFileSync } from 'node:fs';
import { AccountClient } from '@parley/shared/client';
import { PASSWORD, registerUsers, startClient } from '../lib/clients.ts';
import { withServer } from '../lib/context.ts';
import { sleep } from '../lib/stats.ts';
import { historyTexts, openFresh, seedParley } from '../scenarios/history.ts';

const N = Number(process.env['N'] ?? 30_000);
const OPENS = Number(process.env['OPENS'] ?? 5);
const PROF = process.env['PROF'];
const log = (s: string) => console.log(s);

await withServer('parley', async (server) => {
  const [wu, ru] = await registerUsers(server.url, 2, 'ho', log);
  const writer = await startClient(server.url, wu!);
  const reader = new AccountClient({ baseUrl: server.url });
  await reader.login({ username: ru!.username, password: PASSWORD });
  const texts = historyTexts(N);
  const conv = await writer.createGroup('history', [ru!.username]);
  const seed = await seedParley(server.url, writer, conv, texts, { quick: false, log });
  log(`seeded ${N} messages: ${seed.segments} segments, ${seed.frames} frames, ${seed.seconds.toFixed(0)} s`);
  const fulls: number[] = [];
  for (let i = 0; i < OPENS; i++) {
    await sleep(2000); // the previous device's documents unload on the server
    let session: Session | undefined;
    if (PROF && i === OPENS - 1) {
      session = new Session();
      session.connect();
      await session.post('Profiler.enable');
      await session.post('Profiler.setSamplingInterval', { interval: 200 });
      await session.post('Profiler.start');
    }
    const c0 = process.cpuUsage();
    const o = await openFresh(server.url, reader, conv.id, N, texts.at(-1)!, 120_000, true);
    const cpu = process.cpuUsage(c0);
    if (session && PROF) {
      const { profile } = await session.post('Profiler.stop');
      writeFileSync(PROF, JSON.stringify(profile));
      session.disconnect();
    }
    fulls.push(o.full);
    log(`open ${i + 1}: first screen ${o.firstScreen.toFixed(0)} ms, full ${o.full.toFixed(0)} ms (${o.messages}/${N}), CPU ${((cpu.user + cpu.system) / 1000).toFixed(0)} ms`);
  }
  fulls.sort((a, b) => a - b);
  log(`median full history ${fulls[(fulls.length - 1) >> 1]!.toFixed(0)} ms`);
  await writer.stop();
});
process.exit(0);

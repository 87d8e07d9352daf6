/**
 * IPC shared by the two bench server entries: the bench process asks the child to run a full GC and report
 * its memory, so "RSS per connection" is measured on a settled heap, in the server process only.
 *
 * Commands: `mem` (GC twice, then `process.memoryUsage()` plus the committed size of each V8 heap space, so
 * a report can tell heap growth from young-generation or malloc growth), `snapshot` (GC, then
 * `v8.writeHeapSnapshot` into the given directory; replies with the file name).
 */
import v8 from 'node:v8';
import path from 'node:path';
import { PerformanceObserver, constants, type PerformanceEntry } from 'node:perf_hooks';

function gcTwice(): void {
  const g = (globalThis as { gc?: () => void }).gc;
  if (g) {
    g();
    g();
  }
}

/** Milliseconds spent in young-generation (scavenge/minor) and full (mark-compact) GCs since start. */
const gcMs = { minor: 0, major: 0, count: 0 };
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) {
    const kind = (e as PerformanceEntry & { detail?: { kind?: number } }).detail?.kind;
    if (kind === constants.NODE_PERFORMANCE_GC_MINOR) gcMs.minor += e.duration;
    else gcMs.major += e.duration;
    gcMs.count += 1;
  }
}).observe({ entryTypes: ['gc'] });

export function serveIpc(extra: () => Record<string, unknown> = () => ({})): void {
  process.on('message', (msg: unknown) => {
    const m = msg as { id?: number; cmd?: string; dir?: string };
    if (m.cmd === 'mem') {
      const gc = { ...gcMs };
      gcTwice();
      const mu = process.memoryUsage();
      const spaces: Record<string, { committed: number; used: number }> = {};
      for (const s of v8.getHeapSpaceStatistics()) spaces[s.space_name] = { committed: s.physical_space_size, used: s.space_used_size };
      process.send?.({ id: m.id, rss: mu.rss, heapUsed: mu.heapUsed, heapTotal: mu.heapTotal, external: mu.external, arrayBuffers: mu.arrayBuffers, spaces, gc, ...extra() });
    } else if (m.cmd === 'snapshot' && typeof m.dir === 'string') {
      gcTwice();
      const file = v8.writeHeapSnapshot(path.join(m.dir, `server-${process.pid}-${Date.now()}.heapsnapshot`));
      process.send?.({ id: m.id, file });
    }
  });
  process.on('disconnect', () => process.exit(0));
}

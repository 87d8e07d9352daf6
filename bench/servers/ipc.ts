/**
 * IPC shared by the two bench server entries: the bench process asks the child to run a full GC and report
 * its memory, so "RSS per connection" is measured on a settled heap, in the server process only.
 */
export function serveIpc(extra: () => Record<string, unknown> = () => ({})): void {
  process.on('message', (msg: unknown) => {
    const m = msg as { id?: number; cmd?: string };
    if (m.cmd === 'mem') {
      const g = (globalThis as { gc?: () => void }).gc;
      if (g) {
        g();
        g();
      }
      const mu = process.memoryUsage();
      process.send?.({ id: m.id, rss: mu.rss, heapUsed: mu.heapUsed, external: mu.external, arrayBuffers: mu.arrayBuffers, ...extra() });
    }
  });
  process.on('disconnect', () => process.exit(0));
}

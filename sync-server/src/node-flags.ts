/**
 * Node/V8 flags the sync server process is started with, wherever it runs: `npm start`
 * (sync-server/package.json), deploy/Dockerfile's CMD (and so every deploy/compose.yaml instance),
 * scripts/topology.ts, and the bench's server child (bench/lib/proc.ts), so the bench measures what ships.
 * They cannot be set from inside the process (V8 sizes its heap before any of our code runs), hence a list
 * that each launcher puts on its command line; sync-server/test/deploy/node-flags.test.ts fails when a
 * launcher drifts from it, and checks that this Node still honours each flag.
 *
 * `--max-semi-space-size=8` (MiB): caps V8's young generation. By default V8 grows it to ~100 MiB committed
 * under a burst of allocation (2,000 sockets connecting), and keeps it committed (resident) afterwards, even
 * after full GCs: that was most of the measured RSS per idle connection (docs/operations.md, "Memory").
 * With 8 MiB semi-spaces the young generation stays at 16 MiB. The cost is more frequent scavenges, and
 * objects that live through two of them are promoted to the old generation sooner; at 8 MiB no extra GC
 * time showed in our measurements, at 4 and 2 MiB it did (figures in docs/operations.md).
 */
export const SERVER_NODE_FLAGS: readonly string[] = Object.freeze(['--max-semi-space-size=8']);

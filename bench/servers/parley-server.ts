/**
 * Bench entry for the Parley sync server: the same composition root as sync-server/src/main.ts (config from
 * the environment, `startServer`), with one difference: the per-IP account rate limits are relaxed, because
 * every bench client registers and logs in from 127.0.0.1. Sync limits (per-connection message budget,
 * frame and payload caps) stay at their production defaults. bench/lib/proc.ts starts it with the Node flags
 * production uses (SERVER_NODE_FLAGS, sync-server/src/node-flags.ts). Prints `READY <port>` on stdout.
 */
import { loadConfig } from '../../sync-server/src/config.ts';
import { startServer } from '../../sync-server/src/server.ts';
import type { RateLimits } from '../../sync-server/src/auth/rate-limit.ts';
import { serveIpc } from './ipc.ts';

const OPEN = { capacity: 1_000_000, refillPerSecond: 1_000_000 };
const BENCH_RATE_LIMITS: RateLimits = {
  auth: OPEN,
  register: OPEN,
  recovery: OPEN,
  loginFailures: OPEN,
  recoveryFailures: OPEN,
  trustedPairSeconds: 3600,
};

const server = await startServer(loadConfig(process.env), { rateLimits: BENCH_RATE_LIMITS, logSink: (line) => {
  if (line.includes('"level":"error"')) process.stderr.write(`${line}\n`);
} });
serveIpc(() => ({ docs: server.sync.hocuspocus.getDocumentsCount(), connections: server.sync.hocuspocus.getConnectionsCount() }));
process.stdout.write(`READY ${server.port}\n`);
const stop = () => void server.close().finally(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);

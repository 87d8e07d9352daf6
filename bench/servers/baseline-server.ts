/**
 * Baseline: a minimal plain Hocuspocus 4 server, the way its documentation sets one up. A trivial shared
 * token, no validation, unencrypted Yjs documents, persisted with @hocuspocus/extension-database as one
 * full-state row per document in PostgreSQL (same cluster as Parley, table `bench_baseline_docs`).
 * Prints `READY <port>` on stdout.
 */
import { Database } from '@hocuspocus/extension-database';
import { Server } from '@hocuspocus/server';
import pg from 'pg';
import { serveIpc } from './ipc.ts';

const url = process.env['DATABASE_URL'];
const pool = url ? new pg.Pool({ connectionString: url, max: 5 }) : undefined;
if (pool) await pool.query('CREATE TABLE IF NOT EXISTS bench_baseline_docs (name text PRIMARY KEY, data bytea NOT NULL)');

const server = new Server({
  port: 0,
  address: '127.0.0.1',
  quiet: true,
  stopOnSignals: true,
  websocketOptions: { maxPayload: 64 * 1024 * 1024 },
  async onAuthenticate({ token }) {
    if (token !== 'bench') throw new Error('bad token');
    return { user: 'bench' };
  },
  extensions: pool
    ? [
        new Database({
          fetch: async ({ documentName }) => {
            const r = await pool.query<{ data: Buffer }>('SELECT data FROM bench_baseline_docs WHERE name = $1', [documentName]);
            return r.rows[0] ? new Uint8Array(r.rows[0].data) : null;
          },
          store: async ({ documentName, state }) => {
            await pool.query(
              'INSERT INTO bench_baseline_docs (name, data) VALUES ($1, $2) ON CONFLICT (name) DO UPDATE SET data = EXCLUDED.data',
              [documentName, Buffer.from(state)],
            );
          },
        }),
      ]
    : [],
});
await server.listen();
serveIpc(() => ({ docs: server.hocuspocus.getDocumentsCount(), connections: server.hocuspocus.getConnectionsCount() }));
process.stdout.write(`READY ${server.address.port}\n`);

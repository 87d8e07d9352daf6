/**
 * [SYNC-10] Keepalive: an idle client socket stays open. Without it the provider's silence timeout closes
 * the socket (nothing crosses an idle Parley socket: no awareness while idle), which meant a reconnect,
 * re-authentication and re-sync every 30 s per client. Timeouts are shortened for the test (3 s silence,
 * ping after 1 s); the control run with the keepalive off shows the test can fail.
 */
import * as Y from 'yjs';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { KEEPALIVE } from '@parley/shared/protocol';
import { SyncConnection } from '../../../shared/src/client/sync-connection.ts';
import { createConversation, openSegment, registerUsers, startSyncTestServer, type TestUser } from './support.ts';

let srv: Awaited<ReturnType<typeof startSyncTestServer>>;
let alice: TestUser, bob: TestUser;
const connections: SyncConnection[] = [];

beforeAll(async () => {
  srv = await startSyncTestServer({ backend: 'pglite' });
  [alice, bob] = await registerUsers(srv.url, ['alice', 'bob']);
});
afterAll(async () => {
  for (const c of connections) c.destroy();
  await srv?.close();
});

async function idleFor(ms: number, keepaliveMs: number): Promise<{ disconnects: number; stateless: string[] }> {
  const { conversation } = await createConversation(srv.url, alice, [bob]);
  const sync = new SyncConnection(srv.url, async () => alice.token, { keepaliveMs, silenceTimeoutMs: 3_000 });
  connections.push(sync);
  let disconnects = 0;
  sync.socket.on('disconnect', () => disconnects++);
  const stateless: string[] = [];
  const link = sync.open(openSegment(conversation), new Y.Doc(), { onStateless: (p) => stateless.push(p) });
  await link.whenSynced();
  await new Promise((r) => setTimeout(r, ms));
  const result = { disconnects, stateless };
  sync.destroy();
  return result;
}

it('an idle socket with the keepalive stays connected for several silence timeouts; the pong is not passed on', async () => {
  const { disconnects, stateless } = await idleFor(8_000, 1_000);
  expect(disconnects).toBe(0);
  expect(stateless).not.toContain(KEEPALIVE.pong);
});

it('control: without the keepalive the same idle socket is dropped by the silence timeout', async () => {
  const { disconnects } = await idleFor(8_000, 0);
  expect(disconnects).toBeGreaterThan(0);
});

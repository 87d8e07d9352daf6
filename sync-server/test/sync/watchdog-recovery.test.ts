/**
 * The client watchdog (shared/src/client/sync-connection.ts) recovers a document the server closed with a
 * retryable reason, on the same socket, by itself. Regression: leaving the document sent a CLOSE message
 * for it; the server had already dropped that document connection, so it queued the CLOSE and applied it
 * to the re-authenticated connection ("provider_initiated"), and the document stayed closed with its
 * update never acknowledged. The failure is real: a trigger makes PostgreSQL refuse the append ([SYNC-9]).
 */
import pg from 'pg';
import * as Y from 'yjs';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { SyncConnection } from '../../../shared/src/client/sync-connection.ts';
import { createConversation, frameFor, framesOf, openSegment, registerUsers, startSyncTestServer, storedUpdates, waitFor, type TestUser } from './support.ts';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

let srv: Awaited<ReturnType<typeof startSyncTestServer>>;
let alice: TestUser, bob: TestUser;
let admin: pg.Client;
const connections: SyncConnection[] = [];

beforeAll(async () => {
  srv = await startSyncTestServer({ backend: 'postgres' });
  [alice, bob] = await registerUsers(srv.url, ['alice', 'bob']);
  admin = new pg.Client({ connectionString: srv.databaseUrl! });
  await admin.connect();
});
afterAll(async () => {
  for (const c of connections) c.destroy();
  await admin?.end();
  await srv?.close();
});

it('after an "unavailable" close the link re-attaches on the same socket and its update is stored and acknowledged', async () => {
  const { conversation, key } = await createConversation(srv.url, alice, [bob]);
  const seg = openSegment(conversation);
  const sync = new SyncConnection(srv.url, async () => alice.token);
  connections.push(sync);
  const doc = new Y.Doc();
  const closes: string[] = [];
  sync.socket.on('close', ({ event }: { event: { reason?: string } }) => closes.push(`socket:${event?.reason ?? ''}`));
  const link = sync.open(seg, doc, { onFinalClose: (r) => closes.push(`final:${r}`) });
  link.provider.on('close', ({ event }: { event: { reason?: string } }) => closes.push(event?.reason ?? ''));
  await link.whenAcked();

  await admin.query(`CREATE OR REPLACE FUNCTION parley_test_refuse_wd() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN RAISE EXCEPTION 'doc_updates refused by the test'; END $$`);
  await admin.query('CREATE TRIGGER parley_test_refuse_wd BEFORE INSERT ON doc_updates FOR EACH ROW EXECUTE FUNCTION parley_test_refuse_wd()');
  const frame = frameFor(alice, { convId: conversation.id, segmentId: seg }, key, 1, 'stored after recovery');
  try {
    doc.getArray<Uint8Array>('log').push([frame]);
    await waitFor(() => closes.includes('unavailable'), 10_000, 'the server closed the document');
    expect(link.provider.unsyncedChanges).toBeGreaterThan(0);
  } finally {
    await admin.query('DROP TRIGGER parley_test_refuse_wd ON doc_updates');
  }

  // No new socket, no new provider: the watchdog alone brings the document back.
  const acked = link.whenAcked().then(() => true);
  expect(await Promise.race([acked, new Promise((r) => setTimeout(() => r(false), 15_000))])).toBe(true);
  expect(framesOf(await storedUpdates(srv, seg)).map(hex)).toContain(hex(frame));
  expect(closes).not.toContain('provider_initiated');
  expect(closes.filter((c) => c.startsWith('socket:') || c.startsWith('final:'))).toEqual([]);
});

/**
 * Cross-instance fan-out of effects (docs/operations.md "Scaling"). With one instance, effects apply to
 * the local sync server directly. With `REDIS_URL`, every effect is published on one Redis channel and
 * every instance (including the publisher) applies it to its own connections: "close this user's
 * sockets", "close these documents", and inbox notices (presence, membership, epochs).
 *
 * Messages on the channel carry only ids and codes (the same metadata the database holds), parsed with zod
 * on receipt; a malformed message is logged and dropped.
 */
import { Redis as IORedis } from 'ioredis';
import { z } from 'zod';
import { InboxNotice } from '@parley/shared/protocol';
import type { Logger } from '../log.ts';
import type { EffectSink } from '../conversations/effects.ts';
import type { SyncServer } from './sync-server.ts';

const Close = z.object({ code: z.number().int().min(1000).max(4999), reason: z.string().max(64) }).strict();
const FanoutMessage = z.discriminatedUnion('type', [
  z.object({ type: z.literal('notify'), userId: z.uuid(), notice: InboxNotice }).strict(),
  z.object({ type: z.literal('close_user'), userId: z.uuid(), close: Close, convId: z.uuid().optional() }).strict(),
  z.object({ type: z.literal('close_docs'), docNames: z.array(z.string().max(40)).max(1000), close: Close }).strict(),
  z.object({ type: z.literal('recheck_sessions'), userId: z.uuid().nullable() }).strict(),
]);
type FanoutMessage = z.infer<typeof FanoutMessage>;

/** An effect sink that reaches every instance, plus its shutdown. */
export interface Fanout extends EffectSink {
  /** Every instance closes sockets of revoked sessions (of `userId`, or of anyone when null). */
  recheckSessions(userId: string | null): void;
  close(): Promise<void>;
}

function applyLocally(sync: SyncServer, m: FanoutMessage): void {
  switch (m.type) {
    case 'notify':
      sync.notify(m.userId, m.notice);
      return;
    case 'close_user':
      sync.closeUserConnections(m.userId, m.close, m.convId);
      return;
    case 'close_docs':
      sync.closeDocuments(m.docNames, m.close);
      return;
    case 'recheck_sessions':
      void sync.recheckSessions(m.userId).catch(() => undefined);
      return;
    default: {
      const never: never = m;
      throw new Error(`unhandled fan-out message ${JSON.stringify(never)}`);
    }
  }
}

/** Single-instance fan-out: applies effects to the local sync server. */
export function localFanout(sync: SyncServer): Fanout {
  return {
    notify: (userId, notice) => applyLocally(sync, { type: 'notify', userId, notice }),
    closeUserConnections: (userId, close, convId) => applyLocally(sync, { type: 'close_user', userId, close, ...(convId ? { convId } : {}) }),
    closeDocuments: (docNames, close) => applyLocally(sync, { type: 'close_docs', docNames: [...docNames], close }),
    recheckSessions: (userId) => applyLocally(sync, { type: 'recheck_sessions', userId }),
    close: async () => {},
  };
}

/** The Redis channel effects travel on. */
export const FANOUT_CHANNEL = 'parley:effects';

/** Redis fan-out: publishes effects; applies everything received on the channel (own messages included). */
export async function redisFanout(sync: SyncServer, redisUrl: string, log: Logger): Promise<Fanout> {
  const pub = new IORedis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 3 });
  const sub = new IORedis(redisUrl, { lazyConnect: true });
  pub.on('error', (error) => log.warn('fanout.redis_error', { err: error }));
  sub.on('error', (error) => log.warn('fanout.redis_error', { err: error }));
  await pub.connect();
  await sub.connect();
  await sub.subscribe(FANOUT_CHANNEL);
  sub.on('message', (_channel: string, raw: string) => {
    let parsed: unknown;
    try {
      parsed = JSON.parse(raw);
    } catch {
      log.warn('fanout.bad_message', { reason: 'json' });
      return;
    }
    const m = FanoutMessage.safeParse(parsed);
    if (!m.success) {
      log.warn('fanout.bad_message', { reason: 'shape' });
      return;
    }
    applyLocally(sync, m.data);
  });
  const publish = (m: FanoutMessage) => {
    pub.publish(FANOUT_CHANNEL, JSON.stringify(m)).catch((error: unknown) => {
      // Redis is down: still reach this instance's connections.
      log.warn('fanout.publish_failed', { err: error });
      applyLocally(sync, m);
    });
  };
  // A failed append closes its document on every instance (sync-server.ts, [SYNC-9]): other instances may
  // hold the relayed, never-committed content in memory too.
  sync.setDocumentCloser((docNames, close) => publish({ type: 'close_docs', docNames: [...docNames], close }));
  return {
    notify: (userId, notice) => publish({ type: 'notify', userId, notice }),
    closeUserConnections: (userId, close, convId) => publish({ type: 'close_user', userId, close, ...(convId ? { convId } : {}) }),
    closeDocuments: (docNames, close) => publish({ type: 'close_docs', docNames: [...docNames], close }),
    recheckSessions: (userId) => publish({ type: 'recheck_sessions', userId }),
    async close() {
      sub.disconnect();
      pub.disconnect();
    },
  };
}

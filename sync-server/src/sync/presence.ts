/**
 * Who is online, across instances. The server already knows which users hold authenticated sockets;
 * presence is that fact and nothing more (typing and read state travel encrypted in awareness).
 *
 * - Single instance: local connection counts.
 * - With Redis: each instance keeps its online users in a set `parley:presence:<instance>` that expires
 *   unless refreshed (every 10 s, TTL 30 s), so a crashed instance's users drop out on their own.
 *   "Online anywhere" is a membership check over the live instance sets.
 */
import { Redis as IORedis } from 'ioredis';
import type { Logger } from '../log.ts';

/** Presence across every instance. */
export interface PresenceStore {
  /** Records that `userId` now has (true) or no longer has (false) a connection on this instance. */
  setLocal(userId: string, online: boolean): Promise<void>;
  /** True when the user has a connection on any live instance. */
  isOnline(userId: string): Promise<boolean>;
  /** The subset of `userIds` online on any live instance. */
  onlineAmong(userIds: readonly string[]): Promise<Set<string>>;
  close(): Promise<void>;
}

/** Presence of one instance, in memory. */
export function localPresence(): PresenceStore {
  const online = new Set<string>();
  return {
    async setLocal(userId, isOnline) {
      if (isOnline) online.add(userId);
      else online.delete(userId);
    },
    async isOnline(userId) {
      return online.has(userId);
    },
    async onlineAmong(userIds) {
      return new Set(userIds.filter((u) => online.has(u)));
    },
    async close() {},
  };
}

const PREFIX = 'parley:presence:';
const TTL_SECONDS = 30;
const REFRESH_MS = 10_000;

/** Presence shared through Redis (see the module comment). */
export function redisPresence(url: string, instanceId: string, log: Logger): PresenceStore {
  const redis = new IORedis(url, { maxRetriesPerRequest: 3 });
  redis.on('error', (error) => log.warn('presence.redis_error', { err: error }));
  const mine = new Set<string>();
  const key = `${PREFIX}${instanceId}`;
  const refresh = async () => {
    const multi = redis.multi().del(key);
    if (mine.size > 0) multi.sadd(key, ...mine).expire(key, TTL_SECONDS);
    await multi.exec();
  };
  const timer = setInterval(() => {
    refresh().catch((error: unknown) => log.warn('presence.refresh_failed', { err: error }));
  }, REFRESH_MS);
  timer.unref();
  const liveKeys = async (): Promise<string[]> => {
    const keys: string[] = [];
    let cursor = '0';
    do {
      const [next, batch] = await redis.scan(cursor, 'MATCH', `${PREFIX}*`, 'COUNT', 200);
      cursor = next;
      keys.push(...batch);
    } while (cursor !== '0');
    return keys;
  };
  const store: PresenceStore = {
    async setLocal(userId, isOnline) {
      if (isOnline) {
        mine.add(userId);
        await redis.multi().sadd(key, userId).expire(key, TTL_SECONDS).exec();
      } else {
        mine.delete(userId);
        await redis.srem(key, userId);
      }
    },
    async isOnline(userId) {
      return (await store.onlineAmong([userId])).has(userId);
    },
    async onlineAmong(userIds) {
      const found = new Set<string>();
      if (userIds.length === 0) return found;
      for (const k of await liveKeys()) {
        const flags = await redis.smismember(k, ...userIds);
        flags.forEach((f, i) => {
          if (f === 1) found.add(userIds[i]!);
        });
      }
      return found;
    },
    async close() {
      clearInterval(timer);
      try {
        await redis.del(key);
      } catch (error) {
        // Redis is down: the key expires within TTL_SECONDS anyway; shutdown must go on (database close).
        log.warn('presence.close_failed', { err: error });
      } finally {
        redis.disconnect();
      }
    },
  };
  return store;
}

/**
 * The privacy audit as part of the suite: a real server on a fresh PostgreSQL database with Redis (so the
 * Redis fan-out and extension-redis paths are audited too), real clients, canaries; no finding allowed.
 */
import { describe, expect, it } from 'vitest';
import pg from 'pg';
import { randomBytes } from 'node:crypto';
import { runPrivacyAudit } from '../privacy-audit.ts';

const ADMIN = process.env.TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

describe('privacy audit', () => {
  it('finds no canary and no key material in PostgreSQL, Redis or the server log', async () => {
    const name = `parley_audit_${randomBytes(6).toString('hex')}`;
    const admin = new pg.Client({ connectionString: ADMIN });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${name}`);
    const lines: string[] = [];
    try {
      const result = await runPrivacyAudit({
        databaseUrl: ADMIN.replace(/\/[^/]*$/, `/${name}`),
        redisUrl: process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379',
        print: (l) => lines.push(l),
      });
      expect(result.findings).toEqual([]);
      expect(result.canaries.length).toBeGreaterThanOrEqual(8);
      expect(lines.filter((l) => l.startsWith('canary: ')).length).toBe(result.canaries.length);
      for (const place of ['postgres:doc_updates', 'postgres:key_wraps', 'server log', 'redis:pubsub']) {
        expect(result.places.some((p) => p.startsWith(place))).toBe(true);
      }
    } finally {
      await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await admin.end();
    }
  }, 180_000);
});

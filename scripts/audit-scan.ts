/**
 * The scanning half of the privacy audit: collects everything the server side holds — every PostgreSQL
 * table (all columns, bytea included), every Redis key and every message published on Redis while the
 * audit ran, and the server log — and searches it for needles (canary strings and key material) in the
 * encodings a leak could take: raw bytes/UTF-8, hex, base64 and base64url.
 */
import pg from 'pg';
import { Redis as IORedis } from 'ioredis';

/** Something that must never appear server-side. */
export interface Needle {
  label: string;
  bytes: Uint8Array;
}

/** One searched place and how much was searched there. */
export interface Place {
  name: string;
  bytes: number;
}

/** A needle found somewhere, in some encoding. */
export interface Finding {
  needle: string;
  place: string;
  encoding: string;
}

/** A blob of server-side data to search, with where it came from. */
export interface Haystack {
  place: string;
  data: Buffer;
}

function encodings(bytes: Uint8Array): Array<{ name: string; pattern: Buffer }> {
  const b = Buffer.from(bytes);
  const out = [
    { name: 'raw', pattern: b },
    { name: 'hex', pattern: Buffer.from(b.toString('hex')) },
    { name: 'HEX', pattern: Buffer.from(b.toString('hex').toUpperCase()) },
  ];
  // base64 of a needle depends on alignment; a needle of >= 6 bytes always leaves an aligned core.
  for (let shift = 0; shift < 3; shift++) {
    const padded = Buffer.concat([Buffer.alloc(shift), b]);
    const full = padded.toString('base64');
    // characters that depend only on needle bytes: skip the first ceil(shift*4/3) and the last 4
    const start = Math.ceil((shift * 4) / 3) + (shift > 0 ? 1 : 0);
    const core = full.slice(start, Math.max(start, full.length - 4));
    if (core.length >= 8) {
      out.push({ name: `base64+${shift}`, pattern: Buffer.from(core) });
      out.push({ name: `base64url+${shift}`, pattern: Buffer.from(core.replaceAll('+', '-').replaceAll('/', '_')) });
    }
  }
  return out;
}

/** Searches every haystack for every needle in every encoding. */
export function scan(haystacks: readonly Haystack[], needles: readonly Needle[]): Finding[] {
  const findings: Finding[] = [];
  for (const needle of needles) {
    const patterns = encodings(needle.bytes);
    for (const h of haystacks) {
      for (const p of patterns) {
        if (p.pattern.length > 0 && h.data.includes(p.pattern)) findings.push({ needle: needle.label, place: h.place, encoding: p.name });
      }
    }
  }
  return findings;
}

/** Dumps every table of the public schema: each row as JSON (bytea as hex) plus the raw bytea bytes. */
export async function dumpPostgres(query: (sql: string) => Promise<pg.QueryResult>): Promise<Haystack[]> {
  const tables = (await query(`SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename`)).rows.map((r: { tablename: string }) => r.tablename);
  const out: Haystack[] = [];
  for (const t of tables) {
    if (!/^[a-z_][a-z0-9_]*$/.test(t)) continue;
    const rows = (await query(`SELECT * FROM "${t}"`)).rows as Array<Record<string, unknown>>;
    const parts: Buffer[] = [];
    for (const row of rows) {
      const printable = Object.fromEntries(Object.entries(row).map(([k, v]) => [k, Buffer.isBuffer(v) ? v.toString('hex') : v]));
      parts.push(Buffer.from(JSON.stringify(printable)));
      for (const v of Object.values(row)) if (Buffer.isBuffer(v)) parts.push(v);
    }
    out.push({ place: `postgres:${t} (${rows.length} rows)`, data: Buffer.concat(parts) });
  }
  return out;
}

/** Dumps every Redis key with its value (strings, lists, sets, hashes, sorted sets, streams). */
export async function dumpRedis(redis: IORedis): Promise<Haystack> {
  const parts: Buffer[] = [];
  let cursor = '0';
  let keys = 0;
  do {
    const [next, batch] = await redis.scan(cursor, 'COUNT', 500);
    cursor = next;
    for (const key of batch) {
      keys += 1;
      parts.push(Buffer.from(key));
      const type = await redis.type(key);
      if (type === 'string') parts.push((await redis.getBuffer(key)) ?? Buffer.alloc(0));
      else if (type === 'list') parts.push(...(await redis.lrangeBuffer(key, 0, -1)));
      else if (type === 'set') parts.push(...(await redis.smembersBuffer(key)));
      else if (type === 'hash') parts.push(...Object.values(await redis.hgetallBuffer(key)));
      else if (type === 'zset') parts.push(...(await redis.zrangeBuffer(key, 0, -1)));
      else if (type === 'stream') parts.push(Buffer.from(JSON.stringify(await redis.xrange(key, '-', '+'))));
    }
  } while (cursor !== '0');
  return { place: `redis:keys (${keys} keys)`, data: Buffer.concat(parts) };
}

/** Records every message published on any Redis channel until `stop()`. */
export async function tapRedis(url: string): Promise<{ stop(): Promise<Haystack> }> {
  const sub = new IORedis(url);
  const parts: Buffer[] = [];
  let count = 0;
  await sub.psubscribe('*');
  sub.on('pmessageBuffer', (_pattern: Buffer, channel: Buffer, message: Buffer) => {
    count += 1;
    parts.push(channel, message);
  });
  return {
    async stop() {
      await sub.punsubscribe();
      sub.disconnect();
      return { place: `redis:pubsub (${count} messages)`, data: Buffer.concat(parts) };
    },
  };
}

/**
 * `npm run privacy-audit`: proves promise 1 of DESIGN.md ("the server never sees plaintext or keys").
 *
 * It starts a real server (PostgreSQL from DATABASE_URL, else embedded PGlite in a temporary directory;
 * Redis from REDIS_URL when set), drives real client-core clients through registration, a group with an
 * encrypted name and a rename, messages, replies, edits, reactions, read receipts, typing presence, a
 * direct chat, a member removal (key rotation) and profiles, all carrying fresh random canary strings;
 * then dumps every PostgreSQL table, every Redis key and every message published on Redis during the run,
 * the server log and (for PGlite) the database files, and searches them for each canary and for the key
 * material the clients hold (identity and sealing secrets, conversation keys, passwords, recovery keys,
 * password-derived keys) as raw bytes, hex, base64 and base64url.
 *
 * Prints `canary: <string>` for each canary, `searched: <place>` for each place, and exits non-zero on
 * any finding. Point DATABASE_URL at a dedicated database: the whole database is scanned.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis as IORedis } from 'ioredis';
import { MemoryStorage, ParleyClient, derivePasswordKeys, parseRecoveryKey, type Conversation } from '@parley/shared/client';
import { fromBase64Url, KDF_MIN, PreloginResponse, utf8 } from '@parley/shared/protocol';
import { loadConfig } from '../sync-server/src/config.ts';
import { startServer } from '../sync-server/src/server.ts';
import { DEFAULT_RATE_LIMITS, scaleRateLimits } from '../sync-server/src/auth/rate-limit.ts';
import { dumpPostgres, dumpRedis, scan, tapRedis, type Finding, type Haystack, type Needle } from './audit-scan.ts';

/** Options of one audit run. */
export interface AuditOptions {
  databaseUrl?: string | null;
  redisUrl?: string | null;
  /** Where progress lines go (default: stdout). */
  print?: (line: string) => void;
}

/** What an audit found. */
export interface AuditResult {
  canaries: string[];
  places: string[];
  findings: Finding[];
}

const KDF = { alg: 'argon2id', v: 19, ...KDF_MIN } as const;

function canary(): string {
  return `canary-${randomBytes(9).toString('base64url')}`;
}

async function until(check: () => boolean, ms: number, what: string): Promise<void> {
  const start = Date.now();
  while (!check()) {
    if (Date.now() - start > ms) throw new Error(`privacy audit: timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

function walkFiles(dir: string, out: Haystack[]): void {
  for (const name of readdirSync(dir)) {
    const full = join(dir, name);
    const st = statSync(full);
    if (st.isDirectory()) walkFiles(full, out);
    else if (st.size > 0 && st.size < 256 * 1024 * 1024) out.push({ place: `file:${full}`, data: readFileSync(full) });
  }
}

interface Person {
  username: string;
  password: string;
  client: ParleyClient;
  recoveryKey: string;
}

/** Runs the audit; see the module comment. */
export async function runPrivacyAudit(options: AuditOptions = {}): Promise<AuditResult> {
  const print = options.print ?? ((line: string) => process.stdout.write(`${line}\n`));
  const dataDir = mkdtempSync(join(tmpdir(), 'parley-audit-'));
  const logs: string[] = [];
  const env: Record<string, string> = { PORT: '0', HOST: '127.0.0.1', DATA_DIR: dataDir, JWT_SECRET: randomBytes(32).toString('hex'), LOG_LEVEL: 'debug' };
  if (options.databaseUrl) env.DATABASE_URL = options.databaseUrl;
  if (options.redisUrl) env.REDIS_URL = options.redisUrl;
  const tap = options.redisUrl ? await tapRedis(options.redisUrl) : null;
  const server = await startServer(loadConfig(env, dataDir), {
    logSink: (line) => logs.push(line),
    // Many registrations from one IP in a few seconds: raise the account budgets for this rig.
    rateLimits: scaleRateLimits(DEFAULT_RATE_LIMITS, 1000),
  });
  const canaries = {
    groupName: canary(),
    rename: canary(),
    message: canary(),
    reply: canary(),
    edit: canary(),
    direct: canary(),
    afterRemoval: canary(),
    reaction: canary().slice(0, 30),
    displayName: canary(),
    status: canary(),
  };
  const people: Person[] = [];
  const conversations: Conversation[] = [];
  const needles: Needle[] = [];
  try {
    const register = async (prefix: string): Promise<Person> => {
      const username = `${prefix}${randomUUID().slice(0, 8)}`;
      const password = `${canary()} ${canary()}`;
      const client = new ParleyClient({ baseUrl: server.url, storage: new MemoryStorage() });
      const reg = await client.account.register({ username, password, kdf: KDF });
      await client.start();
      return { username, password, client, recoveryKey: reg.recoveryKey };
    };
    print('audit: registering alice, bob and carol');
    const [alice, bob, carol] = await Promise.all([register('alice'), register('bob'), register('carol')]);
    people.push(alice!, bob!, carol!);

    print('audit: group with an encrypted name, messages, reply, edit, reaction, receipts, typing');
    const group = await alice!.client.createGroup(canaries.groupName, [bob!.username, carol!.username]);
    conversations.push(group);
    const m1 = await group.send(`hello ${canaries.message}`);
    const bobGroup = await bob!.client.open(group.id);
    const carolGroup = await carol!.client.open(group.id);
    conversations.push(bobGroup, carolGroup);
    await until(() => bobGroup.messages.some((m) => m.text.includes(canaries.message)), 20_000, 'bob to see the message');
    await bobGroup.reply(m1, canaries.reply);
    await group.edit(m1, `edited ${canaries.edit}`);
    await until(() => carolGroup.messages.some((m) => m.text.includes(canaries.edit)), 20_000, 'carol to see the edit');
    await carolGroup.react(m1, canaries.reaction);
    await bobGroup.markRead();
    bobGroup.setTyping(true);
    await until(() => group.typing.length > 0, 20_000, 'alice to see bob typing');
    bobGroup.setTyping(false);
    await group.rename(canaries.rename);
    await until(() => bobGroup.name === canaries.rename, 20_000, 'bob to see the new name');

    print('audit: direct chat');
    const direct = await alice!.client.createDirect(bob!.username);
    conversations.push(direct);
    await direct.send(canaries.direct);

    print('audit: profile (display name and status), read by a contact');
    const aliceId = alice!.client.context.userId;
    await alice!.client.setProfile({ displayName: canaries.displayName, status: canaries.status });
    await bob!.client.profile(aliceId);
    await until(() => bob!.client.cachedProfile(aliceId)?.displayName === canaries.displayName, 20_000, 'bob to read alice\u2019s profile');

    print('audit: removing carol (key rotation), then a message she must not get');
    await group.removeMember(carol!.client.context.userId);
    await group.send(canaries.afterRemoval);
    await until(() => bobGroup.messages.some((m) => m.text === canaries.afterRemoval), 20_000, 'bob to see the post-removal message');
    for (const c of conversations) await c.whenDelivered(15_000);

    // Key material the devices hold: none of it may reach the server.
    for (const p of people) {
      const keys = p.client.account.keys;
      if (!keys) throw new Error('privacy audit: a client has no unlocked keys');
      needles.push({ label: `${p.username} identity secret`, bytes: keys.identity.secretKey });
      needles.push({ label: `${p.username} sealing secret`, bytes: keys.sealing.secretKey });
      needles.push({ label: `${p.username} password`, bytes: utf8(p.password) });
      needles.push({ label: `${p.username} recovery key (text)`, bytes: utf8(p.recoveryKey) });
      needles.push({ label: `${p.username} recovery key`, bytes: parseRecoveryKey(p.recoveryKey) });
      const pre = PreloginResponse.parse(
        await (await fetch(`${server.url}/api/auth/prelogin`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: p.username }) })).json(),
      );
      const derived = await derivePasswordKeys(p.password, fromBase64Url(pre.salt), pre.kdf);
      needles.push({ label: `${p.username} kek`, bytes: derived.kek });
      needles.push({ label: `${p.username} authKey`, bytes: derived.authKey });
    }
    for (const c of [group, direct]) {
      for (let e = 0; e <= c.keyring.newest; e++) {
        const key = c.keyring.key(e);
        if (key) needles.push({ label: `conversation ${c.id} epoch ${e} key`, bytes: key });
      }
    }
  } finally {
    for (const p of people) await p.client.stop().catch(() => undefined);
  }

  for (const [name, value] of Object.entries(canaries)) {
    print(`canary: ${value}`);
    needles.push({ label: `canary ${name}`, bytes: utf8(value) });
  }

  // Let debounced stores and compactions run, then collect everything the server side holds.
  await new Promise((r) => setTimeout(r, 500));
  const haystacks: Haystack[] = [];
  haystacks.push(...(await dumpPostgres((sql) => server.db.query(sql))));
  await server.close();
  haystacks.push({ place: `server log (${logs.length} lines)`, data: Buffer.from(logs.join('\n')) });
  if (tap) haystacks.push(await tap.stop());
  if (options.redisUrl) {
    const redis = new IORedis(options.redisUrl);
    try {
      haystacks.push(await dumpRedis(redis));
    } finally {
      redis.disconnect();
    }
  }
  if (!options.databaseUrl) {
    const files: Haystack[] = [];
    walkFiles(dataDir, files);
    haystacks.push({ place: `PGlite data files in ${dataDir} (${files.length} files)`, data: Buffer.concat(files.map((f) => f.data)) });
  }
  rmSync(dataDir, { recursive: true, force: true });

  for (const h of haystacks) print(`searched: ${h.place}, ${h.data.length} bytes`);
  const findings = scan(haystacks, needles);
  for (const f of findings) print(`FINDING: ${f.needle} in ${f.place} (${f.encoding})`);
  // Positive control: usernames are metadata the server stores by design, so the scanner must find them;
  // if it does not, the dump or the scanner is broken and "no findings" would mean nothing.
  const control = scan(haystacks, people.map((p) => ({ label: p.username, bytes: utf8(p.username) })));
  const controlled = new Set(control.map((f) => f.needle));
  if (controlled.size !== people.length) throw new Error('privacy audit: positive control failed (usernames not found in the dump)');
  print(`audit: positive control ok (${controlled.size} usernames found where the server keeps them)`);
  print(`audit: ${needles.length} needles, ${haystacks.length} places, ${findings.length} findings`);
  return { canaries: Object.values(canaries), places: haystacks.map((h) => h.place), findings };
}

const isMain = process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1];
if (isMain) {
  // The only environment reads of this script: which database and Redis to audit.
  const databaseUrl = process.env.DATABASE_URL ?? null;
  const redisUrl = process.env.REDIS_URL ?? null;
  runPrivacyAudit({ databaseUrl, redisUrl }).then(
    (r) => process.exit(r.findings.length === 0 ? 0 : 1),
    (error: unknown) => {
      process.stderr.write(`privacy audit failed to run: ${error instanceof Error ? error.stack ?? error.message : String(error)}\n`);
      process.exit(2);
    },
  );
}

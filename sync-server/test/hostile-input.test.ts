/**
 * Hostile input: for every field of every account request, substitute SQL-injection strings, markup,
 * wrong types, nulls, huge values and control characters. Each must get a 4xx with an error code and leave
 * the database exactly as it was (compared by a full dump), with no 500 and no echo of the value.
 *
 * Exception, by design: `deviceName` is free text (1..64 chars), so hostile strings that fit are VALID
 * and stored verbatim as data (parameterised SQL; clients render it as escaped text). That is tested too.
 */
import { SessionResponse, SessionsResponse } from '@parley/shared/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { b64, call, errorCode, newAccount, TEST_KDF } from './helpers/accounts.ts';
import { startTestServer, type TestServer } from './helpers/server.ts';

const HOSTILE_STRINGS = [
  "' OR '1'='1",
  "alice'; DROP TABLE users; --",
  '"; DELETE FROM sessions; --',
  '<script>alert(1)</script>',
  '<img src=x onerror=alert(1)>',
  '../../etc/passwd',
  '\u0000\u0001\u001f',
  '\u202eevil',
  '${jndi:ldap://x}',
  'a'.repeat(6000), // decodes to 4500 bytes: over every limit
];
const HOSTILE_VALUES: unknown[] = [...HOSTILE_STRINGS, 42, -1, 1e308, true, null, [], {}, [HOSTILE_STRINGS[0]], { $gt: '' }];

let t: TestServer;
let token: string;
let account: ReturnType<typeof newAccount>;

beforeAll(async () => {
  t = await startTestServer({ backend: 'postgres' });
  account = newAccount();
  const res = await call(t.url, 'POST', '/api/auth/register', { json: account.body });
  token = SessionResponse.parse(res.body).accessToken;
});
afterAll(async () => {
  await t?.close();
});

async function dump(): Promise<string> {
  const r = await t.query(`SELECT
      (SELECT json_agg(u ORDER BY id) FROM users u) AS users,
      (SELECT json_agg(s ORDER BY id) FROM sessions s) AS sessions,
      (SELECT json_agg(r ORDER BY token_hash) FROM refresh_tokens r) AS tokens`);
  return JSON.stringify(r.rows);
}

/** Sets `value` at a dotted path inside a deep copy of `body`. */
function withField(body: Record<string, unknown>, fieldPath: string, value: unknown): Record<string, unknown> {
  const copy = structuredClone(body);
  const parts = fieldPath.split('.');
  let cursor: Record<string, unknown> = copy;
  for (const p of parts.slice(0, -1)) {
    const next = cursor[p];
    if (typeof next !== 'object' || next === null || Array.isArray(next)) throw new Error(`bad path ${fieldPath}`);
    cursor = next as Record<string, unknown>; // test-local data built above, not outside input
  }
  cursor[parts.at(-1) ?? ''] = value;
  return copy;
}

function leaves(body: Record<string, unknown>, prefix = ''): string[] {
  return Object.entries(body).flatMap(([k, v]) =>
    typeof v === 'object' && v !== null && !Array.isArray(v) ? [`${prefix}${k}`, ...leaves(v as Record<string, unknown>, `${prefix}${k}.`)] : [`${prefix}${k}`],
  );
}

function endpoints(): Array<{ path: string; body: Record<string, unknown>; auth: boolean }> {
  return [
    { path: '/api/auth/prelogin', body: { username: account.username }, auth: false },
    { path: '/api/auth/register', body: newAccount().body, auth: false },
    { path: '/api/auth/login', body: { username: account.username, authKey: b64(32), deviceName: 'x' }, auth: false },
    {
      path: '/api/auth/password',
      body: { currentAuthKey: b64(32), salt: b64(16), kdf: TEST_KDF, authKey: b64(32), accountBundle: b64(64) },
      auth: true,
    },
    { path: '/api/auth/recovery/start', body: { username: account.username, recoveryAuthKey: b64(32) }, auth: false },
    {
      path: '/api/auth/recovery/complete',
      body: {
        username: account.username,
        recoveryAuthKey: b64(32),
        salt: b64(16),
        kdf: TEST_KDF,
        authKey: b64(32),
        accountBundle: b64(64),
        newRecovery: { recoveryAuthKey: b64(32), recoveryBundle: b64(64) },
        deviceName: 'x',
      },
      auth: false,
    },
  ];
}

describe('hostile input', () => {
  it('every field of every endpoint: 4xx with a code, nothing echoed, database unchanged', async () => {
    const before = await dump();
    let requests = 0;
    for (const ep of endpoints()) {
      for (const field of leaves(ep.body)) {
        for (const value of HOSTILE_VALUES) {
          const isDeviceName = field === 'deviceName';
          if (isDeviceName && typeof value === 'string' && value.trim().length >= 1 && value.length <= 64) continue; // valid free text, see below
          const res = await call(t.url, 'POST', ep.path, { json: withField(ep.body, field, value), ...(ep.auth ? { token } : {}) });
          requests++;
          const label = `${ep.path} ${field}=${JSON.stringify(value).slice(0, 40)}`;
          expect(res.status, label).toBeGreaterThanOrEqual(400);
          expect(res.status, label).toBeLessThan(500);
          expect(errorCode(res.body), label).toBeDefined();
          if (typeof value === 'string' && value.length > 3) expect(JSON.stringify(res.body), label).not.toContain(JSON.stringify(value).slice(1, -1));
        }
      }
      // Extra and missing fields.
      const extra = await call(t.url, 'POST', ep.path, { json: { ...ep.body, "'; DROP TABLE users; --": 1 }, ...(ep.auth ? { token } : {}) });
      expect(extra.status, `${ep.path} extra`).toBe(400);
      expect(errorCode(extra.body)).toBe('invalid_request');
      expect(JSON.stringify(extra.body)).not.toContain('DROP TABLE');
      for (const field of Object.keys(ep.body)) {
        if (field === 'deviceName' || field === 'newRecovery') continue; // optional
        const copy = { ...ep.body };
        delete copy[field];
        const missing = await call(t.url, 'POST', ep.path, { json: copy, ...(ep.auth ? { token } : {}) });
        expect(missing.status, `${ep.path} missing ${field}`).toBe(400);
        expect(errorCode(missing.body)).toBe('invalid_request');
      }
    }
    expect(requests).toBeGreaterThan(500);
    expect(await dump()).toBe(before);
    expect(await t.query('SELECT count(*) AS n FROM users')).toMatchObject({ rows: [{ n: '1' }] });
  });

  it('hostile query strings and path segments change nothing', async () => {
    const before = await dump();
    for (const s of HOSTILE_STRINGS.slice(0, 5)) {
      const q = encodeURIComponent(s);
      expect((await call(t.url, 'GET', `/api/auth/me?x=${q}`, { token })).status).toBe(200);
      expect((await call(t.url, 'DELETE', `/api/auth/sessions/${q}`, { token })).status).toBe(404);
      expect((await call(t.url, 'POST', `/api/auth/logout?sid=${q}`)).status).toBe(204);
    }
    expect(await dump()).toBe(before);
  });

  it('stores a hostile but valid device name verbatim, as inert data', async () => {
    const names = ["x'); DROP TABLE users; --", '<script>alert(1)</script>'];
    for (const deviceName of names) {
      const res = await call(t.url, 'POST', '/api/auth/login', { json: { username: account.username, authKey: account.authKey, deviceName } });
      expect(res.status).toBe(200);
    }
    const list = SessionsResponse.parse((await call(t.url, 'GET', '/api/auth/sessions', { token })).body);
    expect(list.sessions.map((s) => s.deviceName)).toEqual(expect.arrayContaining(names));
    expect(await t.query(`SELECT to_regclass('public.users') IS NOT NULL AS ok`)).toMatchObject({ rows: [{ ok: true }] });
  });
});

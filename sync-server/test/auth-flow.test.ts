/**
 * The account flow end to end over real HTTP, against real PostgreSQL and embedded PGlite:
 * register, prelogin, login, refresh rotation + reuse detection, logout, password change, recovery,
 * sessions list/delete, username uniqueness, and what ends up in the database and the logs.
 */
import {
  KDF_DEFAULT,
  MeResponse,
  PreloginResponse,
  RecoveryStartResponse,
  RefreshResponse,
  SessionResponse,
  SessionsResponse,
  fromBase64Url,
} from '@parley/shared/protocol';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { b64, call, errorCode, newAccount, TEST_KDF, uniqueName, type TestAccount } from './helpers/accounts.ts';
import { startTestServer, type TestServer } from './helpers/server.ts';

/** Converts ASCII letters/digits to their fullwidth forms (NFKC maps them back). */
function fullwidth(text: string): string {
  return [...text].map((c) => String.fromCharCode(c.charCodeAt(0) + 0xfee0)).join('');
}

describe.each(['postgres', 'pglite'] as const)('accounts on %s', (backend) => {
  let t: TestServer;
  /** Every secret value sent or received, checked against logs and the database at the end. */
  const secrets: string[] = [];
  const remember = (...values: Array<string | null | undefined>) => {
    for (const v of values) if (v) secrets.push(v);
  };

  beforeAll(async () => {
    t = await startTestServer({ backend });
  });
  afterAll(async () => {
    await t?.close();
  });

  async function register(account: TestAccount = newAccount()) {
    remember(account.authKey, account.recoveryAuthKey, String(account.body['accountBundle']), String(account.body['recoveryBundle']));
    const res = await call(t.url, 'POST', '/api/auth/register', { json: account.body });
    expect(res.status).toBe(201);
    const body = SessionResponse.parse(res.body);
    remember(body.accessToken, res.refreshCookie);
    return { account, body, cookie: res.refreshCookie ?? '' };
  }

  async function login(username: string, authKey: string, deviceName?: string) {
    const res = await call(t.url, 'POST', '/api/auth/login', { json: { username, authKey, ...(deviceName ? { deviceName } : {}) } });
    if (res.status === 200) remember(SessionResponse.parse(res.body).accessToken, res.refreshCookie);
    return res;
  }

  it('registers, sets a strict refresh cookie, and answers /me', async () => {
    const account = newAccount();
    const res = await call(t.url, 'POST', '/api/auth/register', { json: account.body });
    expect(res.status).toBe(201);
    const body = SessionResponse.parse(res.body);
    remember(account.authKey, account.recoveryAuthKey, body.accessToken, res.refreshCookie);
    expect(body.user.username).toBe(account.username);
    expect(body.salt).toBe(account.body['salt']);
    expect(body.accountBundle).toBe(account.body['accountBundle']);
    expect(body.accessTokenExpiresAt).toBeGreaterThan(Date.now() + 500_000);
    const cookie = res.headers.getSetCookie().join('\n');
    expect(cookie).toMatch(/^parley_rt=[A-Za-z0-9_-]{43}; Max-Age=2592000; Path=\/api\/auth; Expires=[^;]+; HttpOnly; SameSite=Strict$/);
    expect(cookie).not.toContain('Secure'); // plain HTTP on loopback without a proxy

    const me = await call(t.url, 'GET', '/api/auth/me', { token: body.accessToken });
    expect(me.status).toBe(200);
    const parsed = MeResponse.parse(me.body);
    expect(parsed.user.id).toBe(body.user.id);
    expect(parsed.sessionId).toBe(body.sessionId);
    expect(parsed.publicKeys).toEqual(account.body['publicKeys']);
  });

  it('prelogin returns the real salt for users and a stable fake one for unknown names', async () => {
    const { account } = await register();
    const known = PreloginResponse.parse((await call(t.url, 'POST', '/api/auth/prelogin', { json: { username: account.username } })).body);
    expect(known).toEqual({ salt: account.body['salt'], kdf: TEST_KDF });

    const ghost = uniqueName('ghost');
    const a = await call(t.url, 'POST', '/api/auth/prelogin', { json: { username: ghost } });
    const b = await call(t.url, 'POST', '/api/auth/prelogin', { json: { username: ghost.toUpperCase() } });
    const other = await call(t.url, 'POST', '/api/auth/prelogin', { json: { username: uniqueName('ghost') } });
    expect(a.status).toBe(200);
    const fake = PreloginResponse.parse(a.body);
    expect(fake.kdf).toEqual(KDF_DEFAULT);
    expect(fromBase64Url(fake.salt)).toHaveLength(16);
    expect(b.body).toEqual(a.body); // deterministic, case-insensitive like real names
    expect(PreloginResponse.parse(other.body).salt).not.toBe(fake.salt);
  });

  it('treats usernames as unique case-insensitively and after NFKC', async () => {
    const base = uniqueName('john');
    const { account } = await register(newAccount(base));
    for (const variant of [base.toUpperCase(), fullwidth(base), ` ${base} `]) {
      const res = await call(t.url, 'POST', '/api/auth/register', { json: newAccount(variant).body });
      expect(res.status, variant).toBe(409);
      expect(errorCode(res.body)).toBe('username_taken');
    }
    // The same rule applies at login: the fullwidth spelling names the same account.
    const res = await login(fullwidth(base), account.authKey);
    expect(res.status).toBe(200);
    expect(SessionResponse.parse(res.body).user.username).toBe(base);
    const users = await t.query('SELECT count(*) AS n FROM users WHERE username_key = $1', [base]);
    expect(users.rows).toEqual([{ n: '1' }]);
  });

  it('refuses unknown users and wrong keys alike, running argon2 for both', async () => {
    const { account } = await register();
    const started = performance.now();
    const unknown = await login(uniqueName('nobody'), b64(32));
    const unknownMs = performance.now() - started;
    const wrong = await login(account.username, b64(32));
    expect(unknown.status).toBe(401);
    expect(wrong.status).toBe(401);
    expect(unknown.body).toEqual(wrong.body);
    expect(errorCode(unknown.body)).toBe('invalid_credentials');
    // A dummy argon2id verify (m=19 MiB, t=2) takes tens of milliseconds; a skipped one would take ~1 ms.
    expect(unknownMs).toBeGreaterThan(20);
  });

  it('rotates refresh tokens and revokes the session when a used token comes back', async () => {
    const { body, cookie } = await register();
    const first = await call(t.url, 'POST', '/api/auth/refresh', { cookie });
    expect(first.status).toBe(200);
    const refreshed = RefreshResponse.parse(first.body);
    expect(refreshed.sessionId).toBe(body.sessionId);
    expect(first.refreshCookie).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(first.refreshCookie).not.toBe(cookie);
    remember(refreshed.accessToken, first.refreshCookie);

    const second = await call(t.url, 'POST', '/api/auth/refresh', { cookie: first.refreshCookie ?? '' });
    expect(second.status).toBe(200);
    remember(second.refreshCookie);

    // Replaying the first (already used) token: reuse -> the whole family dies.
    const replay = await call(t.url, 'POST', '/api/auth/refresh', { cookie });
    expect(replay.status).toBe(401);
    expect(errorCode(replay.body)).toBe('unauthorized');
    expect(replay.refreshCookie).toBe('');
    const latest = await call(t.url, 'POST', '/api/auth/refresh', { cookie: second.refreshCookie ?? '' });
    expect(latest.status).toBe(401);
    expect((await call(t.url, 'GET', '/api/auth/me', { token: refreshed.accessToken })).status).toBe(401);
    const session = await t.query('SELECT revoked_reason FROM sessions WHERE id = $1', [body.sessionId]);
    expect(session.rows).toEqual([{ revoked_reason: 'refresh_reuse' }]);
  });

  it('refuses refresh without a cookie or with an unknown token', async () => {
    expect((await call(t.url, 'POST', '/api/auth/refresh')).status).toBe(401);
    expect((await call(t.url, 'POST', '/api/auth/refresh', { cookie: b64(32) })).status).toBe(401);
    expect((await call(t.url, 'POST', '/api/auth/refresh', { cookie: 'short' })).status).toBe(401);
  });

  it('logs out: 204, cookie cleared, session revoked', async () => {
    const { body, cookie } = await register();
    const res = await call(t.url, 'POST', '/api/auth/logout', { cookie, token: body.accessToken });
    expect(res.status).toBe(204);
    expect(res.headers.getSetCookie().join()).toMatch(/parley_rt=;.*Expires=Thu, 01 Jan 1970/);
    expect((await call(t.url, 'POST', '/api/auth/refresh', { cookie })).status).toBe(401);
    expect((await call(t.url, 'GET', '/api/auth/me', { token: body.accessToken })).status).toBe(401);
    // Idempotent.
    expect((await call(t.url, 'POST', '/api/auth/logout', { cookie })).status).toBe(204);
  });

  it('changes the password, revoking every other session and rotating the current one', async () => {
    const { account, body: a, cookie: cookieA } = await register();
    const bLogin = await login(account.username, account.authKey, 'laptop');
    const b = SessionResponse.parse(bLogin.body);
    const newAuthKey = b64(32);
    const newSalt = b64(16);
    const newBundle = b64(300);
    remember(newAuthKey, newBundle);
    const change = { currentAuthKey: account.authKey, salt: newSalt, kdf: TEST_KDF, authKey: newAuthKey, accountBundle: newBundle };

    const wrong = await call(t.url, 'POST', '/api/auth/password', { token: a.accessToken, json: { ...change, currentAuthKey: b64(32) } });
    expect(wrong.status).toBe(401);
    expect(errorCode(wrong.body)).toBe('invalid_credentials');
    expect((await call(t.url, 'POST', '/api/auth/password', { json: change })).status).toBe(401);

    const res = await call(t.url, 'POST', '/api/auth/password', { token: a.accessToken, json: change });
    expect(res.status).toBe(200);
    const rotated = RefreshResponse.parse(res.body);
    expect(rotated.sessionId).toBe(a.sessionId);
    expect(res.refreshCookie).toMatch(/^[A-Za-z0-9_-]{43}$/);
    remember(rotated.accessToken, res.refreshCookie);

    // Other session: dead. Current session: old cookie superseded, new one works.
    expect((await call(t.url, 'GET', '/api/auth/me', { token: b.accessToken })).status).toBe(401);
    expect((await call(t.url, 'POST', '/api/auth/refresh', { cookie: bLogin.refreshCookie ?? '' })).status).toBe(401);
    expect((await call(t.url, 'POST', '/api/auth/refresh', { cookie: cookieA })).status).toBe(401);
    const again = await call(t.url, 'POST', '/api/auth/refresh', { cookie: res.refreshCookie ?? '' });
    expect(again.status).toBe(200);
    remember(again.refreshCookie);
    expect((await call(t.url, 'GET', '/api/auth/me', { token: rotated.accessToken })).status).toBe(200);

    expect((await login(account.username, account.authKey)).status).toBe(401);
    const fresh = await login(account.username, newAuthKey);
    expect(fresh.status).toBe(200);
    const session = SessionResponse.parse(fresh.body);
    expect(session.salt).toBe(newSalt);
    expect(session.accountBundle).toBe(newBundle);
  });

  it('recovers an account with the recovery key and revokes all old sessions', async () => {
    const { account, body: old, cookie } = await register();
    const bad = await call(t.url, 'POST', '/api/auth/recovery/start', { json: { username: account.username, recoveryAuthKey: b64(32) } });
    expect(bad.status).toBe(401);
    expect(errorCode(bad.body)).toBe('invalid_credentials');
    const ghost = await call(t.url, 'POST', '/api/auth/recovery/start', { json: { username: uniqueName(), recoveryAuthKey: b64(32) } });
    expect(ghost.body).toEqual(bad.body);

    const start = await call(t.url, 'POST', '/api/auth/recovery/start', {
      json: { username: account.username, recoveryAuthKey: account.recoveryAuthKey },
    });
    expect(start.status).toBe(200);
    expect(RecoveryStartResponse.parse(start.body).recoveryBundle).toBe(account.body['recoveryBundle']);

    const authKey = b64(32);
    const newRecovery = { recoveryAuthKey: b64(32), recoveryBundle: b64(150) };
    remember(authKey, newRecovery.recoveryAuthKey, newRecovery.recoveryBundle);
    const complete = await call(t.url, 'POST', '/api/auth/recovery/complete', {
      json: {
        username: account.username,
        recoveryAuthKey: account.recoveryAuthKey,
        salt: b64(16),
        kdf: TEST_KDF,
        authKey,
        accountBundle: b64(200),
        newRecovery,
        deviceName: 'new phone',
      },
    });
    expect(complete.status).toBe(200);
    const session = SessionResponse.parse(complete.body);
    remember(session.accessToken, complete.refreshCookie);
    expect(session.user.id).toBe(old.user.id);

    expect((await call(t.url, 'GET', '/api/auth/me', { token: old.accessToken })).status).toBe(401);
    expect((await call(t.url, 'POST', '/api/auth/refresh', { cookie })).status).toBe(401);
    expect((await call(t.url, 'GET', '/api/auth/me', { token: session.accessToken })).status).toBe(200);
    expect((await login(account.username, account.authKey)).status).toBe(401);
    expect((await login(account.username, authKey)).status).toBe(200);
    // The old recovery key is replaced.
    const oldKey = await call(t.url, 'POST', '/api/auth/recovery/start', {
      json: { username: account.username, recoveryAuthKey: account.recoveryAuthKey },
    });
    expect(oldKey.status).toBe(401);
    const newKey = await call(t.url, 'POST', '/api/auth/recovery/start', {
      json: { username: account.username, recoveryAuthKey: newRecovery.recoveryAuthKey },
    });
    expect(RecoveryStartResponse.parse(newKey.body).recoveryBundle).toBe(newRecovery.recoveryBundle);
  });

  it('lists sessions and deletes only the caller’s own', async () => {
    const { account, body: a } = await register();
    const b = SessionResponse.parse((await login(account.username, account.authKey, 'tablet')).body);
    const stranger = await register();

    const list = SessionsResponse.parse((await call(t.url, 'GET', '/api/auth/sessions', { token: a.accessToken })).body);
    expect(list.sessions.map((s) => s.id).sort()).toEqual([a.sessionId, b.sessionId].sort());
    expect(list.sessions.find((s) => s.current)?.id).toBe(a.sessionId);
    expect(list.sessions.find((s) => s.id === b.sessionId)?.deviceName).toBe('tablet');

    for (const id of [stranger.body.sessionId, randomUUID(), 'not-a-uuid', "1' OR '1'='1"]) {
      const res = await call(t.url, 'DELETE', `/api/auth/sessions/${encodeURIComponent(id)}`, { token: a.accessToken });
      expect(res.status, id).toBe(404);
      expect(errorCode(res.body)).toBe('not_found');
    }
    expect((await call(t.url, 'GET', '/api/auth/me', { token: stranger.body.accessToken })).status).toBe(200);

    expect((await call(t.url, 'DELETE', `/api/auth/sessions/${b.sessionId}`, { token: a.accessToken })).status).toBe(204);
    expect((await call(t.url, 'GET', '/api/auth/me', { token: b.accessToken })).status).toBe(401);
    expect((await call(t.url, 'DELETE', `/api/auth/sessions/${b.sessionId}`, { token: a.accessToken })).status).toBe(404);
    const after = SessionsResponse.parse((await call(t.url, 'GET', '/api/auth/sessions', { token: a.accessToken })).body);
    expect(after.sessions.map((s) => s.id)).toEqual([a.sessionId]);
    expect((await call(t.url, 'GET', '/api/auth/sessions')).status).toBe(401);
  });

  it('stores only argon2id hashes (m >= 19456, t >= 2) and no key, token or bundle in clear', async () => {
    const users = (await t.query('SELECT * FROM users')).rows;
    expect(users.length).toBeGreaterThan(5);
    for (const u of users) {
      for (const column of ['auth_hash', 'recovery_hash']) {
        const m = /^\$argon2id\$v=19\$m=(\d+),t=(\d+),p=(\d+)\$[A-Za-z0-9+/]+\$[A-Za-z0-9+/]+$/.exec(String(u[column]));
        expect(m, column).not.toBeNull();
        expect(Number(m?.[1])).toBeGreaterThanOrEqual(19456);
        expect(Number(m?.[2])).toBeGreaterThanOrEqual(2);
      }
    }
    const dump = JSON.stringify(
      (await t.query(`SELECT (SELECT json_agg(u) FROM users u) AS u, (SELECT json_agg(s) FROM sessions s) AS s,
                             (SELECT json_agg(r) FROM refresh_tokens r) AS r`)).rows,
    );
    const keys = secrets.filter((s) => s.length === 43); // 32-byte keys and refresh tokens
    expect(keys.length).toBeGreaterThan(10);
    for (const k of keys) {
      expect(dump).not.toContain(k);
      expect(dump).not.toContain(Buffer.from(fromBase64Url(k)).toString('hex'));
    }
  });

  it('never writes keys, tokens, bundles or cookies to the log', () => {
    const log = t.logs.join('\n');
    expect(t.logs.length).toBeGreaterThan(20);
    expect(log).toContain('"msg":"request"');
    for (const s of secrets) expect(log).not.toContain(s);
    expect(log).not.toMatch(/eyJ[A-Za-z0-9_-]{10,}\./);
    expect(log).not.toContain(t.jwtSecret);
  });
});

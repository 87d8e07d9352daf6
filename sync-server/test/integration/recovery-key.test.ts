/**
 * "Make a new recovery key" (`POST /api/auth/recovery-key`) against the real server and real PostgreSQL:
 * the endpoint needs a live access token AND the current password's auth key; on success the old recovery
 * key stops recovering (with the same error as any wrong key) and the new one recovers the same keys.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KDF_MIN } from '@parley/shared/protocol';
import { AccountClient, formatRecoveryKey, generateRecoveryKey } from '@parley/shared/client';
import { b64, call, codeOf, errorCode, newAccount, uniqueName } from '../helpers/accounts.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

const KDF = { alg: 'argon2id', v: 19, ...KDF_MIN } as const;
const PASSWORD = 'violet tangent marmalade quartz';

describe('new recovery key (postgres)', () => {
  let srv: TestServer;
  beforeAll(async () => {
    srv = await startTestServer({ backend: 'postgres' });
  });
  afterAll(async () => {
    await srv?.close();
  });

  it('needs a live access token and the current auth key; a refusal changes nothing', async () => {
    const account = newAccount();
    const reg = await call(srv.url, 'POST', '/api/auth/register', { json: account.body });
    expect(reg.status).toBe(201);
    const token = (reg.body as { accessToken: string }).accessToken;
    const replacement = { recoveryAuthKey: b64(32), recoveryBundle: b64(150) };
    const before = (await srv.query('SELECT recovery_hash, recovery_bundle FROM users WHERE username = $1', [account.username])).rows[0];

    const missing = await call(srv.url, 'POST', '/api/auth/recovery-key', { json: { currentAuthKey: account.authKey, ...replacement } });
    expect([missing.status, errorCode(missing.body)]).toEqual([401, 'unauthorized']);
    const forged = await call(srv.url, 'POST', '/api/auth/recovery-key', {
      token: `${token.slice(0, -4)}AAAA`,
      json: { currentAuthKey: account.authKey, ...replacement },
    });
    expect([forged.status, errorCode(forged.body)]).toEqual([401, 'unauthorized']);
    const wrong = await call(srv.url, 'POST', '/api/auth/recovery-key', { token, json: { currentAuthKey: b64(32), ...replacement } });
    expect([wrong.status, errorCode(wrong.body)]).toEqual([401, 'invalid_credentials']);
    const malformed = await call(srv.url, 'POST', '/api/auth/recovery-key', {
      token,
      json: { currentAuthKey: account.authKey, recoveryAuthKey: b64(31), recoveryBundle: replacement.recoveryBundle },
    });
    expect([malformed.status, errorCode(malformed.body)]).toEqual([400, 'invalid_request']);
    const extra = await call(srv.url, 'POST', '/api/auth/recovery-key', { token, json: { currentAuthKey: account.authKey, ...replacement, x: 1 } });
    expect(extra.status).toBe(400);
    expect((await call(srv.url, 'GET', '/api/auth/recovery-key', { token })).status).toBe(405);

    // Nothing changed: the stored recovery material is the same and the old key still starts a recovery.
    const after = (await srv.query('SELECT recovery_hash, recovery_bundle FROM users WHERE username = $1', [account.username])).rows[0];
    expect(after).toEqual(before);
    const start = await call(srv.url, 'POST', '/api/auth/recovery/start', {
      json: { username: account.username, recoveryAuthKey: account.recoveryAuthKey },
    });
    expect(start.status).toBe(200);

    // With both, it is replaced (204) and the old key is refused at once.
    const ok = await call(srv.url, 'POST', '/api/auth/recovery-key', { token, json: { currentAuthKey: account.authKey, ...replacement } });
    expect(ok.status).toBe(204);
    const old = await call(srv.url, 'POST', '/api/auth/recovery/start', {
      json: { username: account.username, recoveryAuthKey: account.recoveryAuthKey },
    });
    expect([old.status, errorCode(old.body)]).toEqual([401, 'invalid_credentials']);
    const fresh = await call(srv.url, 'POST', '/api/auth/recovery/start', {
      json: { username: account.username, recoveryAuthKey: replacement.recoveryAuthKey },
    });
    expect(fresh.body).toEqual({ recoveryBundle: replacement.recoveryBundle });

    // No key, token or bundle reaches the logs.
    const logs = srv.logs.join('\n');
    for (const secret of [account.authKey, account.recoveryAuthKey, replacement.recoveryAuthKey, replacement.recoveryBundle, token]) {
      expect(logs).not.toContain(secret);
    }
    expect(logs).toContain('recovery key replaced');
  });

  it('with the client core: the old key no longer recovers, the new one does', async () => {
    const username = uniqueName('rk');
    const laptop = new AccountClient({ baseUrl: srv.url });
    const reg = await laptop.register({ username, password: PASSWORD, kdf: KDF });

    // A wrong password fails locally (nothing sent) and changes nothing.
    expect(await codeOf(laptop.newRecoveryKey({ password: 'not the password at all' }))).toBe('wrong_password');

    const progress: number[] = [];
    const newKey = await laptop.newRecoveryKey({ password: PASSWORD, onKdfProgress: (f) => progress.push(f) });
    expect(progress.length).toBeGreaterThan(0);
    expect(newKey).toMatch(/^[0-9A-Z]{4}(-[0-9A-Z]{4}){13}$/);
    expect(newKey).not.toBe(reg.recoveryKey);
    expect((await laptop.me()).user.username).toBe(username); // this session is untouched

    // The old key fails exactly like a key that never belonged to the account.
    const randomKey = formatRecoveryKey(generateRecoveryKey());
    const tryRecover = (recoveryKey: string) =>
      codeOf(new AccountClient({ baseUrl: srv.url }).recover({ username, recoveryKey, newPassword: 'another long passphrase 99' }));
    const wrongKeyCode = await tryRecover(randomKey);
    expect(wrongKeyCode).toBe('invalid_credentials');
    expect(await tryRecover(reg.recoveryKey)).toBe(wrongKeyCode);

    // The new key recovers the same account keys.
    const phone = new AccountClient({ baseUrl: srv.url });
    const rec = await phone.recover({ username, recoveryKey: newKey, newPassword: 'granite falcon velvet 7 orchard', kdf: KDF });
    expect(rec.keys.identity.publicKey).toEqual(reg.keys.identity.publicKey);
    expect(rec.keys.sealing.secretKey).toEqual(reg.keys.sealing.secretKey);

    // The recovery revoked the laptop's session: it can no longer replace the key.
    laptop.transport.setAccessToken(null);
    expect(await codeOf(laptop.newRecoveryKey({ password: PASSWORD }))).toBe('not_signed_in');
  });
});

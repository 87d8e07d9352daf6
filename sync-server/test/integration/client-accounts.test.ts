/**
 * The real client core (shared/src/client) against the real server on port 0, with real PostgreSQL and
 * with PGlite: register, a second device, password change, recovery, and the failures users hit.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KDF_MIN } from '@parley/shared/protocol';
import { AccountClient, type AccountKeys } from '@parley/shared/client';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { codeOf, uniqueName } from '../helpers/accounts.ts';

const KDF = { alg: 'argon2id', v: 19, ...KDF_MIN } as const;

function sameKeys(a: AccountKeys, b: AccountKeys): void {
  expect(a.identity.secretKey).toEqual(b.identity.secretKey);
  expect(a.identity.publicKey).toEqual(b.identity.publicKey);
  expect(a.sealing.secretKey).toEqual(b.sealing.secretKey);
  expect(a.sealing.publicKey).toEqual(b.sealing.publicKey);
}

for (const backend of ['postgres', 'pglite'] as const) {
  describe(`client accounts against the real server (${backend})`, () => {
    let srv: TestServer;
    beforeAll(async () => {
      srv = await startTestServer({ backend });
    });
    afterAll(async () => {
      await srv?.close();
    });

    it('register -> second device -> change password -> recover -> old password fails', async () => {
      const username = uniqueName('alice');
      const password = 'violet tangent marmalade quartz';
      const laptop = new AccountClient({ baseUrl: srv.url });
      const progress: number[] = [];
      const reg = await laptop.register({ username, password, deviceName: 'laptop', kdf: KDF, onKdfProgress: (f) => progress.push(f) });
      expect(progress.length).toBeGreaterThan(0);
      expect(reg.recoveryKey).toMatch(/^[0-9A-Z]{4}(-[0-9A-Z]{4}){13}$/);
      expect((await laptop.me()).user.username).toBe(username);

      // A second device: a fresh client instance, only the password.
      const phone = new AccountClient({ baseUrl: srv.url });
      const second = await phone.login({ username: username.toUpperCase(), password, deviceName: 'phone' });
      sameKeys(second.keys, reg.keys);
      const sessions = await phone.listSessions();
      expect(sessions.map((s) => s.deviceName).sort()).toEqual(['laptop', 'phone']);
      expect(sessions.filter((s) => s.current)).toHaveLength(1);

      // Wrong password: the server refuses the auth key.
      expect(await codeOf(new AccountClient({ baseUrl: srv.url }).login({ username, password: 'not the password at all' }))).toBe(
        'invalid_credentials',
      );

      // Change password on the laptop; a wrong current password fails locally.
      const newPassword = 'obsidian lantern harbour 42 zebra';
      expect(await codeOf(laptop.changePassword({ currentPassword: 'wrong wrong wrong', newPassword }))).toBe('wrong_password');
      expect(await codeOf(laptop.changePassword({ currentPassword: password, newPassword: 'password123' }))).toBe('weak_password');
      await laptop.changePassword({ currentPassword: password, newPassword });
      expect((await laptop.me()).user.username).toBe(username); // this session's tokens were rotated
      // The phone's session was revoked by the password change: its refresh fails.
      phone.transport.setAccessToken(null);
      expect(await codeOf(phone.me())).toBe('not_signed_in');

      const third = await new AccountClient({ baseUrl: srv.url }).login({ username, password: newPassword });
      sameKeys(third.keys, reg.keys);
      expect(await codeOf(new AccountClient({ baseUrl: srv.url }).login({ username, password }))).toBe('invalid_credentials');

      // Forgotten password: recover with the recovery key (typed lower-case with spaces), rotating it.
      const fresh = new AccountClient({ baseUrl: srv.url });
      const typo = reg.recoveryKey.replace(/^./, (c) => (c === 'A' ? 'B' : 'A'));
      expect(await codeOf(fresh.recover({ username, recoveryKey: typo, newPassword: 'x' }))).toBe('bad_recovery_key');
      const recoveredPassword = 'granite falcon velvet 7 orchard';
      const rec = await fresh.recover({
        username,
        recoveryKey: reg.recoveryKey.toLowerCase().replaceAll('-', ' '),
        newPassword: recoveredPassword,
        rotateRecoveryKey: true,
        kdf: KDF,
      });
      sameKeys(rec.keys, reg.keys);
      expect(rec.recoveryKey).toBeDefined();
      expect(rec.recoveryKey).not.toBe(reg.recoveryKey);

      // Old passwords fail, the new one works and unlocks the same keys; the old recovery key is dead.
      expect(await codeOf(new AccountClient({ baseUrl: srv.url }).login({ username, password: newPassword }))).toBe('invalid_credentials');
      const after = await new AccountClient({ baseUrl: srv.url }).login({ username, password: recoveredPassword });
      sameKeys(after.keys, reg.keys);
      expect(
        await codeOf(new AccountClient({ baseUrl: srv.url }).recover({ username, recoveryKey: reg.recoveryKey, newPassword: 'another long passphrase 99' })),
      ).toBe('invalid_credentials');
      const again = await new AccountClient({ baseUrl: srv.url }).recover({
        username,
        recoveryKey: rec.recoveryKey ?? '',
        newPassword: 'another long passphrase 99',
        kdf: KDF,
      });
      sameKeys(again.keys, reg.keys);
    });

    // Refresh tokens rotate with reuse detection: if the three concurrent calls refreshed separately, the
    // second refresh would present a spent token and the server would revoke the session. So success
    // here shows the refresh was single-flight.
    it('refresh: an expired access token is refreshed single-flight from the cookie jar', async () => {
      const username = uniqueName('bob');
      let now = Date.now();
      const client = new AccountClient({ baseUrl: srv.url, now: () => now });
      await client.register({ username, password: 'copper meadow lighthouse 12', kdf: KDF });
      const first = client.transport.accessToken?.token;
      now += 60 * 60 * 1000; // past expiry as far as the client knows
      const results = await Promise.all([client.me(), client.listSessions(), client.me()]);
      expect(results[0]).toMatchObject({ user: { username } });
      expect(client.transport.accessToken?.token).not.toBe(first);
    });

    it('logout revokes the session; revokeSession signs out another device', async () => {
      const username = uniqueName('carol');
      const password = 'saffron glacier pendulum 88';
      const a = new AccountClient({ baseUrl: srv.url });
      await a.register({ username, password, deviceName: 'a', kdf: KDF });
      const b = new AccountClient({ baseUrl: srv.url });
      await b.login({ username, password, deviceName: 'b' });
      const bId = b.session?.sessionId ?? '';
      await a.revokeSession(bId);
      b.transport.setAccessToken(null);
      expect(await codeOf(b.me())).toBe('not_signed_in');
      expect((await a.listSessions()).map((s) => s.deviceName)).toEqual(['a']);
      await a.logout();
      expect(a.keys).toBeNull();
      expect(await codeOf(a.me())).toBe('not_signed_in');
    });

    it('register refuses a weak password before anything is sent, and a taken username with its code', async () => {
      const username = uniqueName('dave');
      expect(await codeOf(new AccountClient({ baseUrl: srv.url }).register({ username, password: 'password1', kdf: KDF }))).toBe(
        'weak_password',
      );
      await new AccountClient({ baseUrl: srv.url }).register({ username, password: 'amber trellis cobalt 31', kdf: KDF });
      expect(
        await codeOf(new AccountClient({ baseUrl: srv.url }).register({ username, password: 'amber trellis cobalt 32', kdf: KDF })),
      ).toBe('username_taken');
    });
  });
}

/**
 * Account walk-through against a running server, printing each step:
 *   npx tsx sync-server/scripts/account-demo.ts [baseUrl]     (default http://127.0.0.1:3000)
 * Registers a fresh user, signs in on a "second device", changes the password, recovers with the
 * recovery key, and shows that the old password fails. Uses the minimum KDF cost to stay quick.
 */
import { KDF_MIN } from '@parley/shared/protocol';
import { AccountClient, ClientError, type AccountKeys } from '@parley/shared/client';
import { toBase64Url } from '@parley/shared/protocol';

const baseUrl = process.argv[2] ?? 'http://127.0.0.1:3000';
const kdf = { alg: 'argon2id', v: 19, ...KDF_MIN } as const;
const username = `demo${Math.random().toString(36).slice(2, 8)}`;
const passwords = ['violet tangent marmalade quartz', 'obsidian lantern harbour 42 zebra', 'granite falcon velvet 7 orchard'] as const;

const fingerprint = (k: AccountKeys) => `identity ${toBase64Url(k.identity.publicKey).slice(0, 12)}…  sealing ${toBase64Url(k.sealing.publicKey).slice(0, 12)}…`;
const step = (n: number, text: string) => console.log(`\n[${n}] ${text}`);

async function main(): Promise<void> {
  console.log(`Parley account demo against ${baseUrl} as "${username}"`);

  step(1, 'register on device A (argon2id runs on the client; the server gets only authKey)');
  const a = new AccountClient({ baseUrl });
  let last = -1;
  const reg = await a.register({
    username,
    password: passwords[0],
    deviceName: 'device A',
    kdf,
    onKdfProgress: (f) => {
      const pct = Math.floor(f * 4) * 25;
      if (pct !== last) process.stdout.write(` kdf ${pct}%`);
      last = pct;
    },
  });
  console.log(`\n    session ${reg.session.sessionId}\n    keys    ${fingerprint(reg.keys)}\n    recovery key (shown once): ${reg.recoveryKey}`);

  step(2, 'sign in on device B (fresh client: prelogin -> derive -> login -> unlock bundle)');
  const b = new AccountClient({ baseUrl });
  const second = await b.login({ username, password: passwords[0], deviceName: 'device B' });
  console.log(`    keys    ${fingerprint(second.keys)}  (same: ${fingerprint(second.keys) === fingerprint(reg.keys)})`);
  for (const s of await b.listSessions()) console.log(`    session ${s.id} ${s.deviceName ?? '-'}${s.current ? ' (this one)' : ''}`);

  step(3, 'change the password on device A (same keys re-wrapped under a new salt)');
  await a.changePassword({ currentPassword: passwords[0], newPassword: passwords[1] });
  console.log(`    done; /me still works on A: ${(await a.me()).user.username}`);

  step(4, 'forgot the password: recover with the recovery key, rotating it');
  const rec = await new AccountClient({ baseUrl }).recover({
    username,
    recoveryKey: reg.recoveryKey.toLowerCase(),
    newPassword: passwords[2],
    rotateRecoveryKey: true,
    kdf,
  });
  console.log(`    keys    ${fingerprint(rec.keys)}  (same: ${fingerprint(rec.keys) === fingerprint(reg.keys)})`);
  console.log(`    new recovery key: ${rec.recoveryKey ?? '(not rotated)'}`);

  step(5, 'old passwords fail, the new one unlocks the same keys');
  for (const pw of passwords) {
    try {
      const r = await new AccountClient({ baseUrl }).login({ username, password: pw });
      console.log(`    "${pw.slice(0, 8)}…": ok, ${fingerprint(r.keys)}`);
    } catch (e) {
      if (!(e instanceof ClientError)) throw e;
      console.log(`    "${pw.slice(0, 8)}…": refused (${e.code})`);
    }
  }
  console.log('\nok');
}

main().catch((e: unknown) => {
  console.error(e instanceof ClientError ? `failed: ${e.code}: ${e.message}` : e);
  process.exit(1);
});

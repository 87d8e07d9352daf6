/** Account bundle: seal/open round trip, tamper, wrong password, key checks, and the frozen v1 fixture. */
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { KDF_MIN, PublicKeys, KdfParams } from '../src/protocol/auth.ts';
import { fromBase64Url, toBase64Url } from '../src/protocol/encoding.ts';
import {
  assertKeysMatch,
  AccountSecrets,
  deriveRecoveryKeys,
  derivePasswordKeys,
  generateAccountKeys,
  openBundle,
  parseRecoveryKey,
  publicKeysOf,
  sealBundle,
  verifyPublicKeys,
  verifyPublicKeysAsync,
  ClientError,
  type ClientErrorCode,
} from '../src/client/index.ts';
import { lp, randomBytes, seal, CONTEXT } from '../src/crypto/index.ts';
import { utf8 } from '../src/protocol/encoding.ts';
import { flipBit } from './helpers/vectors.ts';
import fixtureJson from './fixtures/account-bundle-v1.json' with { type: 'json' };

const KDF = { alg: 'argon2id', v: 19, ...KDF_MIN } as const;

function expectClientError(fn: () => unknown, code: ClientErrorCode): void {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  expect(caught).toBeInstanceOf(ClientError);
  if (caught instanceof ClientError) expect(caught.code).toBe(code);
}

describe('account bundle', () => {
  const keys = generateAccountKeys();
  const kek = randomBytes(32);

  it('round-trips keys for the same username (case-insensitive, NFKC)', () => {
    const bundle = sealBundle('account', kek, keys, 'Alice');
    const back = openBundle('account', kek, bundle, 'alice');
    expect(back.identity.secretKey).toEqual(keys.identity.secretKey);
    expect(back.identity.publicKey).toEqual(keys.identity.publicKey);
    expect(back.sealing.secretKey).toEqual(keys.sealing.secretKey);
    expect(back.sealing.publicKey).toEqual(keys.sealing.publicKey);
    expect(bundle.length).toBe(65 + 40);
  });

  it('is bound to the username, the slot and the key', () => {
    const bundle = sealBundle('account', kek, keys, 'alice');
    expectClientError(() => openBundle('account', kek, bundle, 'mallory'), 'bundle_decrypt_failed');
    expectClientError(() => openBundle('recovery', kek, bundle, 'alice'), 'bundle_decrypt_failed');
    expectClientError(() => openBundle('account', randomBytes(32), bundle, 'alice'), 'bundle_decrypt_failed');
  });

  it('every byte is authenticated', () => {
    const bundle = sealBundle('account', kek, keys, 'alice');
    for (let i = 0; i < bundle.length; i++) {
      expectClientError(() => openBundle('account', kek, flipBit(bundle, i, i % 8), 'alice'), 'bundle_decrypt_failed');
    }
    expectClientError(() => openBundle('account', kek, bundle.subarray(0, 30), 'alice'), 'bundle_decrypt_failed');
  });

  it('refuses an authenticated bundle whose content is not format v1 (zod after decryption)', () => {
    // The AAD as specified in account-crypto.ts: lp(CONTEXT.accountBundle, usernameKey).
    const aad = lp(utf8(CONTEXT.accountBundle), utf8('alice'));
    for (const body of [new Uint8Array([2, ...new Uint8Array(64)]), new Uint8Array([1, 2, 3]), new Uint8Array(0)]) {
      expectClientError(() => openBundle('account', kek, seal(kek, body, aad), 'Alice'), 'bundle_corrupt');
    }
    expect(AccountSecrets.safeParse(new Uint8Array([1, ...new Uint8Array(64)])).success).toBe(true);
  });

  it('refuses invalid usernames before touching crypto', () => {
    expectClientError(() => sealBundle('account', kek, keys, 'a'), 'invalid_input');
  });
});

describe('public keys', () => {
  const keys = generateAccountKeys();
  it('publish with a valid sealing-key signature and match their secrets', () => {
    const pub = publicKeysOf(keys);
    expect(PublicKeys.safeParse(pub).success).toBe(true);
    expect(verifyPublicKeys(pub).sealing).toEqual(keys.sealing.publicKey);
    assertKeysMatch(keys, pub);
  });
  it('refuse a forged sealing key, a bad signature, or keys of another account', () => {
    const pub = publicKeysOf(keys);
    const other = publicKeysOf(generateAccountKeys());
    expectClientError(() => verifyPublicKeys({ ...pub, sealing: other.sealing }), 'key_mismatch');
    expectClientError(
      () => verifyPublicKeys({ ...pub, sealingSig: toBase64Url(flipBit(fromBase64Url(pub.sealingSig), 5)) }),
      'key_mismatch',
    );
    expectClientError(() => assertKeysMatch(keys, other), 'key_mismatch');
    expectClientError(() => assertKeysMatch(keys, { ...other, identity: pub.identity }), 'key_mismatch');
  });
  it('the native (async) check answers the same: the keys when valid, key_mismatch for each forgery', async () => {
    const pub = publicKeysOf(keys);
    const other = publicKeysOf(generateAccountKeys());
    expect((await verifyPublicKeysAsync(pub)).sealing).toEqual(keys.sealing.publicKey);
    for (const bad of [{ ...pub, sealing: other.sealing }, { ...pub, sealingSig: toBase64Url(flipBit(fromBase64Url(pub.sealingSig), 5)) }, { ...pub, identity: other.identity }, { ...pub, sealing: 'x' }]) {
      const e = await verifyPublicKeysAsync(bad).catch((x: unknown) => x);
      expect(e).toMatchObject({ code: 'key_mismatch' });
    }
  });
});

describe('password derivation', () => {
  it('wrong password -> a different kek -> typed bundle_decrypt_failed', async () => {
    const keys = generateAccountKeys();
    const salt = randomBytes(16);
    const right = await derivePasswordKeys('correct horse battery staple', salt, KDF);
    const wrong = await derivePasswordKeys('correct horse battery stapl', salt, KDF);
    expect(right.authKey).not.toEqual(wrong.authKey);
    expect(right.authKey).not.toEqual(right.kek);
    const bundle = sealBundle('account', right.kek, keys, 'bob');
    expectClientError(() => openBundle('account', wrong.kek, bundle, 'bob'), 'bundle_decrypt_failed');
  });
  it('NFKC: composed and decomposed spellings of a password derive the same keys', async () => {
    const salt = randomBytes(16);
    const a = await derivePasswordKeys('caf\u00e9 au lait please', salt, KDF);
    const b = await derivePasswordKeys('cafe\u0301 au lait please', salt, KDF);
    expect(a.authKey).toEqual(b.authKey);
  });
  it('refuses KDF parameters below the floor (a server cannot downgrade the derivation)', async () => {
    await expect(derivePasswordKeys('x'.repeat(12), randomBytes(16), { ...KDF, m: 1024 })).rejects.toMatchObject({
      code: 'invalid_input',
    });
  });
});

const Fixture = z
  .object({
    description: z.string(),
    username: z.string(),
    password: z.string(),
    salt: z.string(),
    kdf: KdfParams,
    authKey: z.string(),
    publicKeys: PublicKeys,
    accountBundle: z.string(),
    recoveryKey: z.string(),
    recoveryAuthKey: z.string(),
    recoveryBundle: z.string(),
  })
  .strict();

describe('FROZEN fixture: account-bundle-v1.json keeps opening', () => {
  const f = Fixture.parse(fixtureJson);
  it('the password derives the same authKey and opens the bundle to the published keys', async () => {
    const pw = await derivePasswordKeys(f.password, fromBase64Url(f.salt), f.kdf);
    expect(toBase64Url(pw.authKey)).toBe(f.authKey);
    const keys = openBundle('account', pw.kek, fromBase64Url(f.accountBundle), f.username);
    assertKeysMatch(keys, f.publicKeys);
    expect(publicKeysOf(keys).identity).toBe(f.publicKeys.identity);
  });
  it('the recovery key (display form, typed in lower case with spaces) opens the recovery bundle', () => {
    const typed = f.recoveryKey.toLowerCase().replaceAll('-', ' ');
    const rk = deriveRecoveryKeys(parseRecoveryKey(typed));
    expect(toBase64Url(rk.recoveryAuthKey)).toBe(f.recoveryAuthKey);
    const keys = openBundle('recovery', rk.recoveryKek, fromBase64Url(f.recoveryBundle), f.username.toUpperCase());
    assertKeysMatch(keys, f.publicKeys);
  });
});

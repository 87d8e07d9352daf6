/**
 * Access-token negatives: every forged, mis-typed, expired or mis-scoped token is refused with 401,
 * at /api/auth/me and through `verifyAccessToken` (the function the WebSocket layer will use).
 */
import { generateKeyPairSync, randomBytes, randomUUID } from 'node:crypto';
import { SessionResponse, toBase64Url } from '@parley/shared/protocol';
import jwt from 'jsonwebtoken';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deriveServerKey, JWT_KEY_CONTEXT } from '../src/auth/tokens.ts';
import { call, errorCode, newAccount } from './helpers/accounts.ts';
import { startTestServer, type TestServer } from './helpers/server.ts';

let t: TestServer;
let session: SessionResponse;
let cookie: string;
let key: Buffer;

beforeAll(async () => {
  t = await startTestServer({ backend: 'postgres' });
  key = deriveServerKey(t.jwtSecret, JWT_KEY_CONTEXT);
  const res = await call(t.url, 'POST', '/api/auth/register', { json: newAccount().body });
  session = SessionResponse.parse(res.body);
  cookie = res.refreshCookie ?? '';
});
afterAll(async () => {
  await t?.close();
});

function claims(overrides: Record<string, unknown> = {}, omit: string[] = []): Record<string, unknown> {
  const now = Math.floor(Date.now() / 1000);
  const base: Record<string, unknown> = {
    iss: 'parley',
    aud: 'parley',
    typ: 'access',
    sub: session.user.id,
    sid: session.sessionId,
    jti: toBase64Url(randomBytes(16)),
    iat: now,
    exp: now + 300,
    ...overrides,
  };
  for (const k of omit) delete base[k];
  return base;
}

function hs256(payload: Record<string, unknown>, secret: Buffer | string = key): string {
  return jwt.sign(payload, secret, { algorithm: 'HS256' });
}

function unsigned(payload: Record<string, unknown>): string {
  const enc = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
  return `${enc({ alg: 'none', typ: 'JWT' })}.${enc(payload)}.`;
}

async function expect401(token: string) {
  const res = await call(t.url, 'GET', '/api/auth/me', { token });
  expect(res.status).toBe(401);
  expect(errorCode(res.body)).toBe('unauthorized');
  await expect(t.server.tokens.verifyAccessToken(token)).rejects.toMatchObject({ code: 'unauthorized' });
}

describe('access tokens', () => {
  it('accepts a correctly formed token (control)', async () => {
    expect((await call(t.url, 'GET', '/api/auth/me', { token: hs256(claims()) })).status).toBe(200);
    expect(await t.server.tokens.verifyAccessToken(session.accessToken)).toEqual({
      userId: session.user.id,
      sessionId: session.sessionId,
    });
  });

  it('carries the pinned header and all required claims', () => {
    const decoded = jwt.decode(session.accessToken, { complete: true });
    expect(decoded?.header).toEqual({ alg: 'HS256', typ: 'JWT' });
    expect(Object.keys(Object(decoded?.payload)).sort()).toEqual(['aud', 'exp', 'iat', 'iss', 'jti', 'sid', 'sub', 'typ']);
  });

  const cases: Array<[string, () => string]> = [
    ['alg none', () => unsigned(claims())],
    ['HS512 with the right key', () => jwt.sign(claims(), key, { algorithm: 'HS512' })],
    [
      'RS256',
      () => {
        const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
        return jwt.sign(claims(), privateKey, { algorithm: 'RS256' });
      },
    ],
    ['wrong key', () => hs256(claims(), randomBytes(32))],
    ['the raw JWT_SECRET instead of the derived key', () => hs256(claims(), t.jwtSecret)],
    ['wrong audience', () => hs256(claims({ aud: 'someone-else' }))],
    ['wrong issuer', () => hs256(claims({ iss: 'evil' }))],
    ['typ refresh', () => hs256(claims({ typ: 'refresh' }))],
    ['missing typ', () => hs256(claims({}, ['typ']))],
    ['missing exp', () => hs256(claims({}, ['exp']))],
    ['expired', () => hs256(claims({ iat: Math.floor(Date.now() / 1000) - 700, exp: Math.floor(Date.now() / 1000) - 10 }))],
    ['missing iat', () => jwt.sign(claims({}, ['iat']), key, { algorithm: 'HS256', noTimestamp: true })],
    ['missing jti', () => hs256(claims({}, ['jti']))],
    ['missing sid', () => hs256(claims({}, ['sid']))],
    ['unknown session', () => hs256(claims({ sid: randomUUID() }))],
    ['session of another user', () => hs256(claims({ sub: randomUUID() }))],
    ['extra claim', () => hs256(claims({ admin: true }))],
    ['tampered payload', () => {
      const [h, , s] = session.accessToken.split('.');
      return `${h}.${Buffer.from(JSON.stringify(claims({ sub: randomUUID() }))).toString('base64url')}.${s}`;
    }],
    ['the opaque refresh token', () => cookie],
    ['garbage', () => 'not.a.jwt'],
  ];

  it.each(cases)('refuses %s', async (_name, make) => {
    await expect401(make());
  });

  it('refuses a malformed Authorization header', async () => {
    for (const header of [`Basic ${session.accessToken}`, `Bearer`, `Bearer ${session.accessToken} extra`, `bearer${session.accessToken}`]) {
      const res = await call(t.url, 'GET', '/api/auth/me', { headers: { authorization: header } });
      expect(res.status, header).toBe(401);
    }
  });

  it('refuses a valid token once its session is revoked', async () => {
    const token = hs256(claims());
    expect((await call(t.url, 'POST', '/api/auth/logout', { token })).status).toBe(204);
    await expect401(token);
  });
});

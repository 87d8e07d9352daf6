/**
 * DESIGN §3: logout, password change and "sign out other devices" close the revoked sessions' open sockets
 * (not only at the next token re-check).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { docNameFor, SessionResponse } from '@parley/shared/protocol';
import { call, newAccount } from '../helpers/accounts.ts';
import { connectProvider, startSyncTestServer, waitFor, type TestProvider } from './support.ts';

describe('revoked sessions lose their sockets at once', () => {
  let srv: Awaited<ReturnType<typeof startSyncTestServer>>;
  const providers: TestProvider[] = [];
  beforeAll(async () => {
    srv = await startSyncTestServer({ backend: 'postgres' });
  });
  afterAll(async () => {
    for (const p of providers) p.destroy();
    await srv?.close();
  });

  async function twoSessions() {
    const account = newAccount();
    const reg = SessionResponse.parse((await call(srv.url, 'POST', '/api/auth/register', { json: account.body })).body);
    const login = SessionResponse.parse((await call(srv.url, 'POST', '/api/auth/login', { json: { username: account.username, authKey: account.authKey } })).body);
    return { userId: reg.user.id, a: reg, b: login };
  }

  it('deleting another session closes its inbox connection with "unauthorized"; the current one stays', async () => {
    const { userId, a, b } = await twoSessions();
    const inbox = docNameFor('i', userId);
    const onB = connectProvider(srv.url, b.accessToken, inbox);
    const onA = connectProvider(srv.url, a.accessToken, inbox);
    providers.push(onA, onB);
    await waitFor(() => onB.authenticated.length > 0 && onA.authenticated.length > 0, 10_000, 'both authenticated');
    const res = await call(srv.url, 'DELETE', `/api/auth/sessions/${b.sessionId}`, { token: a.accessToken });
    expect(res.status).toBe(204);
    await waitFor(() => onB.closes.includes('unauthorized'), 5_000, 'session B closed');
    await new Promise((r) => setTimeout(r, 300));
    expect(onA.closes).toEqual([]);
  });

  it('logout closes the session\u2019s sockets', async () => {
    const { userId, b } = await twoSessions();
    const onB = connectProvider(srv.url, b.accessToken, docNameFor('i', userId));
    providers.push(onB);
    await waitFor(() => onB.authenticated.length > 0, 10_000, 'authenticated');
    expect((await call(srv.url, 'POST', '/api/auth/logout', { token: b.accessToken, json: {} })).status).toBe(204);
    await waitFor(() => onB.closes.includes('unauthorized'), 5_000, 'closed after logout');
  });
});

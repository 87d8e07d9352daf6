/** The logger redacts by field name at any depth, masks JWT-shaped strings, and honours levels. */
import { describe, expect, it } from 'vitest';
import { createLogger, REDACTED, redact } from '../src/log.ts';

function capture(level: 'debug' | 'info' | 'warn' | 'error' = 'debug') {
  const lines: string[] = [];
  const log = createLogger({ level, sink: (l) => lines.push(l), now: () => new Date(0) });
  return { log, lines };
}

describe('redacting logger', () => {
  it('redacts sensitive field names case-insensitively and recursively', () => {
    const input = {
      password: 'p', authKey: 'a', currentAuthKey: 'c', recoveryAuthKey: 'r', token: 't', accessToken: 'at',
      refreshToken: 'rt', Cookie: 'ck', Authorization: 'Bearer x', JWT_SECRET: 's', key: 'k', publicKeys: { identity: 'i' },
      accountBundle: 'b', recovery_bundle: 'rb', salt: 'sa', body: { x: 1 }, text: 'hello', content: 'c', plaintext: 'pt',
      nested: { deeper: [{ sealingKey: 'sk', ok: 'visible' }] },
      userId: 'u-1', method: 'POST', status: 401,
    };
    const out = JSON.stringify(redact(input));
    for (const secret of ['"p"', '"a"', '"at"', '"rt"', '"ck"', 'Bearer x', '"sk"', '"hello"', '"pt"', '"rb"', '"sa"', '"i"']) {
      expect(out).not.toContain(secret);
    }
    expect(out).toContain('"ok":"visible"');
    expect(out).toContain('"userId":"u-1"');
    expect(out).toContain('"status":401');
    expect(out.split(REDACTED).length - 1).toBeGreaterThanOrEqual(19);
  });

  it('masks JWT-shaped strings anywhere, including messages and error stacks', () => {
    const { log, lines } = capture();
    const jwt = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl';
    log.warn(`bad token ${jwt}`, { err: new Error(`token was ${jwt}`), path: `/x/${jwt}` });
    expect(lines.join()).not.toContain(jwt);
    expect(lines.join()).toContain(REDACTED);
  });

  it('writes one JSON object per line with time, level and msg, and filters by level', () => {
    const { log, lines } = capture('info');
    log.debug('hidden');
    log.info('shown', { a: 1 });
    log.child({ requestId: 'r1' }).error('boom');
    expect(lines).toHaveLength(2);
    expect(JSON.parse(lines[0] ?? '')).toEqual({ time: '1970-01-01T00:00:00.000Z', level: 'info', msg: 'shown', a: 1 });
    expect(JSON.parse(lines[1] ?? '')).toMatchObject({ level: 'error', msg: 'boom', requestId: 'r1' });
  });

  it('survives cycles, buffers and bigints', () => {
    const cyclic: Record<string, unknown> = { name: 'x' };
    cyclic['self'] = cyclic;
    const { log, lines } = capture();
    log.info('odd', { cyclic, buf: Buffer.alloc(4), n: 10n });
    const parsed = JSON.parse(lines[0] ?? '');
    expect(parsed.cyclic.self).toBe('[circular]');
    expect(parsed.buf).toBe('[4 bytes]');
    expect(parsed.n).toBe('10');
  });
});

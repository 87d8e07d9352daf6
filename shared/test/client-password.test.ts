/** Client-side password policy. */
import { describe, expect, it } from 'vitest';
import { checkPasswordStrength, PASSWORD_MIN_LENGTH } from '../src/client/index.ts';

describe('password strength', () => {
  it.each(['password', 'password123', '123456789012', 'qwertyuiop', 'iloveyou12', 'Password1!', 'letmein2024'])(
    'refuses the common or guessable password %s',
    async (pw) => {
      const r = await checkPasswordStrength(pw);
      expect(r.acceptable).toBe(false);
      expect(r.score).toBeLessThanOrEqual(1);
      expect(r.problems.some((p) => p === 'common' || p === 'too_guessable' || p === 'too_short')).toBe(true);
    },
  );

  it('flags a whole-password match in the common-password list as "common"', async () => {
    const r = await checkPasswordStrength('1234567890');
    expect(r.problems).toContain('common');
  });

  it('refuses passwords shorter than the minimum, even random-looking ones', async () => {
    const r = await checkPasswordStrength('xK9#mQ2$v');
    expect(r.problems).toContain('too_short');
    expect(r.acceptable).toBe(false);
    expect(PASSWORD_MIN_LENGTH).toBe(10);
  });

  it('refuses a password containing the username (case-insensitive)', async () => {
    const r = await checkPasswordStrength('my Alice.Walker password is long', { username: 'alice.walker' });
    expect(r.problems).toContain('contains_username');
    expect(r.acceptable).toBe(false);
  });

  it('accepts long unpredictable passphrases and gives a high score', async () => {
    for (const pw of ['correct horse battery staple', 'violet-tangent-marmalade-quartz', 'fT7#pL2!vQ9@zR']) {
      const r = await checkPasswordStrength(pw, { username: 'bob' });
      expect(r.problems).toEqual([]);
      expect(r.acceptable).toBe(true);
      expect(r.score).toBeGreaterThanOrEqual(3);
    }
  });

  it('gives English feedback for a meter', async () => {
    const r = await checkPasswordStrength('password1');
    expect(typeof r.warning).toBe('string');
    expect(r.warning!.length).toBeGreaterThan(5);
    expect(r.warning).not.toMatch(/^[a-z]+$/); // a translated sentence, not a translation key
  });
});

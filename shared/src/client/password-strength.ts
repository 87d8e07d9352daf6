/**
 * Client-side password policy (the server never sees the password, so only the client can check it).
 *
 * A password is acceptable when it is at least `PASSWORD_MIN_LENGTH` code points (after NFKC, the form
 * that is hashed), at most `PASSWORD_MAX_LENGTH`, does not contain the username, is not a known common
 * password, and zxcvbn (@zxcvbn-ts, with its common-password, English and keyboard-pattern dictionaries)
 * scores it at least `PASSWORD_MIN_SCORE` (>= 10^8 guesses). The dictionaries are large, so they load
 * lazily on the first check (a separate chunk in the app bundle).
 */
import { normalizeUsername, usernameKey } from '../protocol/username.ts';

/** Shortest acceptable password, in code points. */
export const PASSWORD_MIN_LENGTH = 10;
/** Longest accepted password, in code points (argon2 takes any length; this bounds UI and KDF input). */
export const PASSWORD_MAX_LENGTH = 1024;
/** Lowest acceptable zxcvbn score (3: "safely unguessable", about 10^8 guesses or more). */
export const PASSWORD_MIN_SCORE = 3;

/** Why a password is refused; stable codes the UI can translate. */
export type PasswordProblem = 'too_short' | 'too_long' | 'contains_username' | 'common' | 'too_guessable';

/** Result for a strength meter. */
export interface PasswordStrength {
  /** zxcvbn score: 0 (too guessable) .. 4 (very unguessable). Forced to at most 1 when a rule fails. */
  score: 0 | 1 | 2 | 3 | 4;
  /** True when `problems` is empty: the password may be used. */
  acceptable: boolean;
  problems: PasswordProblem[];
  /** zxcvbn's main warning in English, or null. */
  warning: string | null;
  /** zxcvbn's suggestions in English. */
  suggestions: string[];
  /** log10 of the estimated guesses. */
  guessesLog10: number;
}

interface Checker {
  check(password: string, userInputs?: (string | number)[]): {
    score: number;
    guessesLog10: number;
    feedback: { warning: string | null; suggestions: string[] };
    sequence: ReadonlyArray<{ pattern: string; i: number; j: number; dictionaryName?: string }>;
  };
}

let checker: Promise<Checker> | null = null;

async function loadChecker(): Promise<Checker> {
  const [core, common, en] = await Promise.all([
    import('@zxcvbn-ts/core'),
    import('@zxcvbn-ts/language-common'),
    import('@zxcvbn-ts/language-en'),
  ]);
  return new core.ZxcvbnFactory({
    translations: en.translations,
    graphs: common.adjacencyGraphs,
    dictionary: { ...common.dictionary, ...en.dictionary },
  });
}

function getChecker(): Promise<Checker> {
  checker ??= loadChecker().catch((e: unknown) => {
    checker = null;
    throw e;
  });
  return checker;
}

function clampScore(n: number): PasswordStrength['score'] {
  if (n <= 0) return 0;
  if (n >= 4) return 4;
  return n === 1 ? 1 : n === 2 ? 2 : 3;
}

/**
 * Scores `password` and lists every rule it breaks. `username` (as typed) is checked case-insensitively
 * and fed to zxcvbn as user input. Never throws for any string input; rejects only if the dictionaries
 * cannot be loaded.
 */
export async function checkPasswordStrength(password: string, options: { username?: string } = {}): Promise<PasswordStrength> {
  const normalized = password.normalize('NFKC');
  const length = [...normalized].length;
  const problems: PasswordProblem[] = [];
  if (length < PASSWORD_MIN_LENGTH) problems.push('too_short');
  if (length > PASSWORD_MAX_LENGTH) problems.push('too_long');
  const userKey = options.username ? usernameKey(normalizeUsername(options.username)) : '';
  if (userKey.length >= 3 && normalized.toLowerCase().includes(userKey)) problems.push('contains_username');

  const zxcvbn = await getChecker();
  const result = zxcvbn.check(normalized, userKey ? [userKey, 'parley'] : ['parley']);
  const wholeIsCommon = result.sequence.some(
    (m) => m.pattern === 'dictionary' && (m.dictionaryName ?? '').startsWith('passwords') && m.i === 0 && m.j >= normalized.length - 1,
  );
  if (wholeIsCommon) problems.push('common');
  if (result.score < PASSWORD_MIN_SCORE) problems.push('too_guessable');

  const score = problems.length > 0 ? clampScore(Math.min(result.score, 1)) : clampScore(result.score);
  return {
    score,
    acceptable: problems.length === 0,
    problems,
    warning: result.feedback.warning,
    suggestions: [...result.feedback.suggestions],
    guessesLog10: result.guessesLog10,
  };
}

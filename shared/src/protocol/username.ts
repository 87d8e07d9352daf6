/**
 * Usernames: the one rule set shared by client and server.
 *
 * - Normalised with NFKC, so visually identical compositions are one name.
 * - 3 to 32 code points after normalisation.
 * - Letters (any script), combining marks, decimal digits, and `_`, `.`, `-`.
 *   Must start and end with a letter or digit; no two punctuation characters in a row.
 * - Letters come from a single script (Latin, Greek, Cyrillic, Han+Kana+Hangul count as one "CJK"
 *   family, and so on), so `pаypal` with a Cyrillic `а` is refused rather than shadowing `paypal`.
 * - Uniqueness is case-insensitive: the key is NFKC(lowercase(NFKC(name))).
 */
import { z } from 'zod';

export const USERNAME_MIN = 3;
export const USERNAME_MAX = 32;

const ALLOWED = /^[\p{L}\p{M}\p{Nd}_.-]+$/u;
const EDGE = /^[\p{L}\p{Nd}].*[\p{L}\p{M}\p{Nd}]$|^[\p{L}\p{Nd}]$/u;
const DOUBLE_PUNCT = /[_.-]{2}/;

const SCRIPT_FAMILIES: ReadonlyArray<readonly [string, RegExp]> = [
  ['latin', /\p{Script=Latin}/u],
  ['greek', /\p{Script=Greek}/u],
  ['cyrillic', /\p{Script=Cyrillic}/u],
  ['armenian', /\p{Script=Armenian}/u],
  ['hebrew', /\p{Script=Hebrew}/u],
  ['arabic', /\p{Script=Arabic}/u],
  ['devanagari', /\p{Script=Devanagari}/u],
  ['bengali', /\p{Script=Bengali}/u],
  ['thai', /\p{Script=Thai}/u],
  ['georgian', /\p{Script=Georgian}/u],
  ['cjk', /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}\p{Script=Bopomofo}]/u],
  ['ethiopic', /\p{Script=Ethiopic}/u],
  ['tamil', /\p{Script=Tamil}/u],
];

/** Why a username was refused (stable codes, shown to users by the client). */
export type UsernameProblem = 'too_short' | 'too_long' | 'bad_characters' | 'bad_edges' | 'mixed_scripts';

/** NFKC-normalises a username as typed (trims surrounding whitespace). */
export function normalizeUsername(input: string): string {
  return input.trim().normalize('NFKC');
}

/** The case-insensitive uniqueness key of an already-normalised username. */
export function usernameKey(normalized: string): string {
  return normalized.toLowerCase().normalize('NFKC');
}

/** Checks a normalised username; returns null when acceptable, else the first problem found. */
export function usernameProblem(normalized: string): UsernameProblem | null {
  const length = [...normalized].length;
  if (length < USERNAME_MIN) return 'too_short';
  if (length > USERNAME_MAX) return 'too_long';
  if (!ALLOWED.test(normalized)) return 'bad_characters';
  if (!EDGE.test(normalized) || DOUBLE_PUNCT.test(normalized)) return 'bad_edges';
  const families = new Set<string>();
  for (const ch of normalized) {
    if (!/\p{L}/u.test(ch)) continue;
    const family = SCRIPT_FAMILIES.find(([, re]) => re.test(ch))?.[0] ?? 'other';
    families.add(family);
  }
  if (families.size > 1) return 'mixed_scripts';
  return null;
}

const PROBLEM_TEXT: Record<UsernameProblem, string> = {
  too_short: `Username must be at least ${USERNAME_MIN} characters`,
  too_long: `Username must be at most ${USERNAME_MAX} characters`,
  bad_characters: 'Username may contain letters, digits, "_", "." and "-" only',
  bad_edges: 'Username must start and end with a letter or digit, without repeated punctuation',
  mixed_scripts: 'Username must not mix letters from different scripts',
};

/** Human-readable text for a username problem. */
export function usernameProblemText(problem: UsernameProblem): string {
  return PROBLEM_TEXT[problem];
}

/**
 * zod schema: accepts any string of at most 128 UTF-16 units, normalises it, and refuses it with the
 * problem text when it breaks a rule. Output is the normalised (display) form.
 */
export const Username = z
  .string()
  .max(128)
  .transform((s) => normalizeUsername(s))
  .superRefine((s, ctx) => {
    const problem = usernameProblem(s);
    if (problem) ctx.addIssue({ code: 'custom', message: usernameProblemText(problem), params: { problem } });
  });

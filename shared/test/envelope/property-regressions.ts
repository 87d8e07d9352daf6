/**
 * Failing seeds found by the convergence property, pinned so they run on every test run ([TEST-2]).
 * When property.test.ts fails, fast-check prints `seed` and `path`: add them here with a one-line note
 * saying what broke, fix the bug, and keep the entry.
 */
export const REGRESSION_SEEDS: Array<{ seed: number; path?: string; note: string }> = [];

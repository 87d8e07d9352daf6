import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['shared/test/**/*.test.ts', 'sync-server/test/**/*.test.ts', 'scripts/test/**/*.test.ts', 'app/test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // Two cores: more parallel files only adds contention (PGlite and argon2 are CPU-bound).
    maxWorkers: 2,
  },
});

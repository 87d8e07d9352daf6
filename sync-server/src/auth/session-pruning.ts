/**
 * Pruning of dead account rows. Refresh tokens rotate on every refresh and sessions are revoked rather than
 * deleted (reuse detection needs the used tokens), so both tables only grow unless something removes what
 * can no longer be presented. Everything pruned is older than a refresh token's lifetime:
 *
 * - refresh tokens created before `now - REFRESH_TOKEN_TTL` (`refresh` already rejects them as expired, so
 *   reuse detection for them has nothing left to protect);
 * - sessions revoked before that cutoff (their tokens were dead at revocation);
 * - live sessions not used (refreshed) and given no token since that cutoff: every token they hold has
 *   expired, so the device must sign in again anyway, and access tokens live minutes, not days.
 *
 * Passes delete in bounded batches and are idempotent, so several instances may run them at once.
 */
import type { Database } from '../db/database.ts';
import { pruneSessionRows, type PruneTarget } from '../db/sessions.ts';
import type { Logger } from '../log.ts';
import type { Metrics } from '../metrics.ts';
import { runPeriodically } from '../periodic.ts';
import { REFRESH_TOKEN_TTL_SECONDS } from './accounts.ts';

/** Rows deleted by one pass, per kind. */
export type PruneResult = Record<PruneTarget, number>;

const TARGETS: readonly PruneTarget[] = ['tokens', 'revoked_sessions', 'idle_sessions'];

/** One pruning pass at time `now` (ms). `batch` bounds each DELETE; the pass loops until a batch comes back short. */
export async function pruneSessions(db: Database, now: number, batch = 500): Promise<PruneResult> {
  const before = new Date(now - REFRESH_TOKEN_TTL_SECONDS * 1000);
  const result: PruneResult = { tokens: 0, revoked_sessions: 0, idle_sessions: 0 };
  for (const target of TARGETS) {
    for (;;) {
      const n = await pruneSessionRows(db, target, before, batch);
      result[target] += n;
      if (n < batch) break;
    }
  }
  return result;
}

/** How often the server prunes (hourly; the cutoff is 30 days, so the exact moment does not matter). */
export const SESSION_PRUNE_INTERVAL_MS = 3600_000;

/** Runs `pruneSessions` every `intervalMs` in the background (see `runPeriodically`); returns its stop function. */
export function startSessionPruning(
  db: Database,
  log: Logger,
  metrics: Metrics | null,
  intervalMs = SESSION_PRUNE_INTERVAL_MS,
  now: () => number = Date.now,
): () => Promise<void> {
  const pruned = metrics?.counter('parley_account_rows_pruned_total', 'Expired refresh tokens and dead sessions deleted, by kind') ?? null;
  return runPeriodically('session pruning', intervalMs, log, async () => {
    const r = await pruneSessions(db, now());
    for (const target of TARGETS) if (r[target] > 0) pruned?.inc({ kind: target }, r[target]);
    if (r.tokens + r.revoked_sessions + r.idle_sessions > 0) log.info('account rows pruned', r);
  });
}

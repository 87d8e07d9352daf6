/**
 * Background jobs on a timer (blob garbage collection, session pruning): one pass every `intervalMs` on an
 * unref'd timer, so the job never keeps the process alive; passes never overlap (a tick during a pass is
 * skipped); a failed pass is logged as a warning and the next tick tries again. The returned stop function
 * clears the timer and waits for a pass in progress, so shutdown never cuts one off midway.
 */
import type { Logger } from './log.ts';

/** Starts `pass` every `intervalMs` (first run one interval from now); `name` labels failures in the log. */
export function runPeriodically(name: string, intervalMs: number, log: Logger, pass: () => Promise<unknown>): () => Promise<void> {
  let running: Promise<unknown> | null = null;
  const timer = setInterval(() => {
    if (running) return;
    running = pass()
      .catch((error: unknown) => log.warn(`${name} failed`, { err: error }))
      .finally(() => {
        running = null;
      });
  }, intervalMs);
  timer.unref();
  return async () => {
    clearInterval(timer);
    await running;
  };
}

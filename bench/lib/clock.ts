/**
 * One clock for every process of a bench run. `monoNow()` reads CLOCK_MONOTONIC (libuv's hrtime), which is
 * the same clock in every process on a machine, so a receiver child's arrival time and the sender's send
 * time subtract directly.
 *
 * Why not `performance.timeOrigin + performance.now()` (`now()` in context.ts): each process fixes its
 * `timeOrigin` at start from two separate clock reads (wall clock and hrtime); a preemption between them
 * shifts that process's origin. Usually the processes agree within 0.1 ms, but on the loaded 2-core bench
 * machine a child started 10 ms off, which would land in every latency it records.
 */
export const monoNow = (): number => Number(process.hrtime.bigint()) / 1e6;

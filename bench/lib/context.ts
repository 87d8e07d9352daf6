/** What run.ts hands to each scenario. */
import { ServerProc, createDatabase } from './proc.ts';

export interface Ctx {
  quick: boolean;
  log: (s: string) => void;
}

export const now = () => performance.timeOrigin + performance.now();

/**
 * Starts one server of `kind` on a fresh database, runs `fn`, always stops and drops. `nodeFlags` replaces
 * the server's default Node flags, `env` adds variables (see `ServerProc.start`).
 */
export async function withServer<T>(
  kind: 'parley' | 'baseline',
  fn: (s: ServerProc) => Promise<T>,
  opts: { nodeFlags?: readonly string[]; env?: Record<string, string> } = {},
): Promise<T> {
  const db = await createDatabase(`bench_${kind}`);
  let server: ServerProc | undefined;
  try {
    server = await ServerProc.start(kind, db.url, opts);
    return await fn(server);
  } finally {
    await server?.stop().catch(() => undefined);
    await db.drop().catch(() => undefined);
  }
}

/** Bench-process CPU over a window, in cores. */
export function clientCpu(): () => number {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  return () => {
    const d = process.cpuUsage(c0);
    return (d.user + d.system) / 1000 / Math.max(1, performance.now() - t0);
  };
}

/**
 * Frame identity: the last 16 bytes of its Ed25519 signature (the frame's last 64 bytes). Unique per frame,
 * unlike the header's (userId, deviceId, counter), which repeats in every segment (counters restart).
 */
export function frameKey(frame: unknown): string | undefined {
  if (!(frame instanceof Uint8Array) || frame.length < 110) return undefined;
  return Buffer.from(frame.subarray(frame.length - 16)).toString('hex');
}

/** The Parley server's own "persist before ack" latency (GET /metrics, last 1,024 updates), in ms. */
export async function storeLatency(baseUrl: string): Promise<{ p50: number; p99: number; mean: number; count: number }> {
  try {
    const text = await (await fetch(`${baseUrl}/metrics`)).text();
    const get = (re: RegExp) => Number(re.exec(text)?.[1] ?? NaN);
    const sum = get(/^parley_sync_store_seconds_sum (\S+)/m);
    const count = get(/^parley_sync_store_seconds_count (\S+)/m);
    return {
      p50: get(/^parley_sync_store_seconds\{quantile="0.5"\} (\S+)/m) * 1000,
      p99: get(/^parley_sync_store_seconds\{quantile="0.99"\} (\S+)/m) * 1000,
      mean: (sum / count) * 1000,
      count,
    };
  } catch {
    return { p50: NaN, p99: NaN, mean: NaN, count: 0 };
  }
}

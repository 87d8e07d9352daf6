/**
 * Receiver children: a scenario's receiving members in processes of their own (`bench/receivers/child.ts`),
 * so the bench process that sends does nothing else. Spawned like the server children (this Node,
 * `--import tsx`), driven over IPC (`bench/receivers/protocol.ts`).
 *
 * Every wait is bounded: each request has a timeout, and a child that exits (crash, kill) fails every
 * pending and later request with its exit code and the tail of its stderr. `withReceivers` always ends the
 * children, also when the scenario throws.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { cpuProfileFlags } from './cpu-profile.ts';
import path from 'node:path';
import type { z } from 'zod';
import { monoNow as now } from './clock.ts';
import { withTimeout } from '@parley/shared/client';
import {
  AttachResult,
  ClockResult,
  IPC_VERSION,
  OpenedResult,
  ProgressResult,
  Ready,
  Reply,
  ReportResult,
  CloseResult,
  type CommandBody,
} from '../receivers/protocol.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');
const ENTRY = path.join(ROOT, 'bench/receivers/child.ts');
const START_MS = 60_000;
const STDERR_TAIL = 4_000;

/** A running receiver child. */
export class ReceiverProc {
  #seq = 0;
  #failure: Error | undefined;
  #stderr = '';
  readonly #waiting = new Map<number, { resolve: (r: Reply) => void; reject: (e: Error) => void }>();
  readonly #exited: Promise<void>;

  private constructor(
    readonly label: string,
    readonly child: ChildProcess,
  ) {
    child.stderr?.on('data', (d: Buffer) => {
      const s = d.toString();
      this.#stderr = (this.#stderr + s).slice(-STDERR_TAIL);
      process.stderr.write(`[receivers:${label}] ${s.slice(0, 2000)}`);
    });
    child.on('message', (m: unknown) => {
      const r = Reply.safeParse(m);
      if (!r.success) return; // the ready message, or noise: requests time out rather than hang
      const w = this.#waiting.get(r.data.id);
      this.#waiting.delete(r.data.id);
      w?.resolve(r.data);
    });
    this.#exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        this.#fail(new Error(`receiver child ${label} exited (code ${code}, signal ${signal})${this.#stderr ? `; stderr: ${this.#stderr.slice(-1000)}` : ''}`));
        resolve();
      });
    });
    child.once('error', (e) => this.#fail(new Error(`receiver child ${label}: ${e.message}`, { cause: e })));
  }

  #fail(e: Error): void {
    this.#failure ??= e;
    for (const w of this.#waiting.values()) w.reject(this.#failure);
    this.#waiting.clear();
  }

  /** Spawns a child and waits (at most 60 s) until it has loaded its modules. Throws if it exits first. */
  static async start(label: string): Promise<ReceiverProc> {
    const child = spawn(process.execPath, [...cpuProfileFlags(`receivers-${label}`), '--import', 'tsx', ENTRY], {
      cwd: ROOT,
      env: { PATH: process.env['PATH'] ?? '', HOME: process.env['HOME'] ?? '/tmp', NODE_ENV: 'production' },
      stdio: ['ignore', 'inherit', 'pipe', 'ipc'],
      serialization: 'advanced',
    });
    const proc = new ReceiverProc(label, child);
    try {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`receiver child ${label} did not start in ${START_MS / 1000} s`)), START_MS);
        const onMessage = (m: unknown) => {
          if (!Ready.safeParse(m).success) return;
          clearTimeout(timer);
          child.off('message', onMessage);
          resolve();
        };
        child.on('message', onMessage);
        void proc.#exited.then(() => {
          clearTimeout(timer);
          reject(proc.#failure);
        });
      });
    } catch (e) {
      await proc.stop();
      throw e;
    }
    return proc;
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  /** Throws the child's failure, if it has failed (exited, or could not be spawned). */
  assertAlive(): void {
    if (this.#failure) throw this.#failure;
  }

  /** Sends `body`, resolves with the child's result parsed by `schema`; rejects on error, timeout or exit. */
  async request<S extends z.ZodType>(body: CommandBody, schema: S, timeoutMs: number): Promise<z.infer<S>> {
    this.assertAlive();
    const id = ++this.#seq;
    const reply = await new Promise<Reply>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiting.delete(id);
        reject(new Error(`receiver child ${this.label}: ${body.cmd} timed out after ${timeoutMs / 1000} s`));
      }, timeoutMs);
      this.#waiting.set(id, {
        resolve: (r) => (clearTimeout(timer), resolve(r)),
        reject: (e) => (clearTimeout(timer), reject(e)),
      });
      this.child.send({ v: IPC_VERSION, id, ...body }, (e) => {
        if (e) this.#fail(new Error(`receiver child ${this.label}: IPC send failed: ${e.message}`, { cause: e }));
      });
    });
    if (!reply.ok) throw new Error(`receiver child ${this.label}: ${body.cmd} failed: ${reply.error}`);
    return schema.parse(reply.result);
  }

  /** Opens one bare member socket per access token, attached to `segmentId`; waits ≤ 30 s for their syncs. */
  openWire(baseUrl: string, tokens: string[], segmentId: string) {
    return this.request({ cmd: 'wire', baseUrl, tokens, segmentId }, OpenedResult, 120_000);
  }

  /** Attaches every wire member to `segmentId` as well (rollover), each after a random delay of up to `jitterMs`. */
  attach(segmentId: string, jitterMs = 0) {
    return this.request({ cmd: 'attach', segmentId, jitterMs }, AttachResult, 30_000);
  }

  /** Logs each user in on a new device, starts a full client and opens `convId`. */
  openFull(baseUrl: string, usernames: string[], convId: string) {
    return this.request({ cmd: 'full', baseUrl, usernames, convId }, OpenedResult, 180_000);
  }

  /** Opens `count` baseline providers on document `name`; waits ≤ 30 s for their syncs. */
  openBaseline(wsUrl: string, name: string, count: number) {
    return this.request({ cmd: 'baseline', wsUrl, name, count }, OpenedResult, 60_000);
  }

  /** See `ProgressResult`. */
  progress(msgIds: string[], frameKeys: string[]) {
    return this.request({ cmd: 'progress', msgIds, frameKeys }, ProgressResult, 30_000);
  }

  /** Every arrival the child recorded. */
  report() {
    return this.request({ cmd: 'report' }, ReportResult, 60_000);
  }

  /**
   * The child's clock minus this process's (`now()` on both sides), from the round trip with the smallest
   * delay of `rounds`; `rtt` bounds the error (± rtt / 2).
   */
  async clockOffset(rounds = 20): Promise<{ offset: number; rtt: number }> {
    let best = { offset: NaN, rtt: Infinity };
    for (let i = 0; i < rounds; i++) {
      const t1 = now();
      const { now: tc } = await this.request({ cmd: 'clock' }, ClockResult, 10_000);
      const t2 = now();
      if (t2 - t1 < best.rtt) best = { offset: tc - (t1 + t2) / 2, rtt: t2 - t1 };
    }
    return best;
  }

  /** Closes every socket and client in the child and forgets its arrivals (between phases). */
  close() {
    return this.request({ cmd: 'close' }, CloseResult, 30_000);
  }

  /** Asks the child to close its sockets (≤ 10 s), then ends it (SIGTERM, SIGKILL after 5 s). Never throws. */
  async stop(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null && !this.#failure)
      await this.request({ cmd: 'close' }, CloseResult, 10_000).catch(() => undefined);
    if (this.child.exitCode === null && this.child.signalCode === null) {
      this.child.kill('SIGTERM');
      const t = setTimeout(() => this.child.kill('SIGKILL'), 5_000);
      await withTimeout(this.#exited, 10_000);
      clearTimeout(t);
    }
  }
}

/** Starts one receiver child per label, runs `fn`, always ends every child (also when starting one fails). */
export async function withReceivers<T>(labels: readonly string[], fn: (procs: ReceiverProc[]) => Promise<T>): Promise<T> {
  const started = await Promise.allSettled(labels.map((l) => ReceiverProc.start(l)));
  const procs = started.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
  try {
    const failed = started.find((s) => s.status === 'rejected');
    if (failed) throw failed.reason;
    return await fn(procs);
  } finally {
    await Promise.all(procs.map((p) => p.stop()));
  }
}

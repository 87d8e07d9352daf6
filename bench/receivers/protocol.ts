/**
 * IPC between the bench process and a receiver child (`bench/receivers/child.ts`, driven through
 * `ReceiverProc` in `bench/lib/receivers.ts`). Version 1. Every command carries a request id; the child
 * answers each with one `Reply` of the same id. Both ends parse what they receive with these schemas.
 *
 * Timestamps in replies are the child's `monoNow()` (bench/lib/clock.ts, ms on the machine's monotonic
 * clock), comparable with the bench process's on one machine; `clock` lets the parent check that.
 */
import { z } from 'zod';

export const IPC_VERSION = 1;

const base = { v: z.literal(IPC_VERSION), id: z.number().int().nonnegative() };

/** Parent → child. */
export const Command = z.discriminatedUnion('cmd', [
  /** Opens one bare member socket per token (`SyncConnection`) and attaches each to `segmentId`. */
  z.object({ ...base, cmd: z.literal('wire'), baseUrl: z.string().min(1), tokens: z.array(z.string().min(1)).max(10_000), segmentId: z.string().min(1) }).strict(),
  /** Attaches every wire member to one more segment (the conversation rolled over). */
  z.object({ ...base, cmd: z.literal('attach'), segmentId: z.string().min(1), jitterMs: z.number().min(0).max(60_000) }).strict(),
  /** Logs each user in on a new device (`PASSWORD` of bench/lib/clients.ts), starts a ParleyClient and opens `convId`. */
  z.object({ ...base, cmd: z.literal('full'), baseUrl: z.string().min(1), usernames: z.array(z.string().min(1)).max(100), convId: z.string().min(1) }).strict(),
  /** Opens `count` plain Hocuspocus providers on document `name` (baseline receivers). */
  z.object({ ...base, cmd: z.literal('baseline'), wsUrl: z.string().min(1), name: z.string().min(1), count: z.number().int().min(0).max(10_000) }).strict(),
  /** Replies with the child's `monoNow()`. */
  z.object({ ...base, cmd: z.literal('clock') }).strict(),
  /** How far delivery is: see `ProgressResult`. */
  z.object({ ...base, cmd: z.literal('progress'), msgIds: z.array(z.string()), frameKeys: z.array(z.string()) }).strict(),
  /** Every arrival recorded so far. */
  z.object({ ...base, cmd: z.literal('report') }).strict(),
  /** Closes every socket and client and forgets every arrival (before the next phase, or before the end). */
  z.object({ ...base, cmd: z.literal('close') }).strict(),
]);
export type Command = z.infer<typeof Command>;
/** A command as the parent writes it (the id and version are added by `ReceiverProc`). */
export type CommandBody = Command extends infer C ? (C extends Command ? Omit<C, 'v' | 'id'> : never) : never;

/** Child → parent: sent once, after the child loaded its modules. */
export const Ready = z.object({ v: z.literal(IPC_VERSION), ready: z.literal(true) }).strict();

/** Child → parent: the answer to one command. */
export const Reply = z.union([
  z.object({ ...base, ok: z.literal(true), result: z.unknown() }).strict(),
  z.object({ ...base, ok: z.literal(false), error: z.string() }).strict(),
]);
export type Reply = z.infer<typeof Reply>;

export const OpenedResult = z.object({ opened: z.number().int(), synced: z.number().int() }).strict();
export const AttachResult = z.object({ attached: z.number().int() }).strict();
export const ClockResult = z.object({ now: z.number() }).strict();
/**
 * `msgsMissing`: (receiver, message id) pairs not arrived yet, over the full clients' visible lists and the
 * baseline providers. `framesPartial`: frame keys that reached some wire member of this child but not all
 * (a scenario keeps all its wire members in one child, so "reached none" is global).
 */
export const ProgressResult = z.object({ msgsMissing: z.number().int(), framesPartial: z.number().int() }).strict();
const Arrivals = z.array(z.tuple([z.string(), z.number()]));
/** Per receiver, first arrival time of each frame key (wire) or message id (visible, baseline). */
export const ReportResult = z.object({ wire: z.array(Arrivals), visible: z.array(Arrivals), baseline: z.array(Arrivals) }).strict();
export type ReportResult = z.infer<typeof ReportResult>;
export const CloseResult = z.object({}).strict();

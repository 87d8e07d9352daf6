/**
 * A receiver child: the receiving members of a bench scenario, in their own process so that their work
 * (Yjs applies, verification, decryption, rendering) does not queue behind or ahead of the sender's event loop.
 * Driven over IPC (`./protocol.ts`); started and always ended by `ReceiverProc` (bench/lib/receivers.ts). One
 * child can serve several phases of a scenario (`close` forgets everything between them).
 *
 * It hosts any mix of: bare Parley member sockets ("wire": first arrival of each frame, by `frameKey`), full
 * ParleyClients (a new device of each user, logged in with the bench password; "visible": a message's first
 * appearance in the `change` event) and plain Hocuspocus providers (baseline: a message's arrival in the
 * `Y.Array` observer). Arrival times are `monoNow()` (bench/lib/clock.ts), the clock the parent uses.
 */
import * as Y from 'yjs';
import { z } from 'zod';
import { AccountClient, MemoryStorage, ParleyClient, SyncConnection, withTimeout } from '@parley/shared/client';
import { PASSWORD, baselineProvider, type BaselineLink } from '../lib/clients.ts';
import { monoNow as now } from '../lib/clock.ts';
import { frameKey } from '../lib/context.ts';
import { pool } from '../lib/stats.ts';
import { Command, IPC_VERSION, type Reply } from './protocol.ts';

const SYNC_WAIT_MS = 30_000;
const CLOSE_WAIT_MS = 5_000;
/** The id of a command that failed to parse, so the parent's request fails at once instead of timing out. */
const RequestId = z.object({ id: z.number().int() });

interface WireMember {
  socket: SyncConnection;
  arrivals: Map<string, number>;
}

const wire: WireMember[] = [];
const visible: Array<Map<string, number>> = [];
const baseline: Array<Map<string, number>> = [];
const clients: ParleyClient[] = [];
const providers: BaselineLink[] = [];

/**
 * Values one Yjs update inserts, read from the update itself: O(update). (`event.changes` walks the whole
 * array on every event, which made each receiver's cost grow with the history — 3,000 messages in the
 * baseline's array — and put the bench's own bookkeeping into the latencies.)
 */
function insertedValues(update: Uint8Array): unknown[] {
  const out: unknown[] = [];
  for (const s of Y.decodeUpdate(update).structs) if (s instanceof Y.Item) for (const v of s.content.getContent()) out.push(v);
  return out;
}

/** Attaches `m` to segment `segId`, recording the first arrival of every frame in its log. */
function attachWire(m: WireMember, segId: string) {
  const doc = new Y.Doc();
  doc.on('update', (update: Uint8Array) => {
    const t = now();
    for (const f of insertedValues(update)) {
      const k = frameKey(f);
      if (k && !m.arrivals.has(k)) m.arrivals.set(k, t);
    }
  });
  return m.socket.open(segId, doc);
}

const bounded = (p: Promise<unknown>) => withTimeout(p, SYNC_WAIT_MS);

async function handle(c: Command): Promise<unknown> {
  switch (c.cmd) {
    case 'wire': {
      const links = await pool(c.tokens, 8, async (token) => {
        const m: WireMember = { socket: new SyncConnection(c.baseUrl, () => Promise.resolve(token)), arrivals: new Map() };
        wire.push(m);
        const link = attachWire(m, c.segmentId);
        await bounded(link.whenSynced());
        return link;
      });
      return { opened: links.length, synced: links.filter((l) => l.synced).length };
    }
    case 'attach':
      // Each member after its own random delay, as the real clients attach a prepared segment ([SEG-4]).
      for (const m of wire) {
        if (c.jitterMs > 0) setTimeout(() => attachWire(m, c.segmentId), Math.random() * c.jitterMs);
        else attachWire(m, c.segmentId);
      }
      return { attached: wire.length };
    case 'full': {
      const opened = await pool(c.usernames, 4, async (username) => {
        const account = new AccountClient({ baseUrl: c.baseUrl });
        await account.login({ username, password: PASSWORD });
        const client = new ParleyClient({ baseUrl: c.baseUrl, storage: new MemoryStorage(), account });
        clients.push(client);
        await client.start();
        const conv = await client.open(c.convId);
        const seen = new Map<string, number>();
        visible.push(seen);
        conv.on('change', ({ messages }) => {
          const t = now();
          for (let k = messages.length - 1; k >= 0; k--) {
            const msg = messages[k]!;
            if (seen.has(msg.id)) break;
            if (!msg.mine) seen.set(msg.id, t);
          }
          // A message that lands before the newest (an earlier timestamp arriving later, e.g. re-sent in the next
          // segment after a rollover) is not at the tail: when the list holds more than was seen, look at all of it.
          if (seen.size < messages.length) for (const msg of messages) if (!msg.mine && !seen.has(msg.id)) seen.set(msg.id, t);
        });
        return conv;
      });
      return { opened: opened.length, synced: opened.length };
    }
    case 'baseline': {
      const links: BaselineLink[] = [];
      for (let i = 0; i < c.count; i++) {
        const l = baselineProvider(c.wsUrl, c.name);
        const seen = new Map<string, number>();
        baseline.push(seen);
        l.doc.on('update', (update: Uint8Array) => {
          const t = now();
          for (const v of insertedValues(update)) {
            const id = (v as { id?: unknown } | null)?.id;
            if (typeof id === 'string' && !seen.has(id)) seen.set(id, t);
          }
        });
        providers.push(l);
        links.push(l);
      }
      let synced = 0;
      await bounded(Promise.all(links.map((l) => l.synced.then(() => synced++))));
      return { opened: links.length, synced };
    }
    case 'clock':
      return { now: now() };
    case 'progress': {
      let msgsMissing = 0;
      for (const seen of [...visible, ...baseline]) for (const id of c.msgIds) if (!seen.has(id)) msgsMissing++;
      let framesPartial = 0;
      for (const k of c.frameKeys) {
        const n = wire.reduce((a, m) => a + (m.arrivals.has(k) ? 1 : 0), 0);
        if (n > 0 && n < wire.length) framesPartial++;
      }
      return { msgsMissing, framesPartial };
    }
    case 'report':
      return { wire: wire.map((m) => [...m.arrivals]), visible: visible.map((v) => [...v]), baseline: baseline.map((b) => [...b]) };
    case 'close': {
      const closing = clients.splice(0);
      await Promise.all(closing.map((cl) => withTimeout(cl.stop().catch(() => undefined), CLOSE_WAIT_MS)));
      for (const m of wire.splice(0)) m.socket.destroy();
      for (const l of providers.splice(0)) l.destroy();
      visible.length = 0;
      baseline.length = 0;
      return {};
    }
    default: {
      const never: never = c;
      throw new Error(`unknown command ${JSON.stringify(never)}`);
    }
  }
}

const send = (m: Reply | { v: number; ready: true }) => process.send?.(m);

process.on('message', (raw: unknown) => {
  const parsed = Command.safeParse(raw);
  if (!parsed.success) {
    const id = RequestId.safeParse(raw).data?.id ?? 0;
    send({ v: IPC_VERSION, id, ok: false, error: `bad command: ${parsed.error.issues[0]?.message ?? 'invalid'}` });
    return;
  }
  const c = parsed.data;
  handle(c).then(
    (result) => send({ v: IPC_VERSION, id: c.id, ok: true, result }),
    (e: unknown) => send({ v: IPC_VERSION, id: c.id, ok: false, error: e instanceof Error ? `${e.name}: ${e.message}` : String(e) }),
  );
});
// The parent went away (crash, kill): end with it rather than keep sockets open.
process.on('disconnect', () => process.exit(0));
process.on('SIGTERM', () => process.exit(0)); // a clean exit, so `--cpu-prof` (BENCH_CPU_PROFILE) writes its profile
send({ v: IPC_VERSION, ready: true });

/**
 * (a) Fan-out: one conversation, M members, one sender at R msg/s for D seconds.
 *
 * Parley: the sender is a full ParleyClient (`Conversation.send`: sign, outbox, seal, push). Every other
 * member is a real authenticated member socket. K of them are full clients (`Conversation` open: verify,
 * decrypt, materialize, render); "visible" latency is measured there, on the `change` event. The rest are
 * client-core `SyncConnection`s attached to the segment without decrypting ("wire" latency: the frame that
 * carries the message reached the member). Simulating 49 decrypting devices on one 2-core box would measure
 * the box, not the system: each frame costs a full receiver a verification, a decryption and a render.
 *
 * Baseline: plain Hocuspocus, one Y.Array of message objects, every member a provider on its own socket.
 *
 * Rounds: each system runs ROUNDS times (fresh server each time), alternating which goes first.
 *
 * Processes: the sender is alone in the bench process; all receivers (of both systems) run in receiver
 * children (bench/receivers/child.ts, see RECEIVER_LAYOUT), which record arrival times on the clock the
 * sender uses (`monoNow`, bench/lib/clock.ts) and report them after the run. Otherwise the receivers' work
 * would delay the sender's event loop, and the latency would largely be the bench process's own queueing.
 */
import * as Y from 'yjs';
import { ATTACH_AHEAD_JITTER_MS, BINDING_ORIGIN, logChanges, verifyAndOpenFrame } from '@parley/shared/envelope';
import { FLUSH_BURST, FLUSH_PER_SECOND, withTimeout } from '@parley/shared/client';
import { DEFAULT_SYNC_LIMITS } from '../../sync-server/src/sync/sync-server.ts';
import { baselineProvider, registerUsers, startClient } from '../lib/clients.ts';
import { monoNow as now } from '../lib/clock.ts';
import { clientCpu, frameKey, storeLatency, withServer, type Ctx } from '../lib/context.ts';
import { Sampler } from '../lib/proc.ts';
import { withReceivers, type ReceiverProc } from '../lib/receivers.ts';
import { MiB, round, row, type ScenarioResult } from '../lib/result.ts';
import { dist, makeText, rng, sleep, vocabulary, waitForAsync } from '../lib/stats.ts';

interface Sizes {
  members: number;
  rate: number;
  seconds: number;
  full: number;
}

/**
 * Where the receivers run: one child per label; the first holds the wire members, the last the full clients
 * (the same child when there is one). Two children let the two cores share the receivers' work.
 */
const RECEIVER_LAYOUT: readonly string[] = ['wire', 'full'];

const cpuText = (cores: readonly number[]) => cores.map((c) => round(c, 2)).join(' + ');
const clockText = (c: ReadonlyArray<{ offset: number; rtt: number }>) => {
  const worst = c.reduce((a, x) => (Math.abs(x.offset) > Math.abs(a.offset) ? x : a), c[0] ?? { offset: NaN, rtt: NaN });
  return `at most ${round(Math.abs(worst.offset), 2)} ms (± ${round(worst.rtt / 2, 2)} ms)`;
};

async function sendLoop(sizes: Sizes, sendOne: (i: number) => Promise<void>): Promise<number> {
  const total = sizes.rate * sizes.seconds;
  const t0 = performance.now();
  const hardStop = t0 + sizes.seconds * 1000 + 30_000;
  let sent = 0;
  while (sent < total && performance.now() < hardStop) {
    const due = Math.min(total, Math.floor(((performance.now() - t0) / 1000) * sizes.rate) + 1);
    while (sent < due) await sendOne(sent++);
    await sleep(1);
  }
  return sent;
}

/**
 * Each system runs this many times, alternating which goes first (Parley, baseline; baseline, Parley; ...), in
 * the same receiver children. This VM's speed drifts over minutes (CPU steal), and Parley's load sits nearer
 * the 2 cores' limit than the baseline's, so one pair of runs could put the two systems in different phases of
 * the machine; alternating rounds expose both to the same ones. Latency percentiles pool every round's
 * deliveries; the notes list each round's own figures.
 */
const ROUNDS = 3;

/** What one round of either system shares. */
interface RoundCtx {
  ctx: Ctx;
  procs: ReceiverProc[];
  sizes: Sizes;
  warmupSeconds: number;
  vocab: string[];
  layout: readonly string[];
}

/** One timed Parley run on a fresh server: sender in this process, members in the receiver children. */
function parleyRound({ ctx, procs, sizes, warmupSeconds, vocab, layout }: RoundCtx) {
  return withServer('parley', async (server) => {
    const [wireProc, fullProc] = [procs[0]!, procs.at(-1)!];
    const users = await registerUsers(server.url, sizes.members, 'fa', ctx.log);
    const sender = await startClient(server.url, users[0]!);
    try {
      const conv = await sender.createGroup('fanout', users.slice(1).map((u) => u.username));
      const seg = conv.info.segments.find((s) => s.state === 'open')!;
      const calls = new Map<string, number>(); // msgId -> send() call time
      // Receivers, in the children: K full clients (new devices of members 1..K, logged in there) and one bare
      // socket per other member, authenticated with that member's access token (lifetime 10 min, > the run).
      const tokens = await Promise.all(users.slice(sizes.full + 1).map((u) => u.account.accessToken()));
      const [full, wired] = await Promise.all([
        fullProc.openFull(server.url, users.slice(1, sizes.full + 1).map((u) => u.username), conv.id),
        wireProc.openWire(server.url, tokens, seg.id),
      ]);
      ctx.log(`parley fan-out: ${wired.synced}/${wired.opened} wire members synced, ${full.opened} full members open (${layout.length} receiver process${layout.length > 1 ? 'es' : ''})`);
      const clock = await Promise.all(procs.map((rp) => rp.clockOffset()));

      // Sender side: every frame the sender pushed, with its segment and push time. Which message went out in
      // which frame is found after the run by opening these frames (see below).
      let rateLimited = 0;
      const frameBytes = new Map<string, { frame: Uint8Array; segId: string; at: number }>();
      const pushed = (frames: readonly unknown[], segId: string) => {
        const t = now();
        for (const f of frames) {
          const k = frameKey(f);
          if (k && !frameBytes.has(k)) frameBytes.set(k, { frame: f as Uint8Array, segId, at: t });
        }
      };
      // The sender's links, watched per (segment, link object): the client may replace a segment's link (a
      // re-opened document gets a new provider and envelope), and a rollover opens a new segment.
      const watched = new Map<string, unknown>();
      const othersBig: Array<{ at: number; size: number }> = [];
      const rolloverAt: number[] = [];
      const attachAt: number[] = [];
      const watchSender = (segId: string): boolean => {
        const link = sender.sync.link(segId);
        if (!link) return false;
        if (watched.get(segId) === link) return true;
        watched.set(segId, link);
        link.provider.on('close', ({ event }: { event: { reason?: string } }) => {
          if ((event?.reason ?? '').startsWith('rate-limited')) rateLimited++;
        });
        const log = link.provider.document.getArray('log');
        // logChanges reads the transaction, not `ev.changes` (which walks the whole log on every event and put
        // the bench's own O(segment) bookkeeping into the sender's process).
        log.observe((_ev, tr) => {
          if (tr.origin !== BINDING_ORIGIN) {
            // Diagnostics (BENCH_DUMP): large frames other devices wrote (their compaction snapshots).
            if (process.env.BENCH_DUMP) for (const f of logChanges(log, tr).inserted) if (f instanceof Uint8Array && f.length > 4096) othersBig.push({ at: now(), size: f.length });
            return;
          }
          pushed(logChanges(log, tr).inserted, segId);
        });
        pushed(log.toArray(), segId); // frames the client sealed before we looked
        return true;
      };
      watchSender(seg.id);
      const wireSegments = new Set<string>([seg.id]);
      const openSegments = new Set<string>([seg.id]);
      const attaching: Array<Promise<unknown>> = [];
      let rollovers = 0;
      /**
       * Follows a rollover and re-opened sender links. Wire members attach to a segment when the sender's record
       * shows it: the one prepared ahead of the size cap ([SEG-4]) as the real clients do, or a new open one.
       */
      const followRollover = () => {
        for (const x of conv.info.segments) if (watched.has(x.id) || x.state !== 'closed') watchSender(x.id);
        const open = conv.info.segments.find((x) => x.state === 'open');
        if (open && !openSegments.has(open.id)) {
          openSegments.add(open.id);
          if (openSegments.size > 1) {
            rollovers++;
            rolloverAt.push(now());
          }
        }
        for (const x of conv.info.segments) {
          if (x.state === 'closed' || wireSegments.has(x.id)) continue;
          wireSegments.add(x.id);
          attachAt.push(now());
          // A prepared segment ([SEG-4]) as the real clients attach it: each member after a random delay.
          const a = wireProc.attach(x.id, x.state === 'next' ? ATTACH_AHEAD_JITTER_MS : 0);
          a.catch(() => undefined); // awaited (and its failure thrown) after the wait below
          attaching.push(a);
        }
      };

      // Warm-up (not timed): the same rate for a moment, so neither system is measured with cold JIT in the
      // sender and the receiver children (both systems' rounds share the children).
      const rw = rng(2);
      await sendLoop({ ...sizes, seconds: warmupSeconds }, async (i) => {
        await conv.send(makeText(rw, vocab, i));
        followRollover();
      });
      await sleep(1000);

      const cpuClient = clientCpu();
      const sampler = new Sampler(server.pid).start();
      const recvSamplers = procs.map((rp) => new Sampler(rp.pid).start());
      const r = rng(1);
      const t0 = now();
      const sent = await sendLoop(sizes, async (i) => {
        const call = now();
        const id = await conv.send(makeText(r, vocab, i));
        calls.set(id, call);
        followRollover();
        for (const rp of procs) rp.assertAlive();
      });
      const sendWall = (now() - t0) / 1000;
      const ids = [...calls.keys()];
      // Done when the full clients show every message and every frame that reached a member reached them all
      // (a frame refused by a segment the rollover had just closed reaches nobody). The children count.
      const delivered = async () => {
        followRollover();
        const counts = await Promise.all(procs.map((rp) => rp.progress(ids, [...frameBytes.keys()])));
        return counts.every((c) => c.msgsMissing === 0 && c.framesPartial === 0);
      };
      const complete = await waitForAsync(delivered, 15_000, 100);
      await Promise.all(attaching);
      const srv = sampler.stop();
      const cli = cpuClient();
      const recvCpu = recvSamplers.map((s) => s.stop().cpuCores);
      await conv.whenDelivered(5_000);
      const store = await storeLatency(server.url);
      const reports = await Promise.all(procs.map((rp) => rp.report()));
      const wire = reports.flatMap((x) => x.wire.map((a) => new Map(a)));
      const visible = reports.flatMap((x) => x.visible.map((a) => new Map(a)));

      // Exact message -> frame mapping, after the run (off the timed path): open every frame the sender pushed
      // with the sender's keys and take, per message, the first frame (by push time) whose inner update carries
      // it (coalesced flushes and compaction snapshots can carry messages whose send() had not resolved yet).
      const senderKey = sender.context.keys.identity.publicKey;
      const frameOf = new Map<string, string>(); // msgId -> frame key
      for (const [k, f] of [...frameBytes].sort((x, y) => x[1].at - y[1].at)) {
        const opened = await verifyAndOpenFrame(f.frame, { convId: conv.id, segmentId: f.segId }, {
          signerKey: () => senderKey,
          isMember: () => true,
          epochKey: (e) => conv.keyring.key(e),
        });
        if (!opened.ok) continue;
        // A frame no member received (sealed into the segment the rollover had just closed, refused there) does
        // not count: its messages were re-sealed into the new segment, and their latency runs to that frame.
        if (!wire.some((w) => w.has(k))) continue;
        for (const st of Y.decodeUpdate(opened.value.update).structs)
          if (st instanceof Y.Item && typeof st.parentSub === 'string' && calls.has(st.parentSub) && !frameOf.has(st.parentSub)) frameOf.set(st.parentSub, k);
      }
      const wireLat: number[] = [];
      let wireLost = 0;
      // Safety net: a message whose only frames reached no member is counted apart, not as a wire loss (the full
      // clients' row shows whether it arrived).
      const reachedAnyone = (k: string) => wire.some((w) => w.has(k));
      const resealed = ids.filter((id) => { const k = frameOf.get(id); return k !== undefined && !reachedAnyone(k); });
      const resealedSet = new Set(resealed);
      const unmatched = ids.filter((id) => !frameOf.has(id)).length;
      ctx.log(`parley fan-out: ${frameOf.size}/${ids.length} messages matched to their frame by opening it; ${unmatched} to no frame, ${resealed.length} to a frame no member got`);
      for (const w of wire)
        for (const id of ids) {
          if (resealedSet.has(id)) continue;
          const k = frameOf.get(id);
          const a = k ? w.get(k) : undefined;
          if (a === undefined) wireLost++;
          else wireLat.push(a - calls.get(id)!);
        }
      const visLat: number[] = [];
      let visLost = 0;
      for (const v of visible)
        for (const id of ids) {
          const a = v.get(id);
          if (a === undefined) visLost++;
          else visLat.push(a - calls.get(id)!);
        }
      // Relay latency isolates the server from the client send pipeline: frame pushed on the sender's envelope
      // (the moment the provider sends it) → frame arrived on a member socket, once per (member, frame).
      const relayLat: number[] = [];
      for (const w of wire) for (const [k, f] of frameBytes) { if (f.at < t0) continue; const a = w.get(k); if (a !== undefined) relayLat.push(a - f.at); }
      const pipeline = ids.map((id) => (frameOf.has(id) ? frameBytes.get(frameOf.get(id)!)!.at - calls.get(id)! : NaN)).filter(Number.isFinite);
      const frames = new Set(frameOf.values()).size;
      // Diagnostics (not part of the report): BENCH_DUMP=<file> writes each message's send, push and arrival
      // times (ms after the timed start; arrivals as median and max over the member sockets) and the large frames.
      if (process.env.BENCH_DUMP) {
        const { writeFileSync } = await import('node:fs');
        const rows = ids.map((id) => {
          const k = frameOf.get(id);
          const f = k ? frameBytes.get(k) : undefined;
          const arr = k ? wire.map((w) => w.get(k)).filter((x): x is number => x !== undefined).sort((a, b) => a - b) : [];
          return { id, call: calls.get(id)! - t0, push: f ? f.at - t0 : null, seg: f?.segId, size: f?.frame.length, arrMed: arr.length ? arr[arr.length >> 1]! - t0 : null, arrMax: arr.length ? arr.at(-1)! - t0 : null };
        });
        const big = [...frameBytes.values()].filter((f) => f.frame.length > 4096).map((f) => ({ at: f.at - t0, size: f.frame.length }));
        const others = othersBig.map((f) => ({ at: f.at - t0, size: f.size }));
        writeFileSync(process.env.BENCH_DUMP, JSON.stringify({ rows, big, others, rollovers: rolloverAt.map((t) => t - t0), attaches: attachAt.map((t) => t - t0), t0 }));
      }
      return {
        sent, sendWall, complete, wireLat, wireLost, wireN: wire.length, visLat, visLost, visN: visible.length, pipeline, relayLat, frames, rateLimited,
        srv, cli, recvCpu, clock, store, rollovers, resealed: resealed.length,
      };
    } finally {
      await sender.stop().catch(() => undefined);
    }
  });
}
type ParleyRound = Awaited<ReturnType<typeof parleyRound>>;

/**
 * One timed baseline run on a fresh server, with Parley's process layout: the sender alone in the bench process,
 * the receivers in the children (the last child's share mirrors Parley's full clients, so each child carries as
 * many sockets as there).
 */
function baselineRound({ ctx, procs, sizes, warmupSeconds, vocab }: RoundCtx) {
  return withServer('baseline', async (server) => {
    const sender = baselineProvider(server.wsUrl, 'fanout');
    try {
      const share = (i: number) => (i === 0 ? sizes.members - 1 - sizes.full : 0) + (i === procs.length - 1 ? sizes.full : 0);
      const [opened] = await Promise.all([
        Promise.all(procs.map((rp, i) => rp.openBaseline(server.wsUrl, 'fanout', share(i)))),
        withTimeout(sender.synced, 30_000),
      ]);
      ctx.log(`baseline fan-out: ${opened.reduce((a, o) => a + o.synced, 0)}/${sizes.members - 1} receivers synced`);
      const clock = await Promise.all(procs.map((rp) => rp.clockOffset()));
      const calls = new Map<string, number>();
      const arr = sender.doc.getArray('messages');
      const rw = rng(2);
      await sendLoop({ ...sizes, seconds: warmupSeconds }, async (i) => {
        arr.push([{ id: `w${i}`, author: 'sender', ts: Date.now(), text: makeText(rw, vocab, i) }]);
      });
      await sleep(1000);

      const cpuClient = clientCpu();
      const sampler = new Sampler(server.pid).start();
      const recvSamplers = procs.map((rp) => new Sampler(rp.pid).start());
      const r = rng(1);
      const tb = now();
      const sent = await sendLoop(sizes, async (i) => {
        const id = `m${i}`;
        const call = now();
        arr.push([{ id, author: 'sender', ts: Date.now(), text: makeText(r, vocab, i) }]);
        calls.set(id, call);
        for (const rp of procs) rp.assertAlive();
      });
      const sendWall = (now() - tb) / 1000;
      const ids = [...calls.keys()];
      const complete = await waitForAsync(async () => (await Promise.all(procs.map((rp) => rp.progress(ids, [])))).every((c) => c.msgsMissing === 0), 15_000, 100);
      const srv = sampler.stop();
      const cli = cpuClient();
      const recvCpu = recvSamplers.map((s) => s.stop().cpuCores);
      const arrivals = (await Promise.all(procs.map((rp) => rp.report()))).flatMap((x) => x.baseline.map((a) => new Map(a)));
      const lat: number[] = [];
      let lost = 0;
      for (const a of arrivals)
        for (const id of ids) {
          const t = a.get(id);
          if (t === undefined) lost++;
          else lat.push(t - calls.get(id)!);
        }
      return { sent, sendWall, complete, lat, lost, srv, cli, recvCpu, clock };
    } finally {
      sender.destroy();
    }
  });
}
type BaselineRound = Awaited<ReturnType<typeof baselineRound>>;

const sum = (xs: readonly number[]) => xs.reduce((a, x) => a + x, 0);
const mean = (xs: readonly number[]) => sum(xs) / Math.max(1, xs.length);
/** Per-process CPU averaged over rounds (each round lists one figure per receiver child). */
const meanPerProc = (runs: ReadonlyArray<readonly number[]>) => (runs[0] ?? []).map((_, i) => mean(runs.map((r) => r[i] ?? NaN)));

/** What every round of either system reports alike. */
interface RoundCommon {
  sent: number;
  sendWall: number;
  srv: { cpuCores: number; peakRss: number };
  cli: number;
  recvCpu: number[];
  clock: Array<{ offset: number; rtt: number }>;
}

/** The common part of one system's rounds, pooled: counts summed, CPU averaged, the highest peak RSS, every clock check. */
function pooled(runs: readonly RoundCommon[]) {
  return {
    sent: sum(runs.map((x) => x.sent)),
    sendWall: sum(runs.map((x) => x.sendWall)),
    srvCpu: mean(runs.map((x) => x.srv.cpuCores)),
    peakRss: Math.max(...runs.map((x) => x.srv.peakRss)),
    cli: mean(runs.map((x) => x.cli)),
    recvCpu: meanPerProc(runs.map((x) => x.recvCpu)),
    clock: runs.flatMap((x) => x.clock),
  };
}

/** Runs (a). `layout` replaces RECEIVER_LAYOUT (to compare process layouts). */
export async function fanout(ctx: Ctx, layout: readonly string[] = RECEIVER_LAYOUT): Promise<ScenarioResult> {
  const sizes: Sizes = ctx.quick ? { members: 10, rate: 100, seconds: 4, full: 2 } : { members: 50, rate: 200, seconds: 15, full: 3 };
  /** Untimed sending at the same rate before each system's timed run (JIT and connections warm). */
  const warmupSeconds = ctx.quick ? 0.5 : 2;
  const rounds = ctx.quick ? 1 : ROUNDS;
  const vocab = vocabulary();
  const notes: string[] = [];

  // The same receiver children serve both systems in every round (the first round starts with Parley, as when
  // every client ran in the bench process; from then on both find the Yjs code already compiled there).
  return withReceivers(layout, async (procs) => {
    const rc: RoundCtx = { ctx, procs, sizes, warmupSeconds, vocab, layout };
    const ps: ParleyRound[] = [];
    const bs: BaselineRound[] = [];
    const order: string[] = [];
    for (let i = 0; i < rounds; i++) {
      const parleyFirst = i % 2 === 0;
      order.push(parleyFirst ? 'Parley first' : 'baseline first');
      for (const system of parleyFirst ? ['parley', 'baseline'] : ['baseline', 'parley']) {
        if (system === 'parley') {
          const p = await parleyRound(rc);
          ps.push(p);
          ctx.log(`parley fan-out, round ${i + 1}/${rounds}: sent ${p.sent} in ${p.sendWall.toFixed(1)} s as ${p.frames} frames; wire p50 ${dist(p.wireLat).p50.toFixed(1)} ms, visible p50 ${dist(p.visLat).p50.toFixed(1)} ms`);
        } else {
          const b = await baselineRound(rc);
          bs.push(b);
          ctx.log(`baseline fan-out, round ${i + 1}/${rounds}: sent ${b.sent} in ${b.sendWall.toFixed(1)} s; p50 ${dist(b.lat).p50.toFixed(1)} ms`);
        }
        await Promise.all(procs.map((rp) => rp.close()));
      }
    }

    // Pooled over the rounds.
    const p = {
      ...pooled(ps),
      wire: dist(ps.flatMap((x) => x.wireLat)),
      visible: dist(ps.flatMap((x) => x.visLat)),
      relay: dist(ps.flatMap((x) => x.relayLat)),
      pipeline: dist(ps.flatMap((x) => x.pipeline)),
      wireLost: sum(ps.map((x) => x.wireLost)),
      visLost: sum(ps.map((x) => x.visLost)),
      wireN: ps[0]!.wireN,
      visN: ps[0]!.visN,
      frames: sum(ps.map((x) => x.frames)),
      rateLimited: sum(ps.map((x) => x.rateLimited)),
      rollovers: sum(ps.map((x) => x.rollovers)),
      resealed: sum(ps.map((x) => x.resealed)),
    };
    const b = { ...pooled(bs), lat: dist(bs.flatMap((x) => x.lat)), lost: sum(bs.map((x) => x.lost)) };
    const perRound = ps.map((x, i) => {
      const [pw, bl] = [dist(x.wireLat), dist(bs[i]!.lat)];
      return `${i + 1} (${order[i]}): p50 ${round(pw.p50)} vs ${round(bl.p50)} ms (${round(pw.p50 / bl.p50, 2)}×), p99 ${round(pw.p99)} vs ${round(bl.p99)} ms`;
    });
    if (rounds > 1)
      notes.push(
        `Rounds (each system ${rounds}×, alternating which goes first; the rows pool every round's deliveries), Parley wire vs baseline delivery: ${perRound.join('; ')}.`,
      );
    if (p.rollovers > 0) notes.push(`The conversation passed the segment size cap (about 1 MiB of frames) ${p.rollovers}× during the timed run${rounds > 1 ? `s (${rounds} rounds together)` : ''}; the sender's client rolled over to the next segment, which it had asked the server for at 75% of the cap ([SEG-4]); every wire member attached to that segment when the bench saw it in the sender's record (a prepared one after a random delay of up to ${ATTACH_AHEAD_JITTER_MS / 1000} s), as the real clients do on the server's notice (a frame sealed before a member attached arrives with that member's initial sync, which the latency includes). Messages sealed into the closed segment in the moment of the rollover (refused there) are timed to the frame of the new segment that carried them.${p.resealed > 0 ? ` ${p.resealed} messages were found only in frames no member received; they are left out of the wire rows (the full clients' row shows whether they arrived).` : ''}`);
    if (p.rateLimited > 0) notes.push(`The server's per-connection budget (${DEFAULT_SYNC_LIMITS.messagesPerSecond} messages/s, burst ${DEFAULT_SYNC_LIMITS.messagesBurst}) closed the sender's document connection ${p.rateLimited}× (rate-limited); the client re-attached and re-synced.`);
    notes.push(
      `Parley server append latency (its /metrics, last 1,024 updates of each round): ${ps.map((x) => `p50 ${round(x.store.p50)} ms, p99 ${round(x.store.p99)} ms over ${x.store.count} updates`).join('; ')}. The server relays a validated update at once and holds only the sender's acknowledgement until the PostgreSQL commit (synchronous_commit on), so the commit is off the delivery path.`,
      `Relay latency (frame pushed by the sender's provider → arrived on a member socket; excludes the client send pipeline, comparable to the baseline's push → arrival): Parley p50 ${round(p.relay.p50)} ms, p99 ${round(p.relay.p99)} ms vs baseline p50 ${round(b.lat.p50)} ms, p99 ${round(b.lat.p99)} ms.`,
      `Parley sent ${p.sent} messages as ${p.frames} frames (Conversation.send coalesces delivery without a fixed delay: a send to an idle conversation flushes at once, sends that arrive while a flush is queued or running join the next one, and past a client-side budget of ${FLUSH_BURST} frames, then ${FLUSH_PER_SECOND} per second, a fast sender's messages share frames). Send pipeline (send() call to frame pushed, sign + outbox + seal): p50 ${round(p.pipeline.p50)} ms, p99 ${round(p.pipeline.p99)} ms.`,
      `Wire latency is measured on ${p.wireN} member sockets (frame carrying the message arrived); visible latency on ${p.visN} full clients (frame verified + decrypted, message signature verified, list materialized and the change event fired). The sender runs alone in the bench process; the receivers run in ${layout.length === 1 ? 'one child process' : `${layout.length} child processes (${layout.join(', ')})`}, the baseline's split the same way. Client CPU${rounds > 1 ? ' (mean of the rounds)' : ''}, sender process: Parley ${round(p.cli, 2)} cores vs baseline ${round(b.cli, 2)}; receiver processes: Parley ${cpuText(p.recvCpu)} vs baseline ${cpuText(b.recvCpu)} cores; with the server, Parley ${round(p.cli + sum(p.recvCpu) + p.srvCpu, 2)} vs baseline ${round(b.cli + sum(b.recvCpu) + b.srvCpu, 2)} cores of 2 (PostgreSQL not counted). Receiver timestamps are taken in the children on the machine's monotonic clock, as the sender's (bench/lib/clock.ts); offset child − sender measured over IPC round trips: ${clockText([...p.clock, ...b.clock])}.`,
    );
    const recvMsgs = p.sent * (sizes.members - 1 - sizes.full);
    return {
      id: 'a',
      title: 'Fan-out',
      setup: `1 conversation, ${sizes.members} members, 1 sender at ${sizes.rate} msg/s for ${sizes.seconds} s, after ${warmupSeconds} s of untimed warm-up at the same rate${rounds > 1 ? `; ${rounds} rounds per system, alternating which goes first, each on a fresh server` : ''} (${p.sent} messages → ${recvMsgs + p.sent * sizes.full} Parley deliveries, ${b.sent * (sizes.members - 1)} baseline)`,
      rows: [
        row('achieved send rate (target rate ' + sizes.rate + ')', round(p.sent / p.sendWall), round(b.sent / b.sendWall), 'msg/s'),
        row('delivery p50 (Parley wire)', round(p.wire.p50), round(b.lat.p50), 'ms', { text: '≤ 1.2× baseline', met: p.wire.p50 <= 1.2 * b.lat.p50 }),
        row('delivery p99 (Parley wire)', round(p.wire.p99), round(b.lat.p99), 'ms', { text: '≤ baseline', met: p.wire.p99 <= b.lat.p99 }),
        row('delivery p50 (Parley visible, decrypted)', round(p.visible.p50), round(b.lat.p50), 'ms', { text: '≤ 1.2× baseline', met: p.visible.p50 <= 1.2 * b.lat.p50 }),
        row('delivery p99 (Parley visible, decrypted)', round(p.visible.p99), round(b.lat.p99), 'ms', { text: '≤ baseline', met: p.visible.p99 <= b.lat.p99 }),
        row('relay p50 (frame pushed → member socket)', round(p.relay.p50), round(b.lat.p50), 'ms'),
        row('relay p99 (frame pushed → member socket)', round(p.relay.p99), round(b.lat.p99), 'ms'),
        row('lost on member sockets (not delivered 15 s after the last send)', p.wireLost, b.lost, 'msgs'),
        row('lost on full clients (not shown 15 s after the last send)', p.visLost, b.lost, 'msgs'),
        row(`server CPU during run${rounds > 1 ? ' (mean of the rounds)' : ''}`, round(p.srvCpu, 2), round(b.srvCpu, 2), 'cores'),
        row('server peak RSS', round(p.peakRss / MiB), round(b.peakRss / MiB), 'MiB'),
      ],
      notes,
    };
  });
}

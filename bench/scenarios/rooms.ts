/**
 * (b) Many rooms: C conversations × 5 members, one message per second in each conversation (senders
 * staggered), for D seconds. U users, each one ParleyClient (one socket, many documents).
 *
 * Parley: each conversation's sender is its creator's full client (`Conversation.send`); the other four
 * members attach the open segment on their own client's socket and receive every frame (wire latency);
 * in every 10th conversation one receiver opens the full `Conversation` (visible latency: verify, decrypt,
 * render). Baseline: the same topology on plain Hocuspocus (one socket per user, one provider per member
 * and room, `Y.Array` pushes).
 */
import * as Y from 'yjs';
import { BINDING_ORIGIN } from '@parley/shared/envelope';
import { withTimeout, type Conversation, type ParleyClient } from '@parley/shared/client';
import { HocuspocusProviderWebsocket } from '@hocuspocus/provider';
import { baselineProvider, registerUsers, startClient, type BaselineLink } from '../lib/clients.ts';
import { clientCpu, frameKey, now, storeLatency, withServer, type Ctx } from '../lib/context.ts';
import { Sampler } from '../lib/proc.ts';
import { MiB, round, row, type ScenarioResult } from '../lib/result.ts';
import { dist, makeText, pool, rng, sleep, vocabulary, waitFor } from '../lib/stats.ts';

interface Plan {
  users: number;
  convs: number;
  seconds: number;
  fullEvery: number;
}

function topology(plan: Plan): Array<{ sender: number; others: number[] }> {
  const r = rng(42);
  return Array.from({ length: plan.convs }, (_, c) => {
    const sender = c % plan.users;
    const others = new Set<number>();
    while (others.size < 4) {
      const u = Math.floor(r() * plan.users);
      if (u !== sender) others.add(u);
    }
    return { sender, others: [...others] };
  });
}

/** Staggered schedule: conversation c sends its k-th message at (k + c / C) seconds. */
async function schedule(plan: Plan, send: (c: number, k: number) => void): Promise<number> {
  const total = plan.convs * plan.seconds;
  const next = new Array<number>(plan.convs).fill(0);
  const t0 = performance.now();
  const hardStop = t0 + plan.seconds * 1000 + 30_000;
  let sent = 0;
  while (sent < total && performance.now() < hardStop) {
    const el = (performance.now() - t0) / 1000;
    for (let c = 0; c < plan.convs; c++) {
      while (next[c]! < plan.seconds && next[c]! + c / plan.convs <= el) {
        send(c, next[c]!);
        next[c]!++;
        sent++;
      }
    }
    await sleep(2);
  }
  return sent;
}

export async function rooms(ctx: Ctx): Promise<ScenarioResult> {
  const plan: Plan = ctx.quick ? { users: 10, convs: 20, seconds: 5, fullEvery: 5 } : { users: 50, convs: 200, seconds: 20, fullEvery: 10 };
  const topo = topology(plan);
  const vocab = vocabulary();

  const p = await withServer('parley', async (server) => {
    const users = await registerUsers(server.url, plan.users, 'ro', ctx.log);
    const clients: ParleyClient[] = await pool(users, 8, (u) => startClient(server.url, u));
    const t0 = now();
    const convs: Conversation[] = await pool(topo, 6, (t, c) =>
      clients[t.sender]!.createGroup(`room ${c}`, t.others.map((o) => users[o]!.username)),
    );
    ctx.log(`parley rooms: created ${convs.length} conversations in ${((now() - t0) / 1000).toFixed(1)} s`);
    // Per conversation: message ids are `deviceId:counter` with a counter PER CONVERSATION, so one sender's
    // conversations reuse the same ids. Keyed globally, a later conversation's send() call time overwrote an
    // earlier one's (and its frame), which made latencies negative.
    const calls: Array<Map<string, number>> = convs.map(() => new Map()); // msgId -> send() call time
    const frameOf: Array<Map<string, string>> = convs.map(() => new Map()); // msgId -> frame key
    const wire: Array<{ conv: number; arrivals: Map<string, number> }> = [];
    const visible: Array<{ conv: number; seen: Map<string, number> }> = [];
    // Frames are matched to messages in send order: a frame pushed while some send() already resolved carries
    // those messages; a frame pushed before its send() resolved waits (unclaimed) for the first send that was
    // CALLED before the push and resolves after it.
    const unassigned: string[][] = convs.map(() => []);
    const unclaimed: Array<Array<{ key: string; at: number }>> = convs.map(() => []);
    await pool(convs, 8, async (conv, c) => {
      const seg = conv.info.segments.find((s) => s.state === 'open')!;
      clients[topo[c]!.sender]!.sync.link(seg.id)!.provider.document.getArray('log').observe((ev, tr) => {
        if (tr.origin !== BINDING_ORIGIN) return;
        for (const d of ev.changes.delta) if (Array.isArray(d.insert)) for (const f of d.insert) {
          const k = frameKey(f);
          if (!k) continue;
          if (unassigned[c]!.length === 0) unclaimed[c]!.push({ key: k, at: now() });
          for (const id of unassigned[c]!) frameOf[c]!.set(id, k);
          unassigned[c] = [];
        }
      });
      for (const [j, o] of topo[c]!.others.entries()) {
        const client = clients[o]!;
        if (j === 0 && c % plan.fullEvery === 0) {
          const rc = await client.open(conv.id);
          const seen = new Map<string, number>();
          visible.push({ conv: c, seen });
          rc.on('change', ({ messages }) => {
            const t = now();
            for (let k = messages.length - 1; k >= 0; k--) {
              const m = messages[k]!;
              if (seen.has(m.id)) break;
              seen.set(m.id, t);
            }
          });
          continue;
        }
        const doc = new Y.Doc();
        const arrivals = new Map<string, number>();
        wire.push({ conv: c, arrivals });
        doc.getArray('log').observe((ev) => {
          const t = now();
          for (const d of ev.changes.delta) if (Array.isArray(d.insert)) for (const f of d.insert) {
            const k = frameKey(f);
            if (k && !arrivals.has(k)) arrivals.set(k, t);
          }
        });
        const link = client.sync.open(seg.id, doc);
        await withTimeout(link.whenSynced(), 30_000);
      }
    });
    ctx.log(`parley rooms: ${wire.length} wire receivers, ${visible.length} full receivers attached`);
    const idsOf: string[][] = convs.map(() => []);
    const cpuClient = clientCpu();
    const sampler = new Sampler(server.pid).start();
    const r = rng(3);
    let failed = 0;
    const inflight: Promise<unknown>[] = [];
    const sent = await schedule(plan, (c, k) => {
      const call = now(); // the send() call time, recorded before the call; matched to its id once it resolves
      inflight.push(
        convs[c]!.send(makeText(r, vocab, k)).then(
          (id) => {
            calls[c]!.set(id, call);
            idsOf[c]!.push(id);
            const early = unclaimed[c]!.findIndex((f) => f.at >= call);
            if (early >= 0) {
              frameOf[c]!.set(id, unclaimed[c]![early]!.key);
              unclaimed[c]!.splice(0, early + 1);
            } else unassigned[c]!.push(id);
          },
          () => failed++,
        ),
      );
    });
    await Promise.all(inflight);
    const done = () =>
      wire.every((w) => idsOf[w.conv]!.every((id) => frameOf[w.conv]!.has(id) && w.arrivals.has(frameOf[w.conv]!.get(id)!))) &&
      visible.every((v) => idsOf[v.conv]!.every((id) => v.seen.has(id)));
    await waitFor(done, 15_000, 100);
    const srv = sampler.stop();
    const cli = cpuClient();
    const wireLat: number[] = [];
    const visLat: number[] = [];
    let lost = 0;
    for (const w of wire)
      for (const id of idsOf[w.conv]!) {
        const k = frameOf[w.conv]!.get(id);
        const a = k ? w.arrivals.get(k) : undefined;
        if (a === undefined) lost++;
        else wireLat.push(a - calls[w.conv]!.get(id)!);
      }
    for (const v of visible)
      for (const id of idsOf[v.conv]!) {
        const a = v.seen.get(id);
        if (a === undefined) lost++;
        else visLat.push(a - calls[v.conv]!.get(id)!);
      }
    const store = await storeLatency(server.url);
    const mem = await server.mem();
    for (const c of clients) await c.stop().catch(() => undefined);
    return { store, sent, failed, wire: dist(wireLat), visible: dist(visLat), lost, srv, cli, mem, nWire: wire.length, nVis: visible.length };
  });
  ctx.log(`parley rooms: sent ${p.sent}; wire p50 ${p.wire.p50.toFixed(1)} ms, visible p50 ${p.visible.p50.toFixed(1)} ms`);

  const b = await withServer('baseline', async (server) => {
    const sockets = Array.from({ length: plan.users }, () => new HocuspocusProviderWebsocket({ url: server.wsUrl, delay: 250, minDelay: 100, maxDelay: 10_000 }));
    const senders: BaselineLink[] = [];
    const recv: Array<{ conv: number; arrivals: Map<string, number> }> = [];
    const links: BaselineLink[] = [];
    for (const [c, t] of topo.entries()) {
      senders.push(baselineProvider(server.wsUrl, `room-${c}`, new Y.Doc(), sockets[t.sender]));
      for (const o of t.others) {
        const l = baselineProvider(server.wsUrl, `room-${c}`, new Y.Doc(), sockets[o]);
        const arrivals = new Map<string, number>();
        recv.push({ conv: c, arrivals });
        l.doc.getArray<{ id: string }>('messages').observe((ev) => {
          const tt = now();
          for (const d of ev.changes.delta) if (Array.isArray(d.insert)) for (const m of d.insert as Array<{ id: string }>) arrivals.set(m.id, tt);
        });
        links.push(l);
      }
    }
    await withTimeout(Promise.all([...senders, ...links].map((l) => l.synced)), 60_000);
    const calls = new Map<string, number>();
    const idsOf: string[][] = topo.map(() => []);
    const cpuClient = clientCpu();
    const sampler = new Sampler(server.pid).start();
    const r = rng(3);
    const sent = await schedule(plan, (c, k) => {
      const id = `c${c}m${k}`;
      calls.set(id, now());
      idsOf[c]!.push(id);
      senders[c]!.doc.getArray('messages').push([{ id, author: `u${topo[c]!.sender}`, ts: Date.now(), text: makeText(r, vocab, k) }]);
    });
    await waitFor(() => recv.every((w) => idsOf[w.conv]!.every((id) => w.arrivals.has(id))), 15_000, 100);
    const srv = sampler.stop();
    const cli = cpuClient();
    const lat: number[] = [];
    let lost = 0;
    for (const w of recv)
      for (const id of idsOf[w.conv]!) {
        const a = w.arrivals.get(id);
        if (a === undefined) lost++;
        else lat.push(a - calls.get(id)!);
      }
    const mem = await server.mem();
    for (const l of [...senders, ...links]) l.provider.destroy();
    for (const s of sockets) s.destroy();
    return { sent, lat: dist(lat), lost, srv, cli, mem };
  });

  return {
    id: 'b',
    title: 'Many rooms',
    setup: `${plan.convs} conversations × 5 members (${plan.users} users, one socket each), 1 msg/s per conversation for ${plan.seconds} s (${p.sent} Parley / ${b.sent} baseline messages, ×4 deliveries)`,
    rows: [
      row('delivery p50 (Parley wire)', round(p.wire.p50), round(b.lat.p50), 'ms'),
      row('delivery p99 (Parley wire)', round(p.wire.p99), round(b.lat.p99), 'ms'),
      row('delivery p50 (Parley visible, decrypted)', round(p.visible.p50), round(b.lat.p50), 'ms'),
      row('delivery p99 (Parley visible, decrypted)', round(p.visible.p99), round(b.lat.p99), 'ms'),
      row('lost', p.lost + p.failed, b.lost, 'msgs'),
      row('server CPU during run', round(p.srv.cpuCores, 2), round(b.srv.cpuCores, 2), 'cores'),
      row('server peak RSS', round(p.srv.peakRss / MiB), round(b.srv.peakRss / MiB), 'MiB'),
    ],
    notes: [
      `Parley server append latency (/metrics, last 1,024 updates; off the delivery path: relayed on receipt, acknowledged on commit): p50 ${round(p.store.p50)} ms, p99 ${round(p.store.p99)} ms over ${p.store.count} updates.`,
      `Parley: ${p.nWire} wire receivers, ${p.nVis} full receivers (visible latency). Bench-process (client) CPU ${round(p.cli, 2)} cores Parley vs ${round(b.cli, 2)} baseline.`,
      `Server heap after GC at the end: Parley ${round(p.mem.heapUsed / MiB)} MiB with ${p.mem.docs} documents loaded; baseline ${round(b.mem.heapUsed / MiB)} MiB with ${b.mem.docs}.`,
    ],
  };
}

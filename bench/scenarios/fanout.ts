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
 */
import * as Y from 'yjs';
import { BINDING_ORIGIN, verifyAndOpenFrame } from '@parley/shared/envelope';
import type { Conversation, ParleyClient, SyncConnection } from '@parley/shared/client';
import { baselineProvider, registerUsers, socketFor, startClient, type BaselineLink } from '../lib/clients.ts';
import { clientCpu, frameKey, now, storeLatency, withServer, type Ctx } from '../lib/context.ts';
import { Sampler } from '../lib/proc.ts';
import { MiB, round, row, type ScenarioResult } from '../lib/result.ts';
import { dist, makeText, pool, rng, sleep, vocabulary, waitFor } from '../lib/stats.ts';

interface Sizes {
  members: number;
  rate: number;
  seconds: number;
  full: number;
}

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

export async function fanout(ctx: Ctx): Promise<ScenarioResult> {
  const sizes: Sizes = ctx.quick ? { members: 10, rate: 100, seconds: 4, full: 2 } : { members: 50, rate: 200, seconds: 15, full: 3 };
  const vocab = vocabulary();
  const notes: string[] = [];

  // ---------------- Parley ----------------
  const p = await withServer('parley', async (server) => {
    const users = await registerUsers(server.url, sizes.members, 'fa', ctx.log);
    const sender = await startClient(server.url, users[0]!);
    const conv = await sender.createGroup('fanout', users.slice(1).map((u) => u.username));
    const seg = conv.info.segments.find((s) => s.state === 'open')!;
    const clients: ParleyClient[] = [sender];
    const sockets: SyncConnection[] = [];
    const fullConvs: Conversation[] = [];
    const calls = new Map<string, number>(); // msgId -> send() call time
    const visible: Array<Map<string, number>> = [];
    for (let i = 1; i <= sizes.full; i++) {
      const c = await startClient(server.url, users[i]!);
      clients.push(c);
      const rc = await c.open(conv.id);
      fullConvs.push(rc);
      const seen = new Map<string, number>();
      visible.push(seen);
      rc.on('change', ({ messages }) => {
        const t = now();
        for (let k = messages.length - 1; k >= 0; k--) {
          const m = messages[k]!;
          if (seen.has(m.id)) break;
          if (!m.mine) seen.set(m.id, t);
        }
      });
    }
    const wire: Array<Map<string, number>> = [];
    // One socket per wire member; each attaches to every open segment of the conversation (the first now, the
    // next when the conversation rolls over at the segment size cap, as a member's client does on the notice).
    const wireMembers: Array<{ socket: SyncConnection; arrivals: Map<string, number> }> = [];
    const attachWire = (m: { socket: SyncConnection; arrivals: Map<string, number> }, segId: string) => {
      const doc = new Y.Doc();
      doc.getArray('log').observe((ev) => {
        const t = now();
        for (const d of ev.changes.delta) if (Array.isArray(d.insert)) for (const f of d.insert) {
          const k = frameKey(f);
          if (k && !m.arrivals.has(k)) m.arrivals.set(k, t);
        }
      });
      return m.socket.open(segId, doc);
    };
    const wireLinks = await pool(users.slice(sizes.full + 1), 8, async (u) => {
      const s = socketFor(server.url, u);
      sockets.push(s);
      const arrivals = new Map<string, number>();
      wire.push(arrivals);
      const m = { socket: s, arrivals };
      wireMembers.push(m);
      const link = attachWire(m, seg.id);
      await Promise.race([link.whenSynced(), sleep(30_000)]);
      return link;
    });
    ctx.log(`parley fan-out: ${wireLinks.filter((l) => l.synced).length}/${wireLinks.length} wire members synced, ${fullConvs.length} full members open`);

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
    const watchSender = (segId: string): boolean => {
      const link = sender.sync.link(segId);
      if (!link) return false;
      if (watched.get(segId) === link) return true;
      watched.set(segId, link);
      link.provider.on('close', ({ event }: { event: { reason?: string } }) => {
        if ((event?.reason ?? '').startsWith('rate-limited')) rateLimited++;
      });
      const log = link.provider.document.getArray('log');
      log.observe((ev, tr) => {
        if (tr.origin !== BINDING_ORIGIN) return;
        for (const d of ev.changes.delta) if (Array.isArray(d.insert)) pushed(d.insert, segId);
      });
      pushed(log.toArray(), segId); // frames the client sealed before we looked
      return true;
    };
    watchSender(seg.id);
    const wireSegments = new Set<string>([seg.id]);
    let rollovers = 0;
    /** Follows a rollover (every wire member attaches to the new segment) and re-opened sender links. */
    const followRollover = () => {
      for (const x of conv.info.segments) if (watched.has(x.id) || x.state === 'open') watchSender(x.id);
      const open = conv.info.segments.find((x) => x.state === 'open');
      if (!open || wireSegments.has(open.id)) return;
      wireSegments.add(open.id);
      rollovers++;
      for (const m of wireMembers) attachWire(m, open.id);
    };

    const cpuClient = clientCpu();
    const sampler = new Sampler(server.pid).start();
    const r = rng(1);
    const t0 = now();
    const sent = await sendLoop(sizes, async (i) => {
      const call = now();
      const id = await conv.send(makeText(r, vocab, i));
      calls.set(id, call);
      followRollover();
    });
    const sendWall = (now() - t0) / 1000;
    const ids = [...calls.keys()];
    // Done when the full clients show every message and every frame that reached a member reached them all
    // (a frame refused by a segment the rollover had just closed reaches nobody).
    const delivered = () =>
      visible.every((v) => ids.every((id) => v.has(id))) &&
      [...frameBytes.keys()].every((k) => !wire.some((w) => w.has(k)) || wire.every((w) => w.has(k)));
    const complete = await waitFor(() => (followRollover(), delivered()), 15_000, 100);
    const srv = sampler.stop();
    const cli = cpuClient();
    await conv.whenDelivered(5_000);
    const store = await storeLatency(server.url);

    // Exact message -> frame mapping, after the run (off the timed path): open every frame the sender pushed with
    // the sender's keys and take, per message, the first frame (by push time) whose inner update carries it
    // (coalesced flushes and compaction snapshots can carry messages whose send() had not resolved yet).
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
    for (const w of wire) for (const [k, f] of frameBytes) { const a = w.get(k); if (a !== undefined) relayLat.push(a - f.at); }
    const pipeline = ids.map((id) => (frameOf.has(id) ? frameBytes.get(frameOf.get(id)!)!.at - calls.get(id)! : NaN)).filter(Number.isFinite);
    const frames = new Set(frameOf.values()).size;
    for (const c of clients) await c.stop().catch(() => undefined);
    for (const s of sockets) s.destroy();
    return {
      sent, sendWall, complete, wire: dist(wireLat), wireLost, wireN: wire.length, visible: dist(visLat), visLost, pipeline: dist(pipeline), relay: dist(relayLat), frames, rateLimited,
      srv, cli, store, rollovers, resealed: resealed.length,
    };
  });
  ctx.log(`parley fan-out: sent ${p.sent} in ${p.sendWall.toFixed(1)} s as ${p.frames} frames; wire p50 ${p.wire.p50.toFixed(1)} ms, visible p50 ${p.visible.p50.toFixed(1)} ms`);

  // ---------------- Baseline ----------------
  const b = await withServer('baseline', async (server) => {
    const sender = baselineProvider(server.wsUrl, 'fanout');
    const receivers: BaselineLink[] = [];
    const arrivals: Array<Map<string, number>> = [];
    for (let i = 1; i < sizes.members; i++) {
      const l = baselineProvider(server.wsUrl, 'fanout');
      const seen = new Map<string, number>();
      arrivals.push(seen);
      l.doc.getArray<{ id: string }>('messages').observe((ev) => {
        const t = now();
        for (const d of ev.changes.delta) if (Array.isArray(d.insert)) for (const m of d.insert as Array<{ id: string }>) seen.set(m.id, t);
      });
      receivers.push(l);
    }
    await Promise.race([Promise.all([sender.synced, ...receivers.map((l) => l.synced)]), sleep(30_000)]);
    const calls = new Map<string, number>();
    const arr = sender.doc.getArray('messages');
    const cpuClient = clientCpu();
    const sampler = new Sampler(server.pid).start();
    const r = rng(1);
    const tb = now();
    const sent = await sendLoop(sizes, async (i) => {
      const id = `m${i}`;
      const call = now();
      arr.push([{ id, author: 'sender', ts: Date.now(), text: makeText(r, vocab, i) }]);
      calls.set(id, call);
    });
    const sendWall = (now() - tb) / 1000;
    const ids = [...calls.keys()];
    const complete = await waitFor(() => arrivals.every((a) => ids.every((id) => a.has(id))), 15_000, 100);
    const srv = sampler.stop();
    const cli = cpuClient();
    const lat: number[] = [];
    let lost = 0;
    for (const a of arrivals)
      for (const id of ids) {
        const t = a.get(id);
        if (t === undefined) lost++;
        else lat.push(t - calls.get(id)!);
      }
    sender.destroy();
    for (const l of receivers) l.destroy();
    return { sent, sendWall, complete, lat: dist(lat), lost, srv, cli };
  });

  const recvMsgs = p.sent * (sizes.members - 1 - sizes.full);
  if (p.rollovers > 0) notes.push(`The conversation passed the segment size cap (about 1 MiB of frames) ${p.rollovers}× during the run; the sender's client rolled over to a new segment and every wire member attached to it when the bench saw the new segment (a frame sealed before a member attached arrives with that member's initial sync, which the latency includes). Messages sealed into the closed segment in the moment of the rollover (refused there) are timed to the frame of the new segment that carried them.${p.resealed > 0 ? ` ${p.resealed} messages were found only in frames no member received; they are left out of the wire rows (the full clients' row shows whether they arrived).` : ''}`);
  if (p.rateLimited > 0) notes.push(`The server's per-connection budget (100 messages/s, burst 300) closed the sender's document connection ${p.rateLimited}× (rate-limited); the client re-attached and re-synced.`);
  notes.push(
    `Parley server append latency (its /metrics, last 1,024 updates): p50 ${round(p.store.p50)} ms, p99 ${round(p.store.p99)} ms over ${p.store.count} updates. The server relays a validated update at once and holds only the sender's acknowledgement until the PostgreSQL commit (synchronous_commit on), so the commit is off the delivery path.`,
    `Relay latency (frame pushed by the sender's provider → arrived on a member socket; excludes the client send pipeline, comparable to the baseline's push → arrival): Parley p50 ${round(p.relay.p50)} ms, p99 ${round(p.relay.p99)} ms vs baseline p50 ${round(b.lat.p50)} ms, p99 ${round(b.lat.p99)} ms.`,
    `Parley sent ${p.sent} messages as ${p.frames} frames (Conversation.send coalesces delivery without a fixed delay: a send to an idle conversation flushes at once, sends that arrive while a flush is queued or running join the next one, and past a client-side budget of 20 frames, then 20 per second, a fast sender's messages share frames). Send pipeline (send() call to frame pushed, sign + outbox + seal): p50 ${round(p.pipeline.p50)} ms, p99 ${round(p.pipeline.p99)} ms.`,
    `Wire latency is measured on ${p.wireN} member sockets (frame carrying the message arrived); visible latency on ${sizes.full} full clients (frame verified + decrypted, message signature verified, list materialized and the change event fired). All clients share one bench process (client CPU ${round(p.cli, 2)} cores Parley vs ${round(b.cli, 2)} baseline).`,
  );
  return {
    id: 'a',
    title: 'Fan-out',
    setup: `1 conversation, ${sizes.members} members, 1 sender at ${sizes.rate} msg/s for ${sizes.seconds} s (${p.sent} messages → ${recvMsgs + p.sent * sizes.full} Parley deliveries, ${b.sent * (sizes.members - 1)} baseline)`,
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
      row('server CPU during run', round(p.srv.cpuCores, 2), round(b.srv.cpuCores, 2), 'cores'),
      row('server peak RSS', round(p.srv.peakRss / MiB), round(b.srv.peakRss / MiB), 'MiB'),
    ],
    notes,
  };
}

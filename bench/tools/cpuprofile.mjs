#!/usr/bin/env node
/**
 * Reads V8 CPU profiles (`node --cpu-prof`, or BENCH_CPU_PROFILE=<dir> for the bench's children).
 *
 *   node bench/tools/cpuprofile.mjs timeline FILE              busy ms in each second (BUCKET_MS=100: each 100 ms)
 *   node bench/tools/cpuprofile.mjs top FILE [N]               self time by function and by file
 *   node bench/tools/cpuprofile.mjs incl FILE NAME...          inclusive time of functions by name
 *   node bench/tools/cpuprofile.mjs callers FILE NAME [DEPTH]  the stacks that lead to NAME
 *
 * WINDOW=from,to (seconds from the profile's start) restricts top, incl and callers to a part of the run.
 */
import { readFileSync } from 'node:fs';

const [cmd, file, ...rest] = process.argv.slice(2);
if (!cmd || !file) {
  console.error('usage: cpuprofile.mjs timeline|top|incl|callers FILE ...');
  process.exit(2);
}
const p = JSON.parse(readFileSync(file, 'utf8'));
const byId = new Map(p.nodes.map((n) => [n.id, n]));
const parent = new Map();
for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
const [from, to] = (process.env.WINDOW ?? '0,1e9').split(',').map(Number);
const label = (cf) => `${cf.functionName || '(anon)'} ${cf.url.split('/').slice(-2).join('/')}:${cf.lineNumber}`;
const ms = (us) => (us / 1000).toFixed(1).padStart(9);

/** Calls fn(nodeId, microseconds) for every sample inside the window; returns the window's total. */
function samples(fn) {
  let t = 0;
  let total = 0;
  for (let i = 0; i < p.samples.length; i++) {
    const d = p.timeDeltas[i] ?? 0;
    t += d;
    if (t / 1e6 < from || t / 1e6 > to) continue;
    total += d;
    fn(p.samples[i], d, t);
  }
  return total;
}

if (cmd === 'timeline') {
  const bucketMs = Number(process.env.BUCKET_MS ?? 1000);
  const busy = [];
  let t = 0;
  for (let i = 0; i < p.samples.length; i++) {
    t += p.timeDeltas[i] ?? 0;
    if (byId.get(p.samples[i]).callFrame.functionName === '(idle)') continue;
    const s = Math.floor(t / 1e3 / bucketMs);
    busy[s] = (busy[s] ?? 0) + (p.timeDeltas[i] ?? 0) / 1000;
  }
  console.log(Array.from(busy, (b, i) => `${(i * bucketMs) / 1000}:${Math.round(b ?? 0)}`).join(' '));
} else if (cmd === 'top') {
  const fn = new Map();
  const files = new Map();
  const total = samples((id, d) => {
    const cf = byId.get(id).callFrame;
    fn.set(label(cf), (fn.get(label(cf)) ?? 0) + d);
    const f = cf.url.split('/').slice(-2).join('/') || cf.functionName;
    files.set(f, (files.get(f) ?? 0) + d);
  });
  const top = (m, n) => [...m].sort((a, b) => b[1] - a[1]).slice(0, n).map(([k, d]) => `${ms(d)} ms ${((100 * d) / total).toFixed(1).padStart(5)}%  ${k}`).join('\n');
  console.log(`total ${(total / 1000).toFixed(0)} ms\n-- by function\n${top(fn, Number(rest[0] ?? 40))}\n-- by file\n${top(files, 25)}`);
} else if (cmd === 'incl') {
  const incl = new Map(rest.map((n) => [n, 0]));
  const total = samples((id, d) => {
    const seen = new Set();
    for (let x = id; x !== undefined; x = parent.get(x)) {
      const name = byId.get(x).callFrame.functionName;
      if (incl.has(name) && !seen.has(name)) {
        seen.add(name);
        incl.set(name, incl.get(name) + d);
      }
    }
  });
  for (const [n, d] of incl) console.log(`${ms(d)} ms ${((100 * d) / total).toFixed(1).padStart(5)}%  ${n}`);
} else if (cmd === 'callers') {
  const [name, depth = '8'] = rest;
  const acc = new Map();
  samples((id, d) => {
    let x = id;
    while (x !== undefined && byId.get(x).callFrame.functionName !== name) x = parent.get(x);
    if (x === undefined) return;
    const stack = [];
    for (let k = 0; k < Number(depth) && x !== undefined; k++, x = parent.get(x)) {
      const cf = byId.get(x).callFrame;
      stack.push(`${cf.functionName || '(anon)'}@${cf.url.split('/').pop()}:${cf.lineNumber}`);
    }
    const key = stack.join(' < ');
    acc.set(key, (acc.get(key) ?? 0) + d);
  });
  for (const [k, d] of [...acc].sort((a, b) => b[1] - a[1]).slice(0, 15)) console.log(`${ms(d)} ms  ${k}`);
} else {
  console.error(`unknown command ${cmd}`);
  process.exit(2);
}

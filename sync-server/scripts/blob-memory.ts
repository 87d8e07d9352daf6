/**
 * Server memory during a large encrypted file transfer (not a timed test; figures go in docs/operations.md):
 *
 *   npx tsx sync-server/scripts/blob-memory.ts [sizeMB=200]
 *
 * Starts the real server (`src/main.ts`) in a child process on real PostgreSQL (a throwaway database on
 * TEST_POSTGRES_URL, default postgres://postgres@127.0.0.1:5432/postgres) with BLOB_MAX_BYTES raised to
 * 500 MB, uploads a deterministic file through the real client (`uploadFile`), downloads it as a second
 * member (`downloadFile` with a hashing sink), checks the hash, and samples the server's RSS from
 * /proc/<pid>/status every 50 ms. Prints baseline and peak RSS per phase. The client side streams too, so
 * this process stays small as well (printed for comparison).
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { sha256 } from '@noble/hashes/sha2.js';
import { attachFile, downloadFile, uploadFile } from '../../shared/src/client/files.ts';
import { fromBase64Url } from '@parley/shared/protocol';
import { createTestDatabase } from '../test/helpers/server.ts';
import { createConversation, registerUsers } from '../test/sync/support.ts';
import { deterministicBytes, deterministicSha256, transportFor } from '../test/blobs-support.ts';

const MB = 1_000_000;
const size = Number(process.argv[2] ?? 200) * MB;

async function rssOf(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const kb = /^VmRSS:\s+(\d+) kB$/m.exec(status)?.[1];
  return kb === undefined ? 0 : Number(kb) * 1024;
}

const mib = (n: number) => `${(n / 1024 / 1024).toFixed(1)} MiB`;

async function main(): Promise<void> {
  const db = await createTestDatabase();
  const entry = fileURLToPath(new URL('../src/main.ts', import.meta.url));
  const child = spawn(process.execPath, ['--import', 'tsx', entry], {
    env: {
      ...process.env,
      PORT: '0',
      HOST: '127.0.0.1',
      DATABASE_URL: db.url,
      JWT_SECRET: randomBytes(32).toString('base64url'),
      LOG_LEVEL: 'info',
      BLOB_MAX_BYTES: String(500 * MB),
      BLOB_QUOTA_BYTES: String(2 * 1024 * MB),
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const pid = child.pid;
  if (pid === undefined) throw new Error('could not start the server');
  try {
    const url = await new Promise<string>((resolve, reject) => {
      const lines = createInterface({ input: child.stdout });
      lines.on('line', (line) => {
        const m = /"msg":"listening".*"url":"([^"]+)"/.exec(line);
        if (m?.[1]) resolve(m[1]);
      });
      child.once('exit', (code) => reject(new Error(`server exited with ${code}`)));
    });
    const [alice, bob] = await registerUsers(url, ['alice', 'bob']);
    const convId = (await createConversation(url, alice, [bob])).conversation.id;
    // Let start-up garbage settle, then take the baseline as the median of a few samples.
    await new Promise((r) => setTimeout(r, 1500));
    const base: number[] = [];
    for (let i = 0; i < 10; i++) {
      base.push(await rssOf(pid));
      await new Promise((r) => setTimeout(r, 100));
    }
    const baseline = base.sort((a, b) => a - b)[5]!;

    let phasePeak = 0;
    const sampler = setInterval(() => {
      rssOf(pid).then((v) => {
        phasePeak = Math.max(phasePeak, v);
      }, () => undefined);
    }, 50);
    let clientPeak = 0;
    const clientSampler = setInterval(() => {
      clientPeak = Math.max(clientPeak, process.memoryUsage.rss());
    }, 50);

    const seed = 0xb10b;
    let t = performance.now();
    const ref = await uploadFile({ transport: transportFor(url, alice), convId, name: 'big.bin', type: 'application/octet-stream', data: deterministicBytes(size, seed), size });
    const upMs = performance.now() - t;
    const uploadPeak = phasePeak;
    await attachFile({ transport: transportFor(url, alice), blobId: ref.blobId });

    phasePeak = 0;
    const h = sha256.create();
    t = performance.now();
    const result = await downloadFile({ transport: transportFor(url, bob), ref, sink: (c) => void h.update(c) });
    const downMs = performance.now() - t;
    const downloadPeak = phasePeak;
    clearInterval(sampler);
    clearInterval(clientSampler);

    const expected = await deterministicSha256(size, seed);
    const ok = result.ok && Buffer.from(h.digest()).equals(Buffer.from(expected)) && Buffer.from(fromBase64Url(ref.sha256)).equals(Buffer.from(expected));
    console.log(`file: ${size / MB} MB (${size} bytes), hash ${ok ? 'verified' : 'MISMATCH'}`);
    console.log(`server RSS baseline:        ${mib(baseline)}`);
    console.log(`server RSS peak, upload:    ${mib(uploadPeak)}  (+${mib(uploadPeak - baseline)})  ${((size / MB) / (upMs / 1000)).toFixed(1)} MB/s`);
    console.log(`server RSS peak, download:  ${mib(downloadPeak)}  (+${mib(downloadPeak - baseline)})  ${((size / MB) / (downMs / 1000)).toFixed(1)} MB/s`);
    console.log(`client (this process) RSS peak: ${mib(clientPeak)}`);
    if (!ok) process.exitCode = 1;
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
    await db.drop();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});

/**
 * The `ClientStorage` contract for the Node implementations (MemoryStorage, FileStorage on a real directory):
 * `list(prefix)` returns exactly the keys under a prefix, sorted; the per-entry outbox records of the client
 * core rely on it. The browser's IndexedDB implementation is covered by the e2e reload tests.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import * as fs from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FileStorage, MemoryStorage, type ClientStorage } from '@parley/shared/client';

describe('ClientStorage list contract', () => {
  const dirs: string[] = [];
  afterAll(async () => {
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });
  const impls: Array<[string, () => Promise<ClientStorage>]> = [
    ['MemoryStorage', async () => new MemoryStorage()],
    [
      'FileStorage',
      async () => {
        const dir = await mkdtemp(path.join(tmpdir(), 'parley-storage-'));
        dirs.push(dir);
        return new FileStorage(fs, dir);
      },
    ],
  ];
  for (const [name, make] of impls) {
    it(`${name}: list returns exactly the keys under a prefix, sorted, and forgets deleted ones`, async () => {
      const s = await make();
      const keys = ['outbox/c1/ab:2', 'outbox/c1/ab:10', 'outbox/c1', 'outbox/c10/ab:1', 'other/ü/x'];
      for (const k of keys) await s.set(k, new Uint8Array([1]));
      expect(await s.list('outbox/c1/')).toEqual(['outbox/c1/ab:10', 'outbox/c1/ab:2']);
      expect(await s.list('outbox/c1')).toEqual(['outbox/c1', 'outbox/c1/ab:10', 'outbox/c1/ab:2', 'outbox/c10/ab:1']);
      expect(await s.list('other/ü/')).toEqual(['other/ü/x']);
      await s.delete('outbox/c1/ab:2');
      await s.delete('outbox/c1/never-written');
      expect(await s.list('outbox/c1/')).toEqual(['outbox/c1/ab:10']);
      expect(await s.list('nothing/')).toEqual([]);
    });
  }
});

/// <reference lib="webworker" />
/**
 * Runs argon2id + HKDF (`derivePasswordKeys`) off the main thread. One request at a time per worker;
 * progress is throttled to whole percents so the page is not flooded with messages.
 */
import '../zod-config.ts';
import { derivePasswordKeys } from '@parley/shared/client';
import { KdfRequest, type KdfReply } from './protocol.ts';

declare const self: DedicatedWorkerGlobalScope;

function reply(message: KdfReply, transfer: Transferable[] = []): void {
  self.postMessage(message, transfer);
}

self.addEventListener('message', (event: MessageEvent<unknown>) => {
  const parsed = KdfRequest.safeParse(event.data);
  if (!parsed.success) return; // not ours; the page only sends KdfRequest
  const { id, password, salt, kdf } = parsed.data;
  let lastPercent = -1;
  derivePasswordKeys(password, salt, kdf, (fraction) => {
    const percent = Math.floor(fraction * 100);
    if (percent === lastPercent) return;
    lastPercent = percent;
    reply({ v: 1, id, type: 'progress', fraction: Math.min(1, Math.max(0, fraction)) });
  }).then(
    (keys) => {
      // Copies on fresh ArrayBuffers, transferred (moved, not cloned) to the page; the originals are wiped.
      const authKey = new Uint8Array(keys.authKey);
      const kek = new Uint8Array(keys.kek);
      keys.authKey.fill(0);
      keys.kek.fill(0);
      reply({ v: 1, id, type: 'done', authKey, kek }, [authKey.buffer, kek.buffer]);
    },
    (e: unknown) => reply({ v: 1, id, type: 'error', message: e instanceof Error ? e.message : 'derivation failed' }),
  );
});

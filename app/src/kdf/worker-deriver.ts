/**
 * A `PasswordDeriver` that runs `derivePasswordKeys` in a module Worker, so argon2id (64 MiB, ~1-2 s)
 * never blocks the UI. One worker per derivation, terminated afterwards: its memory (the password and the
 * 64 MiB argon2 block) is released instead of lingering in an idle worker.
 */
import { ClientError, type PasswordDeriver, type PasswordKeys } from '@parley/shared/client';
import { KdfReply, type KdfRequest } from './protocol.ts';

let nextId = 1;

/** Derives in a Worker; rejects with `ClientError('invalid_input')` as the in-thread version does. */
export const workerDerive: PasswordDeriver = (password, salt, kdf, onProgress) =>
  new Promise<PasswordKeys>((resolve, reject) => {
    const worker = new Worker(new URL('./kdf.worker.ts', import.meta.url), { type: 'module', name: 'parley-kdf' });
    const id = nextId++;
    const finish = () => worker.terminate();
    worker.addEventListener('message', (event: MessageEvent<unknown>) => {
      const parsed = KdfReply.safeParse(event.data);
      if (!parsed.success || parsed.data.id !== id) return;
      const msg = parsed.data;
      switch (msg.type) {
        case 'progress':
          onProgress?.(msg.fraction);
          return;
        case 'done':
          finish();
          resolve({ authKey: msg.authKey, kek: msg.kek });
          return;
        case 'error':
          finish();
          reject(new ClientError('invalid_input', msg.message));
          return;
        default: {
          const never: never = msg;
          return never;
        }
      }
    });
    worker.addEventListener('error', (event) => {
      finish();
      reject(new ClientError('invalid_input', `the key derivation worker failed: ${event.message}`));
    });
    const request: KdfRequest = { v: 1, id, password, salt: salt.slice(), kdf };
    worker.postMessage(request);
  });

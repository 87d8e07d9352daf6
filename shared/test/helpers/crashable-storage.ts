/** Test storage for crash scenarios (send path, outbox): what a killed process leaves on disk. */
import type { ClientStorage } from '../../src/client/index.ts';

/** Wraps a storage and stops persisting writes and deletes at `crash()`; reads still see what reached it. */
export class CrashableStorage implements ClientStorage {
  crashed = false;
  constructor(readonly inner: ClientStorage) {}
  crash(): void {
    this.crashed = true;
  }
  get(key: string) {
    return this.inner.get(key);
  }
  async set(key: string, value: Uint8Array) {
    if (!this.crashed) await this.inner.set(key, value);
  }
  async delete(key: string) {
    if (!this.crashed) await this.inner.delete(key);
  }
  list(prefix: string) {
    return this.inner.list(prefix);
  }
}

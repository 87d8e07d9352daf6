import type { FullConfig } from '@playwright/test';
import { startServerProcess } from './server.ts';

/** Starts one real server for the whole run; tests read its URL from PARLEY_URL. */
export default async function globalSetup(_config: FullConfig): Promise<() => Promise<void>> {
  const server = await startServerProcess();
  process.env.PARLEY_URL = server.url;
  return async () => {
    await server.stop();
  };
}

/**
 * Process entry point (`npm start`): reads the environment once, starts the server, and shuts down
 * gracefully on SIGTERM/SIGINT. Exits non-zero with a readable message on bad configuration or start-up
 * failure.
 */
import { ConfigError, loadConfig } from './config.ts';
import { startServer } from './server.ts';

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig(process.env);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(2);
    }
    throw error;
  }
  const server = await startServer(config);
  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    server.log.info('shutting down', { signal });
    const force = setTimeout(() => {
      server.log.error('shutdown timed out; exiting');
      process.exit(1);
    }, 10_000);
    force.unref();
    server.close().then(
      () => process.exit(0),
      (error: unknown) => {
        server.log.error('shutdown failed', { err: error });
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main().catch((error: unknown) => {
  process.stderr.write(`Parley server failed to start: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});

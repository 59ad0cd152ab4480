import { Command } from 'commander';
import { setFlagsFromString } from 'node:v8';
import { startServer } from '../app.js';
import type { Config } from '../config.js';
import { createLogger } from '../logger.js';
import { isTransientStoreError } from '../spec/storage-errors.js';
import { addConfigOptions, configFromOptions } from './config-options.js';

export function serveCommand(): Command {
  const command = new Command('serve')
    .description('Run the API server (SQLite and local files under --data-dir; no set-up needed), or one process of many on --database-url')
    .addHelpText(
      'after',
      '\nExamples:\n' +
        '  wan serve --port 8080 --data-dir ./data\n' +
        '  wan serve --database-url postgres://wan@db/wan --worker-concurrency 0      # API only\n' +
        '  wan serve --database-url postgres://wan@db/wan --worker-only --port 9101   # tasks only\n',
    );
  return addConfigOptions(command).action(async (options: Record<string, string | boolean | undefined>) => {
    keepRequestsInTheYoungGeneration();
    const config = configFromOptions(options);
    const logger = createLogger(config.log_level);
    const server = await startServer(config, logger).catch((error: unknown) => {
      // One line a person can act on, not a stack: the log has the details.
      logger.error({ err: error }, 'the server could not start');
      process.stderr.write(`wan: ${startFailure(error as NodeJS.ErrnoException, config)}\n`);
      process.exit(1);
    });
    if (server.firstApiKey) {
      // Shown once, outside the JSON log: logs are kept and shipped, a key must not be.
      process.stderr.write(
        `\nCreated the first API key (it is shown only this once; \`wan keys create\` makes more):\n\n  ${server.firstApiKey}\n\n`,
      );
    }
    let closing = false;
    const shutdown = (signal: string) => {
      if (closing) return;
      closing = true;
      logger.info({ signal }, 'shutting down');
      server.close().then(
        () => process.exit(0),
        (error: unknown) => {
          logger.error({ err: error }, 'shutdown failed');
          process.exit(1);
        },
      );
    };
    process.on('SIGTERM', () => shutdown('SIGTERM'));
    process.on('SIGINT', () => shutdown('SIGINT'));
  });
}

/**
 * Under steady load V8's allocation-site pretenuring can decide to allocate each request's HTTP
 * objects (Node's request and response, their headers, Fastify's request state) straight into the
 * old generation. Those objects live ~4 ms, yet there they keep what they point to alive until the
 * next full collection, so every young collection promotes ~1.7 MB and the state feeds itself:
 * pauses of 5–9 ms instead of 1–2, and twice the collector threads' CPU a request (measured in
 * docs/benchmarks.md). A server's allocations are per request, which is the case pretenuring gets
 * wrong; the flag has to be set before the first request, and the serve command owns its process.
 */
function keepRequestsInTheYoungGeneration(): void {
  setFlagsFromString('--no-allocation-site-pretenuring');
}

function startFailure(error: NodeJS.ErrnoException, config: Config): string {
  if (config.database_url !== undefined && isTransientStoreError(error)) {
    return `cannot reach the database at database_url (${error.message}); check that PostgreSQL runs and the URL is right`;
  }
  switch (error.code) {
    case 'EADDRINUSE':
      return `port ${config.port} is in use; pass --port (or set WAN_PORT) to use another`;
    case 'EADDRNOTAVAIL':
      return `cannot listen on ${config.host}: this machine has no such address; pass --host`;
    case 'EACCES':
      return `not allowed to listen on ${config.host}:${config.port}; pass a --port above 1023`;
    default:
      return `the server could not start: ${error.message}`;
  }
}

import { Command } from 'commander';
import { type RunningServer, startServer } from '../app.js';
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
    const config = configFromOptions(options);
    const logger = createLogger(config.log_level);
    // Signals are taken from the first moment: a SIGTERM that arrives while the server is still
    // starting (its "listening" line out, its worker perhaps holding a task) drains it once it
    // has started, instead of ending the process by the signal's default action. A second signal
    // before then ends it at once: a start stuck on an unreachable database is not waited out.
    let server: RunningServer | undefined;
    let stopSignal: string | undefined;
    const shutdown = (signal: string) => {
      if (stopSignal === undefined) {
        stopSignal = signal;
        if (server) close(server, signal);
      } else if (server === undefined) {
        process.exit(1);
      }
    };
    const close = (running: RunningServer, signal: string) => {
      logger.info({ signal }, 'shutting down');
      running.close().then(
        () => process.exit(0),
        (error: unknown) => {
          logger.error({ err: error }, 'shutdown failed');
          process.exit(1);
        },
      );
    };
    process.on('SIGTERM', () => shutdown('SIGTERM'));
    process.on('SIGINT', () => shutdown('SIGINT'));
    server = await startServer(config, logger).catch((error: unknown) => {
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
    if (stopSignal !== undefined) close(server, stopSignal);
  });
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

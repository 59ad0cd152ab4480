import { Command } from 'commander';
import { startServer } from '../app.js';
import { createLogger } from '../logger.js';
import { addConfigOptions, configFromOptions } from './config-options.js';

export function serveCommand(): Command {
  const command = new Command('serve')
    .description('Run the API server (SQLite and local files under --data-dir; no set-up needed)')
    .addHelpText('after', '\nExample:\n  wan serve --port 8080 --data-dir ./data\n');
  return addConfigOptions(command).action(async (options: Record<string, string | undefined>) => {
    const config = configFromOptions(options);
    const logger = createLogger(config.log_level);
    const server = await startServer(config, logger);
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

#!/usr/bin/env node
import { Command, CommanderError } from 'commander';
import { modelCommand, resultCommand, waitCommand } from './client-commands.js';
import { ExitCode } from './exit-codes.js';
import { keysCommand } from './keys-command.js';
import { models } from '../models/registry.js';
import { serveCommand } from './serve-command.js';
import { cancelCommand, tasksCommand, webhookSecretCommand, webhooksCommand } from './task-commands.js';
import { usageCommand } from './usage-command.js';

// A reader that stops early (`wan --help | head`) closes the pipe: that is not an error.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE') throw error;
    process.exit(process.exitCode ?? 0);
  });
}

const program = new Command('wan')
  .description('wan-api: a self-hosted server for the Wan 2.7 video-generation API, and its command-line client')
  .showHelpAfterError()
  .addHelpText(
    'after',
    '\nExamples:\n' +
      '  wan serve --port 8080 --data-dir ./data\n' +
      '  export WAN_API_KEY=$(wan keys create --data-dir ./data)\n' +
      '  wan t2v "A paper boat drifting down a rainy street" --size 1280*720 --wait -o boat.mp4\n' +
      '  wan result <task_id>\n',
  );
program.addCommand(serveCommand());
program.addCommand(keysCommand());
for (const model of models) program.addCommand(modelCommand(model.id));
program.addCommand(resultCommand());
program.addCommand(waitCommand());
program.addCommand(cancelCommand());
program.addCommand(tasksCommand());
program.addCommand(webhooksCommand());
program.addCommand(webhookSecretCommand());
program.addCommand(usageCommand());

/** Usage errors (unknown flag, missing argument) end with the bad-input exit code, on every command. */
function exitOverrideEverywhere(command: Command): void {
  command.exitOverride();
  for (const sub of command.commands) exitOverrideEverywhere(sub);
}
exitOverrideEverywhere(program);

try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (!(error instanceof CommanderError)) throw error;
  process.exitCode = error.exitCode === 0 ? ExitCode.Ok : ExitCode.BadInput;
}

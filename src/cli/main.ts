#!/usr/bin/env node
import { Command } from 'commander';
import { serveCommand } from './serve-command.js';
import { keysCommand } from './keys-command.js';

const program = new Command('wan')
  .description('wan-api: a self-hosted server for the Wan 2.7 video-generation API')
  .showHelpAfterError();
program.addCommand(serveCommand());
program.addCommand(keysCommand());
await program.parseAsync(process.argv);

import { type Command, Option } from 'commander';
import { type Config, type ConfigKey, ConfigError, configKeys, environmentVariable, flagName, loadConfig } from '../config.js';

/** Adds a flag for each config key (or the named ones), with its environment variable in the help. */
export function addConfigOptions(command: Command, keys: readonly ConfigKey[] = Object.keys(configKeys) as ConfigKey[]): Command {
  for (const key of keys) {
    // A switch needs no value (`--worker-only`), and takes one to say it off (`--worker-only false`).
    const value = configKeys[key].type === 'boolean' ? '[value]' : '<value>';
    command.addOption(new Option(`${flagName(key)} ${value}`, `${configKeys[key].description} [${environmentVariable(key)}]`));
  }
  return command.option('--config <file>', 'JSON file of configuration keys [WAN_CONFIG]');
}

/** Flags > environment > file > defaults; a bad value ends the command with a message saying how to fix it. */
export function configFromOptions(options: Record<string, string | boolean | undefined>): Config {
  const flags: Partial<Record<ConfigKey, string | boolean>> = {};
  for (const key of Object.keys(configKeys) as ConfigKey[]) {
    const value = options[camelCase(key)];
    if (value !== undefined) flags[key] = value;
  }
  try {
    return loadConfig({ flags, env: process.env, file: options.config as string | undefined });
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`wan: ${error.message}\n`);
      process.exit(2);
    }
    throw error;
  }
}

function camelCase(key: string): string {
  return key.replace(/_([a-z])/g, (_match, letter: string) => letter.toUpperCase());
}

import { Command } from 'commander';
import { createApiKey } from '../auth/api-keys.js';
import { openStore } from '../store/open-store.js';
import type { ApiKeyStore } from '../spec/key-store.js';
import { addConfigOptions, configFromOptions } from './config-options.js';
import { addLimitOptions, describeLimits, limitsFromOptions } from './key-limit-options.js';

/** `wan keys create | list | update | revoke`, working directly on the server's database: PostgreSQL at --database-url, or the data directory's SQLite file. */
export function keysCommand(): Command {
  const keys = new Command('keys').description('Manage API keys');
  keys.addCommand(
    addLimitOptions(
      withStore(new Command('create'), 'Create a key and print it (only the key, on stdout)', async (store, options) => {
        const { key } = await createApiKey(store, (options.name as string | undefined) ?? 'unnamed', Date.now(), limitsFromOptions(options));
        process.stdout.write(`${key}\n`);
      }).option('--name <name>', 'a label to recognise the key by'),
    ).addHelpText('after', '\nExample:\n  export WAN_API_KEY=$(wan keys create --name ci --requests-per-minute 60 --seconds-per-day 600 --data-dir ./data)\n'),
  );
  keys.addCommand(
    addLimitOptions(
      withStore(new Command('update'), "Change a key's limits (by its id or prefix); none gives a limit back to the server's default", async (store, options, args) => {
        const limits = limitsFromOptions(options);
        if (Object.keys(limits).length === 0) {
          process.stderr.write('wan: name at least one limit to change, e.g. --requests-per-minute 60 or --in-flight none (see wan keys update --help)\n');
          process.exitCode = 2;
          return;
        }
        const updated = await store.updateKeyLimits(args[0], limits);
        if (!updated) {
          process.stderr.write(`wan: no active key with id or prefix "${args[0]}" (see wan keys list)\n`);
          process.exitCode = 1;
          return;
        }
        process.stdout.write(`${updated.prefix}…  limits: ${describeLimits(updated.limits)}\n`);
      }).argument('<id-or-prefix>', 'the key id, or the prefix wan keys list shows'),
    ).addHelpText('after', '\nExample:\n  wan keys update wan_Ab3dE5fG --in-flight 4 --seconds-per-month none --data-dir ./data\n'),
  );
  keys.addCommand(
    withStore(new Command('list'), 'List keys (prefix, name, created, revoked, own limits)', async (store, options) => {
      const list = await store.listKeys();
      if (options.json) {
        process.stdout.write(`${JSON.stringify(list, null, 2)}\n`);
        return;
      }
      for (const key of list) {
        const revoked = key.revokedAt ? `revoked ${new Date(key.revokedAt).toISOString()}` : 'active';
        const created = new Date(key.createdAt).toISOString();
        process.stdout.write(`${key.prefix}…  ${key.id}  ${key.name}  created ${created}  ${revoked}  limits: ${describeLimits(key.limits)}\n`);
      }
    })
      .option('--json', 'print JSON')
      .addHelpText('after', '\nExample:\n  wan keys list --data-dir ./data\n'),
  );
  keys.addCommand(
    withStore(new Command('revoke'), 'Revoke a key by its id or its prefix', async (store, _options, args) => {
      const revoked = await store.revokeKey(args[0], Date.now());
      if (!revoked) {
        process.stderr.write(`wan: no active key with id or prefix "${args[0]}" (see wan keys list)\n`);
        process.exitCode = 1;
        return;
      }
      process.stdout.write(`revoked ${revoked.prefix}… (${revoked.id})\n`);
    })
      .argument('<id-or-prefix>', 'the key id, or the prefix wan keys list shows')
      .addHelpText('after', '\nExample:\n  wan keys revoke wan_Ab3dE5fG --data-dir ./data\n'),
  );
  return keys;
}

type KeyAction = (store: ApiKeyStore, options: Record<string, unknown>, args: string[]) => Promise<void>;

function withStore(command: Command, description: string, action: KeyAction): Command {
  return addConfigOptions(command.description(description), ['data_dir', 'database_url']).action(async (...parameters: unknown[]) => {
    const commandObject = parameters.at(-1) as Command;
    const options = commandObject.opts<Record<string, unknown>>();
    // A one-off command: nothing to hear from the servers.
    const store = await openStore(configFromOptions(options as Record<string, string | boolean | undefined>), { listen: false });
    try {
      await action(store.keys, options, commandObject.args);
    } finally {
      await store.close();
    }
  });
}

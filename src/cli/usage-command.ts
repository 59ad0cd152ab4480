import { Command, Option } from 'commander';
import { addConnectionOptions, type ConnectionOptions, exitCodesHelp, guarded, requireKey } from './client-commands.js';
import { ExitCode } from './exit-codes.js';
import { table } from './text-table.js';

interface UsageOptions extends ConnectionOptions {
  from?: string;
  to?: string;
  groupBy?: 'model' | 'day';
}

/** `wan usage`: what your tasks billed in a period, per model or per day (GET /v3/usage). */
export function usageCommand(): Command {
  const command = new Command('usage')
    .description('Show what your tasks billed: tasks, seconds, list price and cost, per model or per UTC day')
    .option('--from <date>', 'start: a UTC day (2026-11-01) or an ISO 8601 time; default: the start of this UTC month')
    .option('--to <date>', 'exclusive end, in the same forms; default: now')
    .addOption(new Option('--group-by <group>', 'one row per model or per UTC day').choices(['model', 'day']).default('model'));
  addConnectionOptions(command).addHelpText('after', `\nExample:\n  wan usage --from 2026-11-01 --group-by day\n${exitCodesHelp}`);
  return command.action(async (options: UsageOptions) => {
    await guarded(options, async (client, signal) => {
      requireKey(options);
      const report = await client.usage({ from: options.from, to: options.to, group_by: options.groupBy }, { signal });
      if (options.json) {
        process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
        return ExitCode.Ok;
      }
      const money = (amount: number) => amount.toFixed(2);
      const rows = [...report.rows, { group: 'total', ...report.total }].map((row) => [
        row.group,
        String(row.tasks),
        String(row.billed_seconds),
        money(row.list_price),
        money(row.cost),
      ]);
      process.stdout.write(`${report.from} – ${report.to}\n`);
      process.stdout.write(table([report.group_by.toUpperCase(), 'TASKS', 'SECONDS', `LIST PRICE (${report.currency})`, `COST (${report.currency})`], rows));
      return ExitCode.Ok;
    });
  });
}

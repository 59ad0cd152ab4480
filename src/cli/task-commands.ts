import { Command, Option } from 'commander';
import type { TaskResult, TaskStatusName, WebhookDelivery } from '../client/types.js';
import { models } from '../models/registry.js';
import type { ModelId } from '../models/model.js';
import { TaskStatus } from '../spec/task-status.js';
import { addConnectionOptions, type ConnectionOptions, exitCodesHelp, guarded, requireKey } from './client-commands.js';
import { ExitCode } from './exit-codes.js';
import { BadInput } from './model-flags.js';
import { shortStatus } from './progress-bar.js';
import { table } from './text-table.js';

/** `wan cancel`, `wan tasks`, `wan webhooks`, `wan webhook-secret`: the rest of a task's life. */

export function cancelCommand(): Command {
  const command = new Command('cancel')
    .description('Cancel a queued or running task (it ends TASK_STATUS_FAILED, reason TASK_CANCELLED)')
    .argument('<task_id>', 'the id a create command printed');
  addConnectionOptions(command).addHelpText(
    'after',
    `\nExample:\n  wan cancel 6f1c2d9e-…\n\nA task that already ended is left as it was: exit code 1 (409 TASK_ALREADY_FINISHED).${exitCodesHelp}`,
  );
  return command.action(async (taskId: string, options: ConnectionOptions) => {
    await guarded(options, async (client, signal) => {
      requireKey(options);
      const result = await client.cancel(taskId, { signal });
      process.stdout.write(options.json ? `${JSON.stringify(result, null, 2)}\n` : `cancelled ${taskId}\n`);
      return ExitCode.Ok;
    });
  });
}

interface ListOptions extends ConnectionOptions {
  limit?: string;
  cursor?: string;
  status?: string;
  model?: string;
}

const statusByShortName = new Map(Object.values(TaskStatus).map((status) => [shortStatus(status), status]));

export function tasksCommand(): Command {
  const command = new Command('tasks')
    .description('List your tasks, newest first, a page at a time')
    .option('--limit <n>', 'tasks per page, 1 to 100', '20')
    .option('--cursor <cursor>', 'the next page: the cursor the page before printed')
    .addOption(new Option('--status <status>', 'only tasks in this state').choices([...statusByShortName.keys()]))
    .addOption(new Option('--model <model>', 'only tasks of this model').choices(models.map((model) => model.id)));
  addConnectionOptions(command).addHelpText('after', `\nExample:\n  wan tasks --status FAILED --limit 50\n${exitCodesHelp}`);
  return command.action(async (options: ListOptions) => {
    await guarded(options, async (client, signal) => {
      requireKey(options);
      if (options.limit !== undefined && !/^\d+$/.test(options.limit)) throw new BadInput(`--limit must be a whole number from 1 to 100, got ${options.limit}`);
      const page = await client.listTasks(
        {
          limit: Number(options.limit),
          ...(options.cursor === undefined ? {} : { cursor: options.cursor }),
          ...(options.status === undefined ? {} : { status: statusByShortName.get(options.status) as TaskStatusName }),
          ...(options.model === undefined ? {} : { model: options.model as ModelId }),
        },
        { signal },
      );
      if (options.json) {
        process.stdout.write(`${JSON.stringify(page, null, 2)}\n`);
        return ExitCode.Ok;
      }
      process.stdout.write(table(['TASK', 'TYPE', 'STATUS', 'PROGRESS', 'CREATED', 'REASON'], page.tasks.map(taskRow)));
      if (page.next_cursor !== null) process.stderr.write(`more: wan tasks --cursor ${page.next_cursor}\n`);
      return ExitCode.Ok;
    });
  });
}

function taskRow(result: TaskResult): string[] {
  const { task } = result;
  const reason = typeof result.extra.error?.reason === 'string' ? result.extra.error.reason : '';
  return [task.task_id, task.task_type, shortStatus(task.status), `${task.progress_percent}%`, time(Number(result.extra.debug_info.submit_time_ms)), reason];
}

export function webhooksCommand(): Command {
  const command = new Command('webhooks')
    .description("Show the webhook deliveries of a task: state, attempts, last answer, next try")
    .argument('<task_id>', 'the id a create command printed');
  addConnectionOptions(command).addHelpText('after', `\nExample:\n  wan webhooks 6f1c2d9e-…\n${exitCodesHelp}`);
  return command.action(async (taskId: string, options: ConnectionOptions) => {
    await guarded(options, async (client, signal) => {
      requireKey(options);
      const { deliveries } = await client.webhookDeliveries(taskId, { signal });
      if (options.json) process.stdout.write(`${JSON.stringify({ deliveries }, null, 2)}\n`);
      else if (deliveries.length === 0) process.stdout.write(`task ${taskId} has no webhook deliveries (none asked for, or it has not ended)\n`);
      else process.stdout.write(table(['DELIVERY', 'STATE', 'ATTEMPTS', 'LAST ANSWER', 'NEXT TRY', 'URL'], deliveries.map(deliveryRow)));
      return ExitCode.Ok;
    });
  });
}

function deliveryRow(delivery: WebhookDelivery): string[] {
  const answer = delivery.last_status_code !== null ? `HTTP ${delivery.last_status_code}` : (delivery.last_error ?? '');
  const next = delivery.next_attempt_at === null ? '' : time(delivery.next_attempt_at);
  return [delivery.id, delivery.state, String(delivery.attempts), answer, next, delivery.url];
}

export function webhookSecretCommand(): Command {
  const command = new Command('webhook-secret').description("Print your key's webhook signing secret (whsec_…), to verify events with");
  addConnectionOptions(command).addHelpText('after', `\nExample:\n  export WEBHOOK_SECRET=$(wan webhook-secret)\n${exitCodesHelp}`);
  return command.action(async (options: ConnectionOptions) => {
    await guarded(options, async (client, signal) => {
      requireKey(options);
      const secret = await client.webhookSecret({ signal });
      process.stdout.write(options.json ? `${JSON.stringify({ secret })}\n` : `${secret}\n`);
      return ExitCode.Ok;
    });
  });
}

function time(epochMs: number): string {
  return Number.isFinite(epochMs) && epochMs > 0 ? new Date(epochMs).toISOString().replace(/\.\d+Z$/, 'Z') : '';
}

/** Rows under a header, each column as wide as its widest cell. */

import path from 'node:path';
import { Command, Option } from 'commander';
import { WanApiError } from '../client/errors.js';
import { NodeWanClient } from '../client/node.js';
import type { ModelId, TaskResult } from '../client/types.js';
import { modelById, modelPath } from '../models/registry.js';
import { validateRequest } from '../models/validate-request.js';
import { ApiError } from '../spec/api-error.js';
import { ExitCode, exitCodeOf } from './exit-codes.js';
import { BadInput, bodyFromFlags, flagName, localFileSlots, modelFlags, urlSlots } from './model-flags.js';
import { ProgressBar, shortStatus } from './progress-bar.js';

/**
 * The client side of `wan`: `wan t2v|i2v|r2v|videoedit`, `wan result`, `wan wait`. Requests are
 * validated here with the server's own model schemas before anything is sent; local files given
 * where a URL goes are uploaded first.
 */

const examples: Record<ModelId, string> = {
  'wan2.7-t2v': 'wan t2v "A paper boat drifting down a rainy street" --size 1280*720 --duration 5 --wait -o boat.mp4',
  'wan2.7-i2v': 'wan i2v --image-url https://example.com/first.png --last-frame-url ./last.png --prompt "The flower opens" --resolution 720P --wait -o flower.mp4',
  'wan2.7-r2v':
    'wan r2v "character1 and character2 dance in the rain" --media reference_image=https://example.com/a.png \\\n' +
    '      --media reference_video=https://example.com/b.mp4,voice=https://example.com/b.wav --shot-type multi --no-audio --wait',
  'wan2.7-videoedit': 'wan videoedit --video-url ./input.mp4 "Convert the entire scene to clay style" --resolution 720P --ratio 16:9 --wait -o clay.mp4',
};

/** A model's command is its id without the family: `wan2.7-t2v` → `wan t2v`. */
function commandName(modelId: ModelId): string {
  return modelId.slice(modelId.indexOf('-') + 1);
}

export interface ConnectionOptions {
  apiUrl: string;
  apiKey?: string;
  json?: boolean;
  output?: string;
  timeout?: string;
  pollIntervalMs?: string;
}

export function addConnectionOptions(command: Command): Command {
  return command
    .addOption(new Option('--api-url <url>', 'base URL of the API').env('WAN_API_URL').default('http://127.0.0.1:8080'))
    .addOption(new Option('--api-key <key>', 'API key, sent as Authorization: Bearer <key>').env('WAN_API_KEY'))
    .option('--json', 'print JSON on stdout (the task id, or the Task Result)');
}

function addWaitOptions(command: Command): Command {
  return command
    .option('-o, --output <file>', 'save the video to this file (implies --wait)')
    .option('--timeout <seconds>', 'stop waiting after this many seconds (exit code 5; the task goes on)')
    .addOption(new Option('--poll-interval-ms <ms>', 'first interval between polls; later ones back off').default('500'));
}

export const exitCodesHelp =
  '\nExit codes: 0 ok, 1 API error, 2 bad input, 3 task failed, 4 server unreachable, 5 --timeout passed, 130 interrupted.\n';

export function modelCommand(modelId: ModelId): Command {
  const model = modelById(modelId);
  const flags = modelFlags(model);
  const hasPrompt = flags.some((flag) => flag.field === 'prompt');
  const command = new Command(commandName(modelId)).description(`${model.title} (POST ${modelPath(model)})`);
  if (hasPrompt) command.argument('[prompt]', 'the prompt (same as --prompt)');
  for (const flag of flags) for (const option of flag.options) command.addOption(option);
  addConnectionOptions(command);
  command.option('--wait', 'wait for the task to end, with a progress bar on stderr, and print the video URL');
  command.option('--idempotency-key <key>', 'send as Idempotency-Key: a repeat with the same key and request answers the same task (24 h)');
  addWaitOptions(command);
  command.addHelpText('after', `\nExample:\n  ${examples[modelId]}\n${exitCodesHelp}`);
  return command.action(async (...parameters: unknown[]) => {
    const commandObject = parameters.at(-1) as Command;
    const options = commandObject.opts<ConnectionOptions & Record<string, unknown>>();
    const positionalPrompt = hasPrompt ? (parameters[0] as string | undefined) : undefined;
    await guarded(options, async (client, signal) => {
      if (positionalPrompt !== undefined) {
        if (options.prompt !== undefined) throw new BadInput('give the prompt either as an argument or with --prompt, not both');
        options.prompt = positionalPrompt;
      }
      const body = bodyFromFlags(flags, options);
      const slots = urlSlots(model, body);
      const local = await localFileSlots(slots);
      // Validate with stand-in URLs for the files, so that nothing is uploaded for a bad request.
      const standIn = structuredClone(body);
      for (const slot of urlSlots(model, standIn)) {
        if (local.some((file) => file.path === slot.path)) slot.set(`https://upload.invalid/${encodeURIComponent(path.basename(slot.value))}`);
      }
      validateLocally(model, standIn);
      requireKey(options);
      for (const slot of local) {
        const url = await uploadLocal(client, slot.path, slot.value, signal);
        slot.set(url);
      }
      const idempotencyKey = options.idempotencyKey as string | undefined;
      const taskId = await client.submit(model.id, body as never, { signal, ...(idempotencyKey === undefined ? {} : { idempotencyKey }) });
      if (!options.wait && options.output === undefined) {
        process.stdout.write(options.json ? `${JSON.stringify({ task_id: taskId })}\n` : `${taskId}\n`);
        return ExitCode.Ok;
      }
      process.stderr.write(`task ${taskId}\n`);
      return waitAndReport(client, taskId, options, signal);
    });
  });
}

export function resultCommand(): Command {
  const command = new Command('result')
    .description('Show a task: status, progress and, once it succeeded, the video URL')
    .argument('<task_id>', 'the id a create command printed');
  addConnectionOptions(command).addHelpText(
    'after',
    `\nExample:\n  wan result 6f1c2d9e-… --json\n\nExit code 3 when the task failed.${exitCodesHelp}`,
  );
  return command.action(async (taskId: string, options: ConnectionOptions) => {
    await guarded(options, async (client, signal) => {
      requireKey(options);
      const result = await client.getResult(taskId, { signal });
      if (options.json) process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
      else process.stdout.write(describeResult(result));
      return result.task.status === 'TASK_STATUS_FAILED' ? ExitCode.TaskFailed : ExitCode.Ok;
    });
  });
}

export function waitCommand(): Command {
  const command = new Command('wait')
    .description('Wait for a task to end, with a progress bar on stderr; print the video URL, or save it with -o')
    .argument('<task_id>', 'the id a create command printed');
  addWaitOptions(addConnectionOptions(command)).addHelpText('after', `\nExample:\n  wan wait 6f1c2d9e-… -o boat.mp4\n${exitCodesHelp}`);
  return command.action(async (taskId: string, options: ConnectionOptions) => {
    await guarded(options, (client, signal) => {
      requireKey(options);
      return waitAndReport(client, taskId, options, signal);
    });
  });
}

export function requireKey(options: ConnectionOptions): void {
  if (!options.apiKey) throw new BadInput('no API key: set WAN_API_KEY or pass --api-key');
}

function validateLocally(model: ReturnType<typeof modelById>, body: Record<string, unknown>): void {
  try {
    validateRequest(model, body);
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    const field = typeof error.metadata.field === 'string' ? error.metadata.field : 'body';
    const topField = field.replace(/[[.].*$/, '');
    const others = Array.isArray(error.metadata.errors) ? (error.metadata.errors as { field: string; message: string }[]).slice(1) : [];
    throw new BadInput(
      [`invalid request (${flagName(topField)}): ${error.message}`, ...others.map((other) => `  also: ${other.message}`)].join('\n'),
    );
  }
}

async function uploadLocal(client: NodeWanClient, field: string, file: string, signal: AbortSignal): Promise<string> {
  process.stderr.write(`uploading ${file} for ${field}…\n`);
  try {
    return await client.uploadFile(file, { signal });
  } catch (error) {
    if (error instanceof WanApiError && error.kind === 'http' && (error.status === 404 || error.status === 405)) {
      throw new WanApiError({
        kind: 'http',
        status: error.status,
        reason: 'UPLOADS_NOT_SUPPORTED',
        message: `this server does not accept uploads (${error.status}): pass a URL for ${field} instead of the file ${file}`,
      });
    }
    throw error;
  }
}

async function waitAndReport(client: NodeWanClient, taskId: string, options: ConnectionOptions, signal: AbortSignal): Promise<number> {
  const bar = new ProgressBar();
  const timeout = options.timeout === undefined ? undefined : Number(options.timeout) * 1000;
  if (timeout !== undefined && !(timeout > 0)) throw new BadInput(`--timeout must be a number of seconds, got ${options.timeout}`);
  let result: TaskResult;
  try {
    result = await client.waitFor(taskId, {
      signal,
      timeout,
      pollIntervalMs: Number(options.pollIntervalMs ?? 500) || 500,
      maxPollIntervalMs: 5000,
      onProgress: (task) => bar.update(task),
    });
  } catch (error) {
    bar.finish();
    if (error instanceof WanApiError && error.kind === 'task_failed' && options.json) {
      process.stdout.write(`${JSON.stringify(error.result, null, 2)}\n`);
    }
    if (error instanceof WanApiError && (error.kind === 'timeout' || error.kind === 'aborted')) {
      process.stderr.write(`wan: stopped waiting; task ${taskId} goes on (wan wait ${taskId})\n`);
    }
    throw error;
  }
  bar.finish();
  if (options.output !== undefined) {
    const bytes = await client.download(result, options.output, { signal });
    process.stderr.write(`saved ${options.output} (${bytes} bytes)\n`);
  }
  if (options.json) process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  else process.stdout.write(`${result.videos[0]?.video_url ?? ''}\n`);
  return ExitCode.Ok;
}

function describeResult(result: TaskResult): string {
  const { task } = result;
  const lines = [`${task.task_id}  ${shortStatus(task.status)}  ${task.progress_percent}%${task.eta > 0 ? `  eta ${task.eta}s` : ''}`];
  if (task.reason) lines.push(`reason: ${task.reason}`);
  for (const video of result.videos) lines.push(video.video_url);
  return `${lines.join('\n')}\n`;
}

/** Runs a client action: builds the client, turns Ctrl-C into an abort and errors into exit codes. */
export async function guarded(options: ConnectionOptions, action: (client: NodeWanClient, signal: AbortSignal) => Promise<number>): Promise<void> {
  const controller = new AbortController();
  const onSigint = () => controller.abort();
  process.once('SIGINT', onSigint);
  try {
    const client = new NodeWanClient({ baseUrl: options.apiUrl, apiKey: options.apiKey });
    process.exitCode = await action(client, controller.signal);
  } catch (error) {
    if (error instanceof BadInput) {
      process.stderr.write(`wan: ${error.message}\n`);
      process.exitCode = ExitCode.BadInput;
    } else if (error instanceof WanApiError) {
      const where = error.kind === 'http' ? ` (${error.status} ${error.reason})` : error.kind === 'task_failed' ? ` (${error.reason})` : '';
      const prefix = error.kind === 'task_failed' ? `task ${error.taskId} failed: ` : '';
      process.stderr.write(`wan: ${prefix}${error.message}${where}\n`);
      process.exitCode = exitCodeOf(error);
    } else {
      throw error;
    }
  } finally {
    process.off('SIGINT', onSigint);
  }
}

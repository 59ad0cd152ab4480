import { FfmpegError } from '../../media/run-ffmpeg.js';
import { errors, type ApiError } from '../../spec/api-error.js';

/**
 * What a failed render tells the client: what failed, for which input field, and that it was the
 * preview renderer; never ffmpeg's log, paths or memory maps, which go to `detail`, for the
 * operator's log only.
 */
export interface DescribedFailure {
  error: ApiError;
  detail?: string;
}

/** Said with every failure, so that nobody takes it for a failure of the Wan model. */
const whoFailed = 'the preview engine is a procedural renderer built on ffmpeg, not the Wan model';

/** A failure whose cause is already known: a short reason, the input fields at fault, diagnostics. */
export class RenderFailure extends Error {
  constructor(
    readonly reason: string,
    readonly fields: readonly string[] = [],
    readonly detail?: string,
  ) {
    super(reason);
    this.name = 'RenderFailure';
  }
}

/** One input of the ffmpeg command, in order: its file and the request fields it came from. */
export interface RenderInput {
  /** Absent for a generated (lavfi) input. */
  path?: string;
  fields: readonly string[];
}

/** Where the failure happened: the ffmpeg command and its inputs. */
export interface FailureContext {
  inputs?: readonly RenderInput[];
  /** ffmpeg's arguments, for the operator to run the render again by hand. */
  ffmpegArguments?: readonly string[];
}

/** The client's error and the operator's detail for anything a render threw. */
export function describeRenderFailure(error: unknown, context: FailureContext = {}): DescribedFailure {
  const { reason, fields, detail } = causeOf(error, context);
  return {
    error: errors.taskFailed(`preview render failed: ${reason} (${whoFailed})`, {
      engine: 'preview',
      ...(fields.length > 0 ? { field: fields[0] } : {}),
    }),
    ...(detail ? { detail } : {}),
  };
}

function causeOf(error: unknown, context: FailureContext): { reason: string; fields: readonly string[]; detail?: string } {
  if (error instanceof RenderFailure) return error;
  if (error instanceof FfmpegError) {
    const command = context.ffmpegArguments ? `\ncommand: ffmpeg ${context.ffmpegArguments.map(quoted).join(' ')}` : '';
    const detail = `${error.message}${command}`;
    const fields = fieldsAtFault(error.stderrTail, context.inputs ?? []);
    if (fields.length > 0) return { reason: `${fields.join(' and ')} could not be decoded`, fields, detail };
    return { reason: ffmpegReason(error), fields: [], detail };
  }
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ENOSPC') return { reason: 'the server ran out of disk space', fields: [], detail: String(error) };
  if (typeof code === 'string') return { reason: `the video could not be saved (${code})`, fields: [], detail: String(error) };
  // The renderer's own errors (a plan that cannot be made) are plain Errors with a message written
  // for the client; anything else is a fault of the server, whose message is not.
  if (error instanceof Error && error.constructor === Error) return { reason: error.message, fields: [], detail: error.stack };
  return { reason: 'an internal error of the server', fields: [], detail: error instanceof Error ? error.stack : String(error) };
}

function ffmpegReason(error: FfmpegError): string {
  if (error.stderrTail.some((line) => /No space left on device/i.test(line))) return 'the server ran out of disk space';
  if (error.stalledMs !== undefined) return `ffmpeg made no progress for ${error.stalledMs / 1000} s and was stopped`;
  if (error.exitSignal === 'SIGKILL' || error.exitSignal === 'SIGTERM') return `ffmpeg was stopped by ${error.exitSignal}`;
  if (error.exitSignal) return `ffmpeg crashed (${error.exitSignal})`;
  return `ffmpeg stopped with exit code ${error.exitCode}`;
}

/**
 * The input fields ffmpeg's log blames: an error line naming an input's stream
 * (`Error while decoding stream #1:0: …`, `Cannot determine format of input stream 1:0 …`) or an
 * input's file (`/…/image_url.png: Invalid data found when processing input`). The headers that
 * list the inputs (`Input #1, png_pipe, from '…'`) blame nothing.
 */
function fieldsAtFault(stderrTail: readonly string[], inputs: readonly RenderInput[]): string[] {
  const blamed = new Set<string>();
  for (const line of stderrTail) {
    if (/^\s*(?:Input|Output) #/.test(line) || !/error|invalid|cannot|could not|failed|no such/i.test(line)) continue;
    const stream = /\b(?:stream|input stream) #?(\d+):\d+/i.exec(line);
    inputs.forEach((input, index) => {
      if ((stream && Number(stream[1]) === index) || (input.path && line.includes(input.path))) {
        for (const field of input.fields) blamed.add(field);
      }
    });
  }
  return [...blamed];
}

/** An argument as a POSIX shell reads it back. */
function quoted(arg: string): string {
  return /^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replaceAll("'", `'\\''`)}'`;
}

import type { ModelRequest } from '../models/model.js';
import { type Tier, tierOfSize } from '../models/output-size.js';
import type { TaskRecord } from '../spec/task-store.js';
import type { TaskUsage } from '../spec/usage.js';
import type { EngineOutcome } from '../tasks/worker/engine-session.js';
import type { UsageMeter } from '../tasks/worker/task-ending.js';
import { type PriceTable, roundPrice } from './price-table.js';

/** Engines that render for nothing: their tasks record what they would cost and bill 0. */
const freeKinds = new Set(['preview']);
/**
 * Clouds that bill an edit or a continuation on its input's seconds as well as its output's
 * (DashScope's `usage.duration` is input plus output; resellers of the same API do the same).
 */
const inputBillingKinds = new Set(['dashscope', 'novita']);

export interface UsageMeterOptions {
  prices: PriceTable;
  /** Length in seconds of a finished video file: for an edit that kept its input's length (`duration: 0`). */
  videoSeconds: (file: string) => Promise<number>;
}

/**
 * What a finished task bills, by the pages' rule: the output's seconds (the requested duration;
 * the result's own length when the request kept its input's), plus the input's seconds on clouds
 * that bill them, priced by the task's model and resolution tier. A failed task bills nothing
 * and records nothing.
 */
export function usageMeter(options: UsageMeterOptions): UsageMeter {
  return async (task: TaskRecord, outcome: EngineOutcome): Promise<TaskUsage | null> => {
    if (outcome.status.state !== 'succeeded') return null;
    const { engine } = outcome;
    const request = task.request;
    const reported = reportedUsage(outcome.status.extra);
    const outputSeconds = await outputSecondsOf(request, outcome.status.videos[0]?.path, reported, options.videoSeconds);
    const billsInput = inputBillingKinds.has(engine.kind) && takesVideoInput(task);
    const inputSeconds = billsInput ? (reported.input_video_duration ?? (task.model === 'wan2.7-videoedit' ? outputSeconds : 0)) : 0;
    const billedSeconds = outputSeconds + inputSeconds;
    const resolution = tierOf(request);
    const listPrice = roundPrice(billedSeconds * options.prices.perSecond(task.model, resolution));
    return {
      model: task.model,
      engine: engine.name,
      billedSeconds,
      outputSeconds,
      inputSeconds,
      resolution,
      audio: withAudio(task),
      listPrice,
      cost: freeKinds.has(engine.kind) ? 0 : listPrice,
      currency: options.prices.currency,
    };
  };
}

/** The seconds figures an engine reported in `extra.usage` (DashScope's input and output video durations). */
function reportedUsage(extra: Record<string, unknown>): { input_video_duration?: number; output_video_duration?: number } {
  const usage = (extra.usage ?? {}) as Record<string, unknown>;
  const seconds = (value: unknown) => (typeof value === 'number' || typeof value === 'string') && Number(value) >= 0 ? Number(value) : undefined;
  const input = seconds(usage.input_video_duration);
  const output = seconds(usage.output_video_duration);
  return { ...(input === undefined ? {} : { input_video_duration: input }), ...(output === undefined ? {} : { output_video_duration: output }) };
}

async function outputSecondsOf(
  request: ModelRequest,
  file: string | undefined,
  reported: { output_video_duration?: number },
  videoSeconds: (file: string) => Promise<number>,
): Promise<number> {
  if (typeof request.duration === 'number' && request.duration > 0) return request.duration;
  if (reported.output_video_duration !== undefined) return reported.output_video_duration;
  // Billed per whole second, as the pages count durations.
  return file === undefined ? 0 : Math.max(1, Math.round(await videoSeconds(file)));
}

/** An edit, or an i2v that continues a clip: the tasks whose input video a cloud bills. */
function takesVideoInput(task: TaskRecord): boolean {
  return task.model === 'wan2.7-videoedit' || (task.model === 'wan2.7-i2v' && typeof task.request.first_clip_url === 'string');
}

/** t2v and r2v name an exact size, the others a tier (1080P unless asked: the pages' default). */
function tierOf(request: ModelRequest): Tier {
  if (typeof request.size === 'string') return tierOfSize(request.size);
  return request.resolution === '720P' ? '720P' : '1080P';
}

/** r2v makes audio unless told not to (it "affects pricing"); the others carry audio only when given some. */
function withAudio(task: TaskRecord): boolean {
  const request = task.request;
  if (task.model === 'wan2.7-r2v') return request.audio !== false;
  return typeof request.audio_url === 'string' || typeof request.driving_audio_url === 'string';
}

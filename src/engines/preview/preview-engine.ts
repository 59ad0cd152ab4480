import { randomUUID } from 'node:crypto';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import type { FfmpegToolchain } from '../../media/ffmpeg-binaries.js';
import type { Engine, EngineJob, EngineOperation, EngineStatus } from '../../spec/engine.js';
import { defaultEncoderSettings, type EncoderSettings } from './ffmpeg-arguments.js';
import { RenderRun, type RenderSettings } from './render-run.js';
import { findWatermarkFont } from './watermark.js';

export interface PreviewEngineOptions {
  toolchain: FfmpegToolchain;
  /** Frames per second of every output; 24 by default. */
  frameRate?: number;
  /** Overrides of the x264 settings (preset `ultrafast`, crf 23, 4 threads). */
  encoder?: Partial<EncoderSettings>;
  /**
   * Font of the watermark's letters and the t2v caption. Unset: a common system font if one is
   * installed; `null`: none, the badge is drawn with boxes only and there is no caption (the same
   * pixels on every machine).
   */
  watermarkFontFile?: string | null;
  /**
   * Generated pictures and soundtracks as separate lavfi inputs, rendered in parallel (see
   * `OutputOptions.parallelSources`). Default: on for ffmpeg 4.3 and later (detected by xfade).
   */
  parallelSources?: boolean;
  /** How long an ended render stays in memory for `status`; its file answers after that. */
  keepEndedMs?: number;
  /** Renders at once in this process; each takes about a core. Default 2. */
  capacity?: number;
}

/** The operation saved on the task row: which render of this engine, by id. */
type PreviewOperation = {
  engine: 'preview';
  renderId: string;
};

const defaultFrameRate = 24;
const defaultKeepEndedMs = 10 * 60_000;
const renderIdPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * Every filter the renderer may use; all are in ffmpeg 4.1 and later builds with the usual
 * libraries (`drawtext` is optional: without it there are no letters, see `watermarkFontFile`;
 * `xfade` is not used because 4.1 lacks it).
 */
export const requiredFilters = [
  'geq', 'zoompan', 'overlay', 'drawbox', 'fade', 'edgedetect', 'colorchannelmixer', 'vignette', 'lutrgb',
  'boxblur', 'hue', 'eq', 'negate', 'colorbalance', 'tpad', 'fps', 'trim', 'setsar', 'scale', 'crop', 'format',
  'split', 'reverse', 'color', 'adelay', 'amix', 'anoisesrc', 'anullsrc', 'apad', 'atrim', 'asetpts', 'aformat',
  'tremolo', 'afade', 'sine', 'volume',
] as const;

/**
 * The local renderer: draws a stand-in video with ffmpeg that has every property of the real
 * output (size, length, frame rate, audio or none, watermark) and depends only on the request
 * and seed. Renders run inside this process; after a restart, a render that had finished is
 * found by its file and one that had not is `lost`.
 */
export class PreviewEngine implements Engine {
  readonly name = 'preview';
  readonly capacity: number;
  readonly survivesRestart = false;
  private readonly renders = new Map<string, RenderRun>();
  private readonly settings: RenderSettings;
  private readonly keepEndedMs: number;

  constructor(options: PreviewEngineOptions) {
    if (!options.toolchain.hasEncoder('libx264')) {
      throw new Error(`the preview engine needs an ffmpeg with libx264; "${options.toolchain.ffmpegPath}" has none`);
    }
    const missing = requiredFilters.filter((name) => !options.toolchain.hasFilter(name));
    if (missing.length > 0) {
      throw new Error(`the preview engine needs the ffmpeg filters ${missing.join(', ')}; "${options.toolchain.ffmpegPath}" lacks them`);
    }
    this.settings = {
      toolchain: options.toolchain,
      frameRate: options.frameRate ?? defaultFrameRate,
      encoder: { ...defaultEncoderSettings, ...options.encoder },
      // xfade arrived in ffmpeg 4.3: its presence tells a build past 4.1's lavfi threading bug.
      parallelSources: options.parallelSources ?? options.toolchain.hasFilter('xfade'),
      // Letters need drawtext (libfreetype), which not every build has: without it, boxes only.
      watermarkFontFile: !options.toolchain.hasFilter('drawtext')
        ? Promise.resolve(undefined)
        : options.watermarkFontFile === undefined
          ? findWatermarkFont()
          : Promise.resolve(options.watermarkFontFile ?? undefined),
    };
    this.keepEndedMs = options.keepEndedMs ?? defaultKeepEndedMs;
    this.capacity = options.capacity ?? 2;
  }

  async start(job: EngineJob): Promise<EngineOperation> {
    const renderId = randomUUID();
    const run = new RenderRun(job, outputPath(job, renderId), this.settings);
    this.renders.set(renderId, run);
    void run.finished.then(() => setTimeout(() => this.renders.delete(renderId), this.keepEndedMs).unref());
    const operation: PreviewOperation = { engine: 'preview', renderId };
    return operation;
  }

  async status(operation: EngineOperation, job: EngineJob): Promise<EngineStatus> {
    const renderId = renderIdOf(operation);
    if (!renderId) return { state: 'lost' };
    const run = this.renders.get(renderId);
    if (run) return run.status();
    // Ended long ago or before a restart: a whole file is only ever there when the render succeeded.
    const file = outputPath(job, renderId);
    return (await isFile(file))
      ? { state: 'succeeded', videos: [{ path: file, type: 'mp4' }], extra: { engine: 'preview' } }
      : { state: 'lost' };
  }

  async changed(operation: EngineOperation, timeoutMs: number): Promise<void> {
    await this.runOf(operation)?.changed(timeoutMs);
  }

  async cancel(operation: EngineOperation): Promise<void> {
    await this.runOf(operation)?.cancel();
  }

  /** Cancels every render still running (ffmpeg killed, partial files removed); for shutdown. */
  async close(): Promise<void> {
    await Promise.all([...this.renders.values()].map((run) => run.cancel()));
  }

  private runOf(operation: EngineOperation): RenderRun | undefined {
    const renderId = renderIdOf(operation);
    return renderId === undefined ? undefined : this.renders.get(renderId);
  }
}

/** The finished file of a render; the id is a UUID, so the name never leaves `workDir`. */
function outputPath(job: EngineJob, renderId: string): string {
  return path.join(job.workDir, `preview-${renderId}.mp4`);
}

/** The render id of an operation this engine made, or undefined for anything else. */
function renderIdOf(operation: EngineOperation): string | undefined {
  const { engine, renderId } = (operation ?? {}) as Partial<PreviewOperation>;
  return engine === 'preview' && typeof renderId === 'string' && renderIdPattern.test(renderId) ? renderId : undefined;
}

async function isFile(file: string): Promise<boolean> {
  try {
    return (await stat(file)).isFile();
  } catch {
    return false;
  }
}

import { rename, rm } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import type { FfmpegToolchain } from '../../media/ffmpeg-binaries.js';
import { probeMedia, type MediaInfo } from '../../media/probe.js';
import { runFfmpeg } from '../../media/run-ffmpeg.js';
import { errors } from '../../spec/api-error.js';
import type { EngineJob, EngineStatus } from '../../spec/engine.js';
import { buildFfmpegArguments, inputFilesOf, type EncoderSettings } from './ffmpeg-arguments.js';
import { describeRenderFailure, RenderFailure, type DescribedFailure, type FailureContext } from './render-failure.js';
import { fieldsToProbe, planRender } from './render-plan.js';
import { RenderProgressEstimate } from './render-progress.js';
import type { RenderCpus, RenderCpuShare } from './render-cpus.js';
import { renderPriorities, type RenderPriority } from './render-priority.js';
import { resultExtra } from './result-extra.js';

export interface RenderSettings {
  toolchain: FfmpegToolchain;
  frameRate: number;
  encoder: EncoderSettings;
  watermarkFontFile: Promise<string | undefined>;
  /** A render whose position does not move for this long is stopped and fails. */
  stallTimeoutMs: number;
  priority: RenderPriority;
  /** Each render's thread budget and CPUs. */
  cpus: RenderCpus;
}

/** How often a worker without `changed` should ask again while a render runs. */
const suggestedCheckMs = 1_000;

/**
 * ffmpeg reports its position every half second unless told otherwise (`-stats_period`, since
 * 4.4); four reports a second give a measured speed, hence a fair `eta`, within the first second.
 */
const progressPeriodSeconds = 0.25;

/**
 * One render of one job, from probing its inputs to the finished file: started by the
 * constructor, observed through `status` and `changed`, stopped by `cancel`. ffmpeg writes to a
 * partial file that is renamed when complete, so a file at `outputPath` is always a whole video.
 */
export class RenderRun {
  /** Settles (never rejects) when the render has ended in any way. */
  readonly finished: Promise<void>;
  private state: 'running' | 'succeeded' | 'failed' | 'canceled' = 'running';
  private progress: RenderProgressEstimate;
  private failure: DescribedFailure | undefined;
  private extra: Record<string, unknown> = {};
  private readonly startedAt = performance.now();
  private readonly abort = new AbortController();
  private readonly listeners = new Set<() => void>();

  constructor(
    private readonly job: EngineJob,
    private readonly outputPath: string,
    private readonly settings: RenderSettings,
  ) {
    this.progress = new RenderProgressEstimate(0, seconds(this.startedAt));
    this.finished = this.render();
  }

  status(): EngineStatus {
    switch (this.state) {
      case 'running':
        return { state: 'running', ...this.progress.estimate(seconds(performance.now())), nextCheckMs: suggestedCheckMs };
      case 'succeeded':
        return { state: 'succeeded', videos: [{ path: this.outputPath, type: 'mp4' }], extra: this.extra };
      case 'failed':
        return { state: 'failed', ...this.failure! };
      case 'canceled':
        return { state: 'failed', error: errors.taskFailed('the render was cancelled') };
    }
  }

  /** Resolves at the next progress report or the end of the render, or after `timeoutMs`. */
  changed(timeoutMs: number): Promise<void> {
    if (this.state !== 'running') return Promise.resolve();
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        this.listeners.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, timeoutMs);
      this.listeners.add(wake);
    });
  }

  /** Kills ffmpeg and waits until its partial file is gone; a render that ended is left as it is. */
  async cancel(): Promise<void> {
    if (this.state === 'running') {
      this.state = 'canceled';
      this.abort.abort(new Error('the render was cancelled'));
    }
    await this.finished;
  }

  private async render(): Promise<void> {
    const partialPath = this.outputPath.replace(/\.mp4$/, '.partial.mp4');
    const context: FailureContext = {};
    let share: RenderCpuShare | undefined;
    try {
      const plan = planRender(this.job, await this.probeInputs(), { frameRate: this.settings.frameRate });
      const { toolchain } = this.settings;
      const reportPeriod = toolchain.hasOption('stats_period') ? progressPeriodSeconds : undefined;
      this.progress = new RenderProgressEstimate(plan.durationSeconds, seconds(this.startedAt), reportPeriod);
      share = this.settings.cpus.take();
      const args = [
        ...(reportPeriod ? ['-stats_period', String(reportPeriod)] : []),
        ...buildFfmpegArguments(plan, {
          outputPath: partialPath,
          encoder: this.settings.encoder,
          threads: share.threads,
          watermarkFontFile: await this.settings.watermarkFontFile,
        }),
      ];
      context.ffmpegArguments = args;
      context.inputs = inputFilesOf(args).map((path) => ({ path, fields: path === undefined ? [] : this.fieldsOf(path) }));
      this.progress.started(seconds(performance.now()));
      const { niceness, scheduling } = renderPriorities[this.settings.priority];
      await runFfmpeg(toolchain.ffmpegPath, args, {
        signal: this.abort.signal,
        niceness,
        scheduling: { ...scheduling, cpus: share.cpus },
        stallTimeoutMs: this.settings.stallTimeoutMs,
        onProgress: (renderedSeconds) => this.advance(renderedSeconds),
      });
      // A cancel that came while ffmpeg was closing must still win over the finished file.
      this.abort.signal.throwIfAborted();
      await rename(partialPath, this.outputPath);
      this.extra = resultExtra(plan, toolchain, (performance.now() - this.startedAt) / 1000);
      this.state = 'succeeded';
    } catch (error) {
      await rm(partialPath, { force: true });
      if (this.state === 'running') {
        this.state = 'failed';
        this.failure = describeRenderFailure(error, context);
      }
    } finally {
      share?.release();
      this.notify();
    }
  }

  private async probeInputs(): Promise<Record<string, MediaInfo>> {
    const fields = fieldsToProbe(this.job).filter((field) => this.job.media[field]);
    const probes = await Promise.all(
      fields.map((field) =>
        probeMedia(this.settings.toolchain, this.job.media[field].path, { signal: this.abort.signal }).catch((error: unknown) => {
          if (this.abort.signal.aborted) throw error;
          const stderr = (error as { stderr?: unknown }).stderr;
          throw new RenderFailure(`${field} could not be decoded`, [field], `ffprobe failed: ${String(stderr || error)}`);
        }),
      ),
    );
    return Object.fromEntries(fields.map((field, index) => [field, probes[index]]));
  }

  /** The request fields whose downloaded file is `path` (one file may serve several fields). */
  private fieldsOf(path: string): string[] {
    return Object.values(this.job.media)
      .filter((media) => media.path === path)
      .map((media) => media.field);
  }

  private advance(renderedSeconds: number): void {
    if (this.progress.report(renderedSeconds, seconds(performance.now()))) this.notify();
  }

  private notify(): void {
    for (const listener of [...this.listeners]) listener();
  }
}

function seconds(milliseconds: number): number {
  return milliseconds / 1000;
}

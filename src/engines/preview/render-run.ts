import { rename, rm } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import type { FfmpegToolchain } from '../../media/ffmpeg-binaries.js';
import { probeMedia, type MediaInfo } from '../../media/probe.js';
import { runFfmpeg } from '../../media/run-ffmpeg.js';
import { errors } from '../../spec/api-error.js';
import type { EngineJob, EngineStatus } from '../../spec/engine.js';
import { buildFfmpegArguments, type EncoderSettings } from './ffmpeg-arguments.js';
import { fieldsToProbe, planRender } from './render-plan.js';
import { renderProgress } from './render-progress.js';
import { resultExtra } from './result-extra.js';

export interface RenderSettings {
  toolchain: FfmpegToolchain;
  frameRate: number;
  encoder: EncoderSettings;
  watermarkFontFile: Promise<string | undefined>;
  /** See `OutputOptions.parallelSources`. */
  parallelSources: boolean;
}

/** How often a worker without `changed` should ask again while a render runs. */
const suggestedCheckMs = 1_000;

/**
 * One render of one job, from probing its inputs to the finished file: started by the
 * constructor, observed through `status` and `changed`, stopped by `cancel`. ffmpeg writes to a
 * partial file that is renamed when complete, so a file at `outputPath` is always a whole video.
 */
export class RenderRun {
  /** Settles (never rejects) when the render has ended in any way. */
  readonly finished: Promise<void>;
  private state: 'running' | 'succeeded' | 'failed' | 'canceled' = 'running';
  private plannedSeconds = 0;
  private renderedSeconds = 0;
  private failure = '';
  private extra: Record<string, unknown> = {};
  private readonly startedAt = performance.now();
  private readonly abort = new AbortController();
  private readonly listeners = new Set<() => void>();

  constructor(
    private readonly job: EngineJob,
    private readonly outputPath: string,
    private readonly settings: RenderSettings,
  ) {
    this.finished = this.render();
  }

  status(): EngineStatus {
    switch (this.state) {
      case 'running': {
        const elapsedSeconds = (performance.now() - this.startedAt) / 1000;
        return {
          state: 'running',
          ...renderProgress(this.renderedSeconds, this.plannedSeconds, elapsedSeconds),
          nextCheckMs: suggestedCheckMs,
        };
      }
      case 'succeeded':
        return { state: 'succeeded', videos: [{ path: this.outputPath, type: 'mp4' }], extra: this.extra };
      case 'failed':
        return { state: 'failed', error: errors.taskFailed(this.failure) };
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
    try {
      const plan = planRender(this.job, await this.probeInputs(), { frameRate: this.settings.frameRate });
      this.plannedSeconds = plan.durationSeconds;
      const args = buildFfmpegArguments(plan, {
        outputPath: partialPath,
        encoder: this.settings.encoder,
        watermarkFontFile: await this.settings.watermarkFontFile,
        parallelSources: this.settings.parallelSources,
      });
      await runFfmpeg(this.settings.toolchain.ffmpegPath, args, {
        signal: this.abort.signal,
        onProgress: (seconds) => this.advance(seconds),
      });
      // A cancel that came while ffmpeg was closing must still win over the finished file.
      this.abort.signal.throwIfAborted();
      await rename(partialPath, this.outputPath);
      this.extra = resultExtra(plan, this.settings.toolchain, (performance.now() - this.startedAt) / 1000);
      this.state = 'succeeded';
    } catch (error) {
      await rm(partialPath, { force: true });
      if (this.state === 'running') {
        this.state = 'failed';
        this.failure = `preview render failed: ${error instanceof Error ? error.message : String(error)}`;
      }
    } finally {
      this.notify();
    }
  }

  private async probeInputs(): Promise<Record<string, MediaInfo>> {
    const fields = fieldsToProbe(this.job).filter((field) => this.job.media[field]);
    const probes = await Promise.all(
      fields.map((field) =>
        probeMedia(this.settings.toolchain, this.job.media[field].path, { signal: this.abort.signal }),
      ),
    );
    return Object.fromEntries(fields.map((field, index) => [field, probes[index]]));
  }

  private advance(renderedSeconds: number): void {
    if (renderedSeconds <= this.renderedSeconds) return;
    this.renderedSeconds = renderedSeconds;
    this.notify();
  }

  private notify(): void {
    for (const listener of [...this.listeners]) listener();
  }
}

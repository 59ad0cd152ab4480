import { filter, FilterGraph, GraphInputs } from './filter-graph.js';
import type { RenderPlan } from './render-plan.js';
import { pictureStream } from './scene-filters.js';
import { soundtrackStream } from './soundtrack-filters.js';
import { captionFilters, watermarkFilters } from './watermark.js';

/**
 * How the video is compressed. Each setting is part of what a seed reproduces: change one and the
 * same job renders to other bytes (still the same ones every time).
 */
export interface EncoderSettings {
  /**
   * x264 preset. `ultrafast` renders 5 s of 720P in about a second on two cores, where
   * `superfast` takes half as long again for files only some 15 % smaller.
   */
  preset: string;
  /** x264 constant rate factor: lower is better and bigger. */
  crf: number;
  /**
   * x264 threads. Fixed rather than "auto" because x264's output depends on the thread count:
   * the same seed must give the same frames on any machine. How many CPUs these threads share
   * is the render's budget (`OutputOptions.threads`), which changes no byte.
   */
  threads: number;
}

export const defaultEncoderSettings: EncoderSettings = { preset: 'ultrafast', crf: 23, threads: 4 };

export interface OutputOptions {
  outputPath: string;
  encoder: EncoderSettings;
  /**
   * The render's thread budget (see `render-cpus.ts`): threads of its filter graphs and input
   * decoders. Slice-threaded filters and decoders give the same output on any count of threads.
   */
  threads: number;
  /**
   * A font for the watermark's letters and the t2v caption; without one the badge is drawn with
   * boxes only and there is no caption. Only pass one when the ffmpeg build has `drawtext`.
   */
  watermarkFontFile?: string;
}

/**
 * The ffmpeg arguments (after the global ones `runFfmpeg` adds) that render `plan` to an MP4:
 * H.264 yuv420p and, when the plan has a soundtrack, AAC; bit-exact flags so that nothing
 * version- or time-dependent reaches the file.
 */
export function buildFfmpegArguments(plan: RenderPlan, output: OutputOptions): string[] {
  const inputs = new GraphInputs();
  const pictureGraph = new FilterGraph(inputs);
  const picture = pictureStream(pictureGraph, plan);
  const video = pictureGraph.chain(
    [picture],
    [
      ...(plan.caption && output.watermarkFontFile ? captionFilters(plan.width, plan.height, plan.caption, output.watermarkFontFile) : []),
      ...(plan.watermark ? watermarkFilters(plan.width, plan.height, output.watermarkFontFile) : []),
      filter('format', { pix_fmts: 'yuv420p' }),
      // Square pixels: the size tables name the displayed size.
      filter('setsar', { sar: 1 }),
      // The exact frame count. Not `-frames:v`: reaching it would close the audio stream too, early.
      filter('trim', { end_frame: plan.frames }),
    ],
  );
  const soundGraph = new FilterGraph(inputs);
  const audio = soundtrackStream(soundGraph, plan);
  // A graph of sources only (a generated picture or soundtrack) runs as a lavfi input, which
  // ffmpeg reads in its own thread, in parallel with the encoder: on two cores much faster than
  // inside -filter_complex. Graphs that read input files share one -filter_complex.
  const complex: string[] = [];
  const mapOf = (graph: FilterGraph, label: string, kind: 'v' | 'a'): string => {
    if (graph.usesInputs()) {
      complex.push(graph.filterComplex());
      return `[${label}]`;
    }
    return `${inputs.add(graph.asLavfiSource(label), ['-f', 'lavfi'])}:${kind}`;
  };
  const videoMap = mapOf(pictureGraph, video, 'v');
  const audioMap = audio === undefined ? undefined : mapOf(soundGraph, audio, 'a');
  const { encoder } = output;
  const threads = String(output.threads);
  return [
    '-y',
    ...['-filter_threads', threads, '-filter_complex_threads', threads],
    ...inputs.arguments(['-threads', threads]),
    ...(complex.length > 0 ? ['-filter_complex', complex.join(';')] : []),
    '-map',
    videoMap,
    ...['-c:v', 'libx264', '-preset', encoder.preset, '-crf', String(encoder.crf), '-threads', String(encoder.threads)],
    ...['-pix_fmt', 'yuv420p', '-r', String(plan.frameRate), '-flags:v', '+bitexact'],
    ...(audioMap ? ['-map', audioMap, '-c:a', 'aac', '-b:a', '128k', '-flags:a', '+bitexact'] : []),
    ...['-max_muxing_queue_size', '1024', '-movflags', '+faststart', '-fflags', '+bitexact'],
    output.outputPath,
  ];
}

/** The file each input of a command made by `buildFfmpegArguments` reads, in order; undefined for a generated (lavfi) input. */
export function inputFilesOf(args: readonly string[]): (string | undefined)[] {
  return args.flatMap((arg, index) =>
    arg === '-i' ? [args[index - 2] === '-f' && args[index - 1] === 'lavfi' ? undefined : args[index + 1]] : [],
  );
}

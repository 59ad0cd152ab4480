import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { dyingWithParent } from './die-with-parent.js';
import type { FfmpegToolchain } from './ffmpeg-binaries.js';

const execFileAsync = promisify(execFile);

export interface VideoStreamInfo {
  /** Displayed size: swapped from the coded size when the stream is rotated by 90 or 270 degrees. */
  width: number;
  height: number;
  codec: string;
  pixelFormat: string;
  /** Frames per second; 0 when the file does not say (a still image may not). */
  frameRate: number;
  /** Frame count when the container states it. */
  frames?: number;
}

export interface AudioStreamInfo {
  codec: string;
  sampleRate: number;
  channels: number;
  durationSeconds: number;
}

export interface MediaInfo {
  /** ffprobe's format names, e.g. `mov,mp4,m4a,3gp,3g2,mj2` or `png_pipe`. */
  formatName: string;
  /** 0 when the container states none (still images). */
  durationSeconds: number;
  sizeBytes: number;
  /** The first video stream; still images have one too. */
  video?: VideoStreamInfo;
  /** The first audio stream. */
  audio?: AudioStreamInfo;
}

export interface ProbeOptions {
  signal?: AbortSignal;
}

/** Only the part of ffprobe's JSON this module reads. */
interface FfprobeStream {
  codec_type?: string;
  codec_name?: string;
  width?: number;
  height?: number;
  pix_fmt?: string;
  avg_frame_rate?: string;
  r_frame_rate?: string;
  nb_frames?: string;
  duration?: string;
  sample_rate?: string;
  channels?: number;
  tags?: { rotate?: string };
  side_data_list?: { rotation?: number | string }[];
}

interface FfprobeOutput {
  format?: { format_name?: string; duration?: string; size?: string };
  streams?: FfprobeStream[];
}

/** A damaged file can make ffprobe read for long; input media is small, so this is generous. */
const probeTimeoutMs = 30_000;

/** Reads the container and first video and audio streams of a media file with ffprobe (which dies with this process). */
export async function probeMedia(toolchain: FfmpegToolchain, file: string, options: ProbeOptions = {}): Promise<MediaInfo> {
  const [command, args] = await dyingWithParent(toolchain.ffprobePath, [
    ...['-v', 'error', '-print_format', 'json', '-show_format', '-show_streams', file],
  ]);
  const { stdout } = await execFileAsync(command, args, { timeout: probeTimeoutMs, maxBuffer: 16 << 20, signal: options.signal });
  return summarize(JSON.parse(stdout) as FfprobeOutput);
}

function summarize(output: FfprobeOutput): MediaInfo {
  const streams = output.streams ?? [];
  const video = streams.find((stream) => stream.codec_type === 'video');
  const audio = streams.find((stream) => stream.codec_type === 'audio');
  return {
    formatName: output.format?.format_name ?? 'unknown',
    durationSeconds: finiteOr(output.format?.duration, 0),
    sizeBytes: finiteOr(output.format?.size, 0),
    video: video && videoInfo(video),
    audio: audio && {
      codec: audio.codec_name ?? 'unknown',
      sampleRate: finiteOr(audio.sample_rate, 0),
      channels: audio.channels ?? 0,
      durationSeconds: finiteOr(audio.duration, finiteOr(output.format?.duration, 0)),
    },
  };
}

function videoInfo(stream: FfprobeStream): VideoStreamInfo {
  const sideways = Math.abs(rotationDegrees(stream)) % 180 === 90;
  const frames = finiteOr(stream.nb_frames, 0);
  const codedWidth = stream.width ?? 0;
  const codedHeight = stream.height ?? 0;
  return {
    width: sideways ? codedHeight : codedWidth,
    height: sideways ? codedWidth : codedHeight,
    codec: stream.codec_name ?? 'unknown',
    pixelFormat: stream.pix_fmt ?? 'unknown',
    frameRate: rate(stream.avg_frame_rate) || rate(stream.r_frame_rate),
    ...(frames > 0 ? { frames } : {}),
  };
}

/** Older files carry a `rotate` tag; newer ffprobe reports a display matrix's `rotation`. */
function rotationDegrees(stream: FfprobeStream): number {
  const fromMatrix = stream.side_data_list?.find((data) => data.rotation !== undefined)?.rotation;
  return finiteOr(fromMatrix ?? stream.tags?.rotate, 0);
}

/** ffprobe writes rates as fractions (`24/1`, `30000/1001`) and `0/0` when unknown. */
function rate(fraction: string | undefined): number {
  const [numerator, denominator] = (fraction ?? '').split('/').map(Number);
  return denominator > 0 && Number.isFinite(numerator) ? numerator / denominator : 0;
}

function finiteOr(value: string | number | undefined, fallback: number): number {
  const number = Number(value);
  return value !== undefined && value !== '' && Number.isFinite(number) ? number : fallback;
}

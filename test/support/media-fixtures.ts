import { execFile } from 'node:child_process';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import type { FfmpegToolchain } from '../../src/media/ffmpeg-binaries.js';
import { runFfmpeg } from '../../src/media/run-ffmpeg.js';

const execFileAsync = promisify(execFile);

/**
 * Input media for tests, made with ffmpeg: test patterns with detail everywhere (so a crop or a
 * zoom shows) and tones. The container and codec follow the file's extension
 * (`.png`, `.jpg`, `.webp`, `.bmp`; `.mp4`, `.mov`; `.wav`, `.mp3`, `.flac`). Each returns `file`.
 */

export interface ImageFixture {
  width: number;
  height: number;
}

export async function makeImage(toolchain: FfmpegToolchain, file: string, image: ImageFixture): Promise<string> {
  await runFfmpeg(toolchain.ffmpegPath, [
    '-y',
    ...['-f', 'lavfi', '-i', `testsrc2=s=${image.width}x${image.height}`],
    ...['-frames:v', '1'],
    file,
  ]);
  return file;
}

export interface VideoFixture {
  width: number;
  height: number;
  seconds: number;
  /** A 440 Hz tone as the audio stream; no audio stream when false. */
  audio: boolean;
  frameRate?: number;
  /** Display rotation written in the container, as phones do. */
  rotate?: 90 | 180 | 270;
}

export async function makeVideo(toolchain: FfmpegToolchain, file: string, video: VideoFixture): Promise<string> {
  const rate = video.frameRate ?? 30;
  // ffmpeg writes a rotation tag only when copying streams, so a rotated fixture takes a second pass.
  const encoded = video.rotate ? `${file}.unrotated${path.extname(file)}` : file;
  await runFfmpeg(toolchain.ffmpegPath, [
    '-y',
    ...['-f', 'lavfi', '-i', `testsrc2=s=${video.width}x${video.height}:r=${rate}:d=${video.seconds}`],
    ...(video.audio ? ['-f', 'lavfi', '-i', `sine=f=440:r=44100:d=${video.seconds}`] : []),
    ...['-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p'],
    ...(video.audio ? ['-c:a', 'aac'] : []),
    encoded,
  ]);
  if (video.rotate) {
    await runFfmpeg(toolchain.ffmpegPath, ['-y', '-i', encoded, '-c', 'copy', '-metadata:s:v:0', `rotate=${video.rotate}`, file]);
    await rm(encoded);
  }
  return file;
}

export interface AudioFixture {
  seconds: number;
  /** Tone frequency; 330 Hz unless given. */
  frequency?: number;
}

export async function makeAudio(toolchain: FfmpegToolchain, file: string, audio: AudioFixture): Promise<string> {
  await runFfmpeg(toolchain.ffmpegPath, [
    '-y',
    ...['-f', 'lavfi', '-i', `sine=f=${audio.frequency ?? 330}:r=44100:d=${audio.seconds}`],
    file,
  ]);
  return file;
}

/** One MD5 per decoded frame and audio packet (`-f framemd5`): equal lists mean equal pictures and sound. */
export async function decodedHashes(toolchain: FfmpegToolchain, file: string): Promise<string[]> {
  const { stdout } = await execFileAsync(
    toolchain.ffmpegPath,
    ['-hide_banner', '-v', 'error', '-i', file, '-f', 'framemd5', '-'],
    { maxBuffer: 64 << 20 },
  );
  return stdout.split('\n').filter((line) => line !== '' && !line.startsWith('#'));
}

export interface Region {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** The RGB bytes of `region` in frame number `frame` (0-based) of a video. */
export async function regionPixels(
  toolchain: FfmpegToolchain,
  file: string,
  frame: number,
  region: Region,
): Promise<Buffer> {
  const { stdout } = await execFileAsync(
    toolchain.ffmpegPath,
    [
      ...['-hide_banner', '-v', 'error', '-i', file],
      ...['-vf', `select='eq(n,${frame})',crop=${region.width}:${region.height}:${region.x}:${region.y}`],
      ...['-frames:v', '1', '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-'],
    ],
    { encoding: 'buffer', maxBuffer: 64 << 20 },
  );
  return stdout;
}

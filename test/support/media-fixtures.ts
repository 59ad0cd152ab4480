import { execFile } from 'node:child_process';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { crc32 } from 'node:zlib';
import path from 'node:path';
import { promisify } from 'node:util';
import { resolveFfmpeg, type FfmpegToolchain } from '../../src/media/ffmpeg-binaries.js';
import { runFfmpeg } from '../../src/media/run-ffmpeg.js';

const execFileAsync = promisify(execFile);

/**
 * Input media for tests, made with ffmpeg: test patterns with detail everywhere (so a crop or a
 * zoom shows) and tones. The container and codec follow the file's extension
 * (`.png`, `.jpg`, `.webp`, `.bmp`; `.mp4`, `.mov`; `.wav`, `.mp3`, `.flac`). Each returns `file`.
 */

/**
 * The ffmpeg the media and preview tests run with: `WAN_TEST_FFMPEG_PATH` (and optionally
 * `WAN_TEST_FFPROBE_PATH`) when set, e.g. to the npm package's 2018 build
 * (`node_modules/@ffmpeg-installer/linux-x64/ffmpeg`), else the one `resolveFfmpeg()` finds.
 */
export function testToolchain(): Promise<FfmpegToolchain> {
  const ffmpegPath = process.env.WAN_TEST_FFMPEG_PATH || undefined;
  const ffprobePath = process.env.WAN_TEST_FFPROBE_PATH || undefined;
  return ffmpegPath || ffprobePath ? resolveFfmpeg({ ffmpegPath, ffprobePath }) : resolveFfmpeg();
}

export interface ImageFixture {
  width: number;
  height: number;
  /** A plain colour (`red`, `0x2040ff` …) instead of the test pattern. */
  colour?: string;
}

export async function makeImage(toolchain: FfmpegToolchain, file: string, image: ImageFixture): Promise<string> {
  const size = `s=${image.width}x${image.height}`;
  const source = image.colour ? `color=c=${image.colour}:${size}` : `testsrc2=${size}`;
  await runFfmpeg(toolchain.ffmpegPath, [
    '-y',
    ...['-f', 'lavfi', '-i', source],
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

/** A silent clip of plain colours, `secondsEach` per colour in order: its last frame is the last colour. */
export async function makeColourClip(
  toolchain: FfmpegToolchain,
  file: string,
  clip: { width: number; height: number; colours: string[]; secondsEach: number; /** A tone of this frequency as audio. */ tone?: number },
): Promise<string> {
  const size = `${clip.width}x${clip.height}`;
  const sources = clip.colours.map((colour, index) => `color=c=${colour}:s=${size}:r=24:d=${clip.secondsEach}[c${index}]`);
  const joined = `${clip.colours.map((_, index) => `[c${index}]`).join('')}concat=n=${clip.colours.length}:v=1:a=0[v]`;
  const seconds = clip.secondsEach * clip.colours.length;
  const tone = clip.tone ? [`sine=f=${clip.tone}:r=44100:d=${seconds}[a]`] : [];
  await runFfmpeg(toolchain.ffmpegPath, [
    '-y',
    ...['-filter_complex', [...sources, joined, ...tone].join(';'), '-map', '[v]', ...(clip.tone ? ['-map', '[a]', '-c:a', 'aac'] : [])],
    ...['-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p'],
    file,
  ]);
  return file;
}

/** `source` scaled to cover `width` × `height` and centre-cropped, as the preview fits inputs. */
export async function coverCopy(toolchain: FfmpegToolchain, source: string, file: string, width: number, height: number): Promise<string> {
  await runFfmpeg(toolchain.ffmpegPath, [
    '-y',
    ...['-i', source, '-vf', `scale=${width}:${height}:force_original_aspect_ratio=increase,crop=${width}:${height}`],
    ...['-frames:v', '1', file],
  ]);
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

/** The mean red, green and blue (0…255) of `region` (the whole frame when omitted) in frame `frame`. */
export async function meanColour(
  toolchain: FfmpegToolchain,
  file: string,
  frame: number,
  region: Region,
): Promise<[number, number, number]> {
  const pixels = await regionPixels(toolchain, file, frame, region);
  const sums = [0, 0, 0];
  for (let index = 0; index < pixels.length; index++) sums[index % 3] += pixels[index];
  const count = pixels.length / 3;
  return [sums[0] / count, sums[1] / count, sums[2] / count];
}

/** The mean absolute difference (0…255) between two equally long pixel buffers. */
export function pixelDifference(a: Buffer, b: Buffer): number {
  if (a.length !== b.length || a.length === 0) throw new Error(`buffers of ${a.length} and ${b.length} bytes`);
  let total = 0;
  for (let index = 0; index < a.length; index++) total += Math.abs(a[index] - b[index]);
  return total / a.length;
}

/** The decoded audio of a file as mono 8 kHz 16-bit samples (empty when it has none). */
export async function audioSamples(toolchain: FfmpegToolchain, file: string): Promise<Int16Array> {
  const { stdout } = await execFileAsync(
    toolchain.ffmpegPath,
    ['-hide_banner', '-v', 'error', '-i', file, '-vn', '-ac', '1', '-ar', '8000', '-f', 's16le', '-'],
    { encoding: 'buffer', maxBuffer: 64 << 20 },
  );
  return new Int16Array(stdout.buffer, stdout.byteOffset, Math.floor(stdout.length / 2));
}

/** The root mean square (0…1) of samples `from` … `to` seconds at 8 kHz. */
export function loudness(samples: Int16Array, fromSeconds: number, toSeconds: number): number {
  const part = samples.subarray(Math.round(fromSeconds * 8000), Math.round(toSeconds * 8000));
  let sum = 0;
  for (const sample of part) sum += (sample / 32768) ** 2;
  return part.length > 0 ? Math.sqrt(sum / part.length) : 0;
}

/** The frequency of a pure tone in samples `from` … `to` seconds at 8 kHz, from its zero crossings. */
export function toneFrequency(samples: Int16Array, fromSeconds: number, toSeconds: number): number {
  const part = samples.subarray(Math.round(fromSeconds * 8000), Math.round(toSeconds * 8000));
  let crossings = 0;
  for (let index = 1; index < part.length; index++) {
    if ((part[index - 1] < 0 && part[index] >= 0) || (part[index - 1] >= 0 && part[index] < 0)) crossings++;
  }
  return crossings / 2 / (part.length / 8000);
}

/** A PNG whose pixels are half transparent (RGBA), for the "no transparency" rule. */
export async function makeTransparentPng(toolchain: FfmpegToolchain, file: string, image: { width: number; height: number }): Promise<string> {
  await runFfmpeg(toolchain.ffmpegPath, [
    '-y',
    ...['-f', 'lavfi', '-i', `color=c=red@0.5:s=${image.width}x${image.height},format=rgba`],
    ...['-frames:v', '1', '-pix_fmt', 'rgba', file],
  ]);
  return file;
}

/**
 * Grows a PNG or an MP4/MOV to exactly `bytes`, staying a valid file of its format: a private
 * ancillary chunk before IEND for PNG, a `free` box at the end for MP4. Lets a test sit exactly
 * on a size limit, or one byte past it, without making a picture that large.
 */
export async function padToSize(file: string, bytes: number): Promise<string> {
  const data = await readFile(file);
  const missing = bytes - data.length;
  const isPng = data.subarray(1, 4).toString('latin1') === 'PNG';
  const overhead = isPng ? 12 : 8;
  if (missing < overhead) throw new Error(`${file} is ${data.length} bytes: cannot pad it to ${bytes}`);
  let padded: Buffer;
  if (isPng) {
    const chunk = Buffer.alloc(missing);
    chunk.writeUInt32BE(missing - 12, 0);
    chunk.write('wnPd', 4, 'latin1');
    chunk.writeUInt32BE(crc32(chunk.subarray(4, missing - 4)), missing - 4);
    const iend = data.length - 12;
    padded = Buffer.concat([data.subarray(0, iend), chunk, data.subarray(iend)]);
  } else {
    const box = Buffer.alloc(missing);
    box.writeUInt32BE(missing, 0);
    box.write('free', 4, 'latin1');
    padded = Buffer.concat([data, box]);
  }
  await writeFile(file, padded);
  return file;
}

/** The first `fraction` of a file's bytes, as a download cut off midway leaves it. */
export async function truncatedCopy(source: string, file: string, fraction: number): Promise<string> {
  const data = await readFile(source);
  await writeFile(file, data.subarray(0, Math.floor(data.length * fraction)));
  return file;
}

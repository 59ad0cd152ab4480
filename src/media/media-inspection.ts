import { stat } from 'node:fs/promises';
import { fileTypeFromFile } from 'file-type';
import { kindOfFormat } from '../models/media-formats.js';
import type { FfmpegToolchain } from './ffmpeg-binaries.js';
import { readFileStructure } from './file-structure.js';
import { probeMedia } from './probe.js';

/** What a fetched input file turned out to be; the media checker compares it with a field's limits. */
export interface MediaFacts {
  sizeBytes: number;
  /**
   * The format its bytes say, named like the limits (`jpg`, `png`, `bmp`, `webp`, `mp4`, `mov`,
   * `wav`, `mp3`, `flac`), another format's usual extension (`gif`, `mkv`, …), or `unknown`.
   */
  format: string;
  /** Why the file cannot be read as that format: cut short, no stream ffprobe can read. */
  damage?: string;
  /** PNG with an alpha channel or a transparent colour. */
  transparent?: boolean;
  /** Displayed size of the picture (images and videos). */
  width?: number;
  height?: number;
  /** Length in seconds (videos and audio). */
  durationSeconds?: number;
}

/**
 * Finds a file's format from its bytes (never its name or the Content-Type it was served with),
 * checks its structure, and reads its picture size and length with ffprobe.
 */
export async function inspectMedia(toolchain: FfmpegToolchain, file: string, signal?: AbortSignal): Promise<MediaFacts> {
  const [{ size }, detected] = await Promise.all([stat(file), fileTypeFromFile(file)]);
  // file-type's extensions are the names the limits use.
  const format = detected?.ext ?? 'unknown';
  const facts: MediaFacts = { sizeBytes: size, format };
  const kind = kindOfFormat(format);
  if (!kind) return facts;

  // The structure walk and ffprobe read the file independently: run them side by side.
  const [structure, probed] = await Promise.all([
    readFileStructure(file, format),
    probeMedia(toolchain, file, { signal }).catch((error: unknown) => {
      if (signal?.aborted) throw error;
      return `ffprobe cannot read it (${firstLine(error)})`;
    }),
  ]);
  if (structure.transparent !== undefined) facts.transparent = structure.transparent;
  if (structure.problem) return { ...facts, damage: structure.problem };
  if (typeof probed === 'string') return { ...facts, damage: probed };
  if (kind === 'audio') {
    if (!probed.audio) return { ...facts, damage: 'it has no audio stream' };
    return { ...facts, durationSeconds: probed.audio.durationSeconds };
  }
  if (!probed.video) return { ...facts, damage: 'it has no picture' };
  facts.width = probed.video.width;
  facts.height = probed.video.height;
  if (kind === 'video') facts.durationSeconds = probed.durationSeconds;
  return facts;
}

function firstLine(error: unknown): string {
  const text = String((error as { stderr?: string }).stderr || (error as Error).message || error);
  return text.trim().split('\n')[0].slice(0, 200);
}

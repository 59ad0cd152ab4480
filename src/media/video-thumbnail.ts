import type { FfmpegToolchain } from './ffmpeg-binaries.js';
import { probeMedia } from './probe.js';
import { runFfmpeg } from './run-ffmpeg.js';

/**
 * Writes one frame of a video as a JPEG: the middle frame, where the picture is under way (the
 * first is often a fade from black), at the video's own size.
 */
export async function extractThumbnail(toolchain: FfmpegToolchain, videoFile: string, jpegFile: string): Promise<void> {
  const { durationSeconds } = await probeMedia(toolchain, videoFile);
  await runFfmpeg(toolchain.ffmpegPath, [
    '-y',
    ...['-ss', (durationSeconds / 2).toFixed(3), '-i', videoFile],
    ...['-frames:v', '1', '-q:v', '3', '-an', '-f', 'image2'],
    jpegFile,
  ]);
}

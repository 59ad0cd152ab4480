import type { FfmpegToolchain } from '../../media/ffmpeg-binaries.js';
import { probeMedia } from '../../media/probe.js';
import type { Dimensions } from '../../models/output-size.js';
import { errors } from '../../spec/api-error.js';
import type { EngineJob } from '../../spec/engine.js';

/** The displayed size of an input picture or video, and its length (0 for a still picture). */
export interface InputShape extends Dimensions {
  seconds: number;
}

/**
 * The shape of each input picture or video a job's output depends on (i2v's first frame or
 * clip, videoedit's video: their aspect ratio, and videoedit's length), read with ffprobe from
 * the files the media check already downloaded and accepted.
 */
export async function inputShapes(toolchain: FfmpegToolchain, job: EngineJob): Promise<(field: string) => InputShape> {
  const known = new Map<string, InputShape>();
  for (const field of ['image_url', 'first_clip_url', 'video_url']) {
    const media = job.media[field];
    if (media === undefined) continue;
    const info = await probeMedia(toolchain, media.path);
    if (info.video === undefined) throw errors.taskFailed(`${field}: the file holds no picture`, { field });
    known.set(field, { width: info.video.width, height: info.video.height, seconds: info.durationSeconds });
  }
  return (field) => {
    const shape = known.get(field);
    if (shape === undefined) throw errors.taskFailed(`${field}: the input was not downloaded`, { field });
    return shape;
  };
}

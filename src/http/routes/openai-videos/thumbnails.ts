import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { ApiError, errors } from '../../../spec/api-error.js';
import type { BlobStore } from '../../../spec/blob-store.js';
import type { DiskState } from '../../../spec/disk-state.js';
import { isDiskError } from '../../../spec/storage-errors.js';
import { resultThumbnailKey } from '../../../blobs/blob-key.js';
import type { FfmpegToolchain } from '../../../media/ffmpeg-binaries.js';
import { contentTypeOfName } from '../../../models/media-formats.js';
import { extractThumbnail } from '../../../media/video-thumbnail.js';

/**
 * Thumbnails of result videos (`variant=thumbnail`): made with ffmpeg on the first request and
 * kept as a blob beside the video, so every later request is a plain read. Requests for the same
 * thumbnail while it is being made wait for that one run.
 */
export class Thumbnails {
  private readonly making = new Map<string, Promise<void>>();

  constructor(
    private readonly blobs: BlobStore,
    private readonly toolchain: FfmpegToolchain,
    private readonly disk?: DiskState,
  ) {}

  /** The blob key of the thumbnail of task `taskId`, whose video is `videoKey`, made if need be. */
  async of(taskId: string, videoKey: string): Promise<string> {
    const key = resultThumbnailKey(taskId);
    if (await this.blobs.head(key)) return key;
    let run = this.making.get(key);
    if (!run) {
      run = this.make(videoKey, key).finally(() => this.making.delete(key));
      this.making.set(key, run);
    }
    await run;
    return key;
  }

  private async make(videoKey: string, key: string): Promise<void> {
    const diskProblem = this.disk?.problem();
    if (diskProblem !== undefined) throw errors.storageFull(diskProblem);
    const directory = await mkdtemp(path.join(tmpdir(), 'wan-thumbnail-'));
    try {
      const video = await this.blobs.open(videoKey);
      if (!video) throw new ApiError(404, 'FILE_NOT_FOUND', 'the video file no longer exists');
      const videoFile = path.join(directory, 'video.mp4');
      const jpegFile = path.join(directory, 'thumbnail.jpg');
      await pipeline(video.stream, createWriteStream(videoFile));
      await extractThumbnail(this.toolchain, videoFile, jpegFile);
      await this.blobs.putFile(key, jpegFile, contentTypeOfName(key));
    } catch (error) {
      if (!isDiskError(error)) throw error;
      this.disk?.reportFailure(error);
      throw errors.storageFull((error as Error).message);
    } finally {
      await rm(directory, { recursive: true, force: true });
    }
  }
}

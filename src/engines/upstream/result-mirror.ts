import { randomUUID } from 'node:crypto';
import { rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { errors } from '../../spec/api-error.js';
import type { ResultVideo } from '../../spec/engine.js';

/**
 * Downloads a file from a URL to a path. The integrator supplies it: it guards against
 * requests to addresses the engine may not reach and caps the size, which a plain fetch would
 * not. `headers` go to the URL's origin only, never to where a redirect leads.
 */
export type ResultDownloader = (url: string, file: string, options?: DownloadOptions) => Promise<void>;

export interface DownloadOptions {
  signal?: AbortSignal;
  headers?: Record<string, string>;
}

/**
 * Copies the videos an upstream finished into the attempt's workDir (`result-0.mp4`, …). A file that
 * is already there is whole (each is downloaded under a temporary name, then renamed), so asking
 * again downloads nothing twice. A download that fails fails the task: the upstream has billed
 * it, and sending it again would bill it twice.
 */
export async function mirrorResults(
  engine: string,
  urls: readonly string[],
  workDir: string,
  download: (url: string, file: string) => Promise<void>,
): Promise<ResultVideo[]> {
  const videos: ResultVideo[] = [];
  for (const [index, url] of urls.entries()) {
    const file = path.join(workDir, `result-${index}.mp4`);
    if (!(await isFile(file))) {
      const partial = `${file}.${randomUUID()}.part`;
      try {
        await download(url, partial);
        await rename(partial, file);
      } catch (error) {
        await rm(partial, { force: true });
        const why = error instanceof Error ? error.message : String(error);
        throw errors.taskFailed(`the ${engine} upstream finished the video, but it could not be downloaded from it: ${why}`, {
          engine,
          video_index: index,
        });
      }
    }
    videos.push({ path: file, type: 'mp4' });
  }
  return videos;
}

async function isFile(file: string): Promise<boolean> {
  try {
    return (await stat(file)).isFile();
  } catch {
    return false;
  }
}

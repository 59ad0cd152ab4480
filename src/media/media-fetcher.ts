import type { LocalMedia } from '../spec/engine.js';
import type { MediaReference } from '../models/model.js';

/**
 * Brings a task's input media to local files before its engine starts. The worker depends only
 * on this contract, so the way media are fetched and checked can change without touching it.
 */
export interface MediaFetcher {
  /**
   * Downloads every reference into `directory` (each distinct URL once) and answers the files
   * keyed by field path. Throws an ApiError naming the field when one cannot be had.
   */
  fetchAll(references: MediaReference[], directory: string, signal: AbortSignal): Promise<Record<string, LocalMedia>>;
}

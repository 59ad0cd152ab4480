import path from 'node:path';
import { ApiError } from '../spec/api-error.js';
import type { LocalMedia } from '../spec/engine.js';
import type { MediaObserver } from '../spec/media-observer.js';
import type { MediaReference } from '../models/model.js';
import { megabyte } from '../models/media-limits.js';
import { DownloadError } from '../net/download-error.js';
import type { FfmpegToolchain } from './ffmpeg-binaries.js';
import type { MediaFetcher } from './media-fetcher.js';
import { inspectMedia } from './media-inspection.js';
import { checkMediaLimits, mediaReason, type MediaViolation } from './media-limit-check.js';
import type { MediaSource } from './media-source.js';

export interface CheckedMediaFetcherOptions {
  source: MediaSource;
  toolchain: FfmpegToolchain;
  /** Distinct URLs of one task fetched at once. */
  parallelDownloads?: number;
  observer?: MediaObserver;
}

/**
 * Brings a task's media home and holds each file against its field's limits before any engine
 * (and any bill) starts. Each distinct URL is fetched once, even when two fields share it; every
 * problem of every field is collected, so the task fails once with all of them.
 */
export class CheckedMediaFetcher implements MediaFetcher {
  constructor(private readonly options: CheckedMediaFetcherOptions) {}

  async fetchAll(references: MediaReference[], directory: string, signal: AbortSignal): Promise<Record<string, LocalMedia>> {
    const byUrl = new Map<string, MediaReference[]>();
    for (const reference of references) byUrl.set(reference.url, [...(byUrl.get(reference.url) ?? []), reference]);

    const media: Record<string, LocalMedia> = {};
    const violations: MediaViolation[] = [];
    const fetchOne = async ([url, sharing]: [string, MediaReference[]], index: number) => {
      const file = path.join(directory, `input-${index}`);
      // A shared URL downloads under the most generous of its fields' caps; each field then
      // checks the size against its own.
      const maxBytes = Math.max(...sharing.map((reference) => reference.limits.maxBytes));
      try {
        const fetched = await this.options.source.download(url, file, { maxBytes, signal });
        this.options.observer?.fetched(fetched.ownUpload ? 'upload' : 'network', fetched.bytes);
      } catch (error) {
        if (signal.aborted) throw error;
        violations.push(...sharing.map((reference) => downloadViolation(reference, error)));
        return;
      }
      const facts = await inspectMedia(this.options.toolchain, file, signal);
      for (const reference of sharing) {
        const found = checkMediaLimits(reference.field, facts, reference.limits);
        if (found.length > 0) violations.push(...found);
        else media[reference.field] = { field: reference.field, kind: reference.kind, url, path: file };
      }
    };
    await inParallel([...byUrl].map((entry, index) => () => fetchOne(entry, index)), this.options.parallelDownloads ?? 4);

    if (violations.length > 0) {
      for (const violation of violations) this.options.observer?.refused(violation.reason);
      const order = references.map((reference) => reference.field);
      throw mediaRejected(violations.sort((a, b) => order.indexOf(a.field) - order.indexOf(b.field)));
    }
    return media;
  }
}

/** Why a URL could not be had, under the reason a client can act on. */
function downloadViolation(reference: MediaReference, error: unknown): MediaViolation {
  const { field } = reference;
  if (error instanceof ApiError) return { field, reason: error.reason, message: `${field}: ${error.message}` };
  if (!(error instanceof DownloadError)) throw error;
  const message = `${field}: ${error.message}`;
  switch (error.code) {
    case 'TOO_LARGE': {
      const limit = reference.limits.maxBytes;
      return {
        field,
        reason: mediaReason(reference.kind, 'fileSize'),
        message: `${field}: the file is larger than the limit of ${limit / megabyte} MB (${limit} bytes); the download was stopped there`,
        limit,
      };
    }
    case 'URL_NOT_ALLOWED':
    case 'ADDRESS_NOT_ALLOWED':
      return { field, reason: 'MEDIA_URL_NOT_ALLOWED', message };
    case 'TIMEOUT':
      return { field, reason: 'MEDIA_DOWNLOAD_TIMEOUT', message };
    default:
      return { field, reason: 'MEDIA_DOWNLOAD_FAILED', message, ...(error.status ? { value: error.status } : {}) };
  }
}

/** One error for all of a task's media problems: the first one's reason, every message. */
function mediaRejected(violations: MediaViolation[]): ApiError {
  const [first] = violations;
  const message =
    violations.length === 1
      ? first.message
      : `${violations.length} problems with the input media: ${violations.map((violation) => violation.message).join('; ')}`;
  const details = violations.map(({ field, reason, message: text, value, limit }) => ({ field, reason, message: text, value, limit }));
  return new ApiError(400, first.reason, message, { field: first.field, value: first.value, limit: first.limit, violations: details });
}

/** Runs the jobs with at most `width` at a time. */
async function inParallel(jobs: (() => Promise<void>)[], width: number): Promise<void> {
  const queue = [...jobs];
  const lane = async () => {
    for (let job = queue.shift(); job; job = queue.shift()) await job();
  };
  await Promise.all(Array.from({ length: Math.min(width, queue.length) }, lane));
}

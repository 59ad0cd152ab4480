import { setImmediate as yieldToRequests } from 'node:timers/promises';
import { resultFiles } from '../blobs/blob-key.js';
import type { Logger } from 'pino';
import type { BlobStore } from '../spec/blob-store.js';
import type { RetentionStore } from '../spec/retention-store.js';

export interface RetentionSweeperOptions {
  store: RetentionStore;
  blobs: Pick<BlobStore, 'delete'>;
  logger: Logger;
  /** How long a finished task's result files are kept. */
  resultRetentionMs: number;
  /** How long an uploaded file is kept. */
  uploadRetentionMs: number;
  /** How long an ended task's row is kept; undefined keeps rows forever. */
  taskRetentionMs: number | undefined;
  sweepEveryMs: number;
  /** Rows handled per store call. */
  batchSize?: number;
  clock?: () => number;
}

export interface SweepCounts {
  resultsExpired: number;
  uploadsDeleted: number;
  tasksDeleted: number;
  bookkeepingDeleted: number;
}

/**
 * Keeps the disk from growing forever: every `sweepEveryMs` it removes result files past their
 * retention (their tasks then show `results_expired_at` instead of dead URLs), uploads past
 * theirs, ended tasks past theirs, and expired idempotency keys and request counts. Work goes in
 * bounded batches with a turn of the event loop between them, so requests are served throughout.
 * Files are deleted before their rows are marked: a crash in between deletes them again at the
 * next sweep rather than leaving files no row names. Several processes may sweep at once.
 */
export class RetentionSweeper {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<unknown> | undefined;
  private stopped = false;
  private readonly batchSize: number;
  private readonly clock: () => number;

  constructor(private readonly options: RetentionSweeperOptions) {
    this.batchSize = options.batchSize ?? 200;
    this.clock = options.clock ?? Date.now;
  }

  start(): void {
    const round = () => {
      this.running = this.sweep()
        .catch((error: unknown) => this.options.logger.error({ err: error }, 'retention sweep failed; the next one tries again'))
        .finally(() => {
          this.running = undefined;
          if (!this.stopped) this.timer = setTimeout(round, this.options.sweepEveryMs).unref();
        });
    };
    this.timer = setTimeout(round, Math.min(this.options.sweepEveryMs, 1000)).unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }

  /** One whole sweep; answers what it removed. */
  async sweep(): Promise<SweepCounts> {
    const { store, blobs } = this.options;
    const now = this.clock();
    const counts: SweepCounts = { resultsExpired: 0, uploadsDeleted: 0, tasksDeleted: 0, bookkeepingDeleted: 0 };
    await this.inBatches(async () => {
      const batch = await store.resultsToExpire(now - this.options.resultRetentionMs, this.batchSize);
      if (batch.length === 0) return 0;
      await blobs.delete(resultFiles(batch.flatMap((task) => task.resultKeys)));
      await store.markResultsExpired(batch.map((task) => task.id), now);
      counts.resultsExpired += batch.length;
      return batch.length;
    });
    await this.inBatches(async () => {
      const batch = await store.uploadsToExpire(now - this.options.uploadRetentionMs, this.batchSize);
      if (batch.length === 0) return 0;
      await blobs.delete(batch.map((upload) => upload.blobKey));
      await store.deleteUploadRecords(batch.map((upload) => upload.id));
      counts.uploadsDeleted += batch.length;
      return batch.length;
    });
    const taskRetentionMs = this.options.taskRetentionMs;
    if (taskRetentionMs !== undefined) {
      await this.inBatches(async () => {
        const { deleted, resultKeys } = await store.deleteTasksBefore(now - taskRetentionMs, this.batchSize);
        await blobs.delete(resultFiles(resultKeys));
        counts.tasksDeleted += deleted;
        return deleted;
      });
    }
    await this.inBatches(async () => {
      const deleted = await store.deleteExpiredBookkeeping(now, this.batchSize);
      counts.bookkeepingDeleted += deleted;
      return deleted;
    });
    if (counts.resultsExpired + counts.uploadsDeleted + counts.tasksDeleted > 0) this.options.logger.info(counts, 'retention sweep');
    return counts;
  }

  /** Runs `batch` until one handles less than a whole batch, letting requests in between. */
  private async inBatches(batch: () => Promise<number>): Promise<void> {
    while (!this.stopped && (await batch()) >= this.batchSize) await yieldToRequests();
  }
}

import { statfs, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { isDiskError } from '../spec/storage-errors.js';
import type { DiskState } from '../spec/disk-state.js';


export interface DiskSpaceOptions {
  /** The directory whose file system is watched: the data directory. */
  directory: string;
  /** Below this many free bytes the directory counts as full. */
  minFreeBytes: number;
  /** How often free space is read. */
  checkEveryMs?: number;
  /** Called when the directory becomes writable again, so waiting work can go on. */
  onRecovered?: () => void;
}

/**
 * Whether the data directory can take more writes. Free space is read every second (a statfs
 * costs microseconds), so the request paths ask a boolean and never touch the disk. Past the
 * threshold, new work is refused cleanly before SQLite or a render hits a full disk; a write
 * that failed anyway (reported with `reportFailure`) marks the directory unwritable until a
 * probe write succeeds again.
 */
export class DiskSpace implements DiskState {
  private freeBytes = Number.POSITIVE_INFINITY;
  /** Bytes promised to writes in progress (see reserve). */
  private reserved = 0;
  private failure: string | undefined;
  private timer: NodeJS.Timeout | undefined;
  private readonly probeFile: string;

  constructor(private readonly options: DiskSpaceOptions) {
    this.probeFile = path.join(options.directory, '.write-probe');
  }

  async start(): Promise<void> {
    await this.check();
    this.timer = setInterval(() => void this.check(), this.options.checkEveryMs ?? 1000);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** Undefined while the directory may be written; otherwise why not, in words for a client or an operator. */
  problem(): string | undefined {
    if (this.failure) return `the data directory cannot be written (${this.failure})`;
    if (this.freeBytes < this.options.minFreeBytes) {
      return `the data directory has ${describe(this.freeBytes)} free, below the ${describe(this.options.minFreeBytes)} kept free (min_free_disk_bytes)`;
    }
    return undefined;
  }

  /**
   * Sets `bytes` aside for a write that is about to stream in (an upload), so that writes at once
   * cannot pass the threshold together; answers the release, or undefined when there is no room.
   */
  reserve(bytes: number): (() => void) | undefined {
    if (this.problem() !== undefined || this.freeBytes - this.reserved - bytes < this.options.minFreeBytes) return undefined;
    this.reserved += bytes;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.reserved -= bytes;
    };
  }

  /** A write failed on a storage error: stop taking work until a probe write succeeds. */
  reportFailure(error: unknown): void {
    if (!isDiskError(error)) return;
    this.failure = (error as Error).message.split('\n')[0];
  }

  private async check(): Promise<void> {
    const before = this.problem();
    try {
      const stats = await statfs(this.options.directory);
      this.freeBytes = stats.bavail * stats.bsize;
      if (this.failure && this.freeBytes >= this.options.minFreeBytes) {
        await writeFile(this.probeFile, 'ok');
        await unlink(this.probeFile);
        this.failure = undefined;
      }
    } catch (error) {
      this.failure = (error as Error).message.split('\n')[0];
    }
    if (before !== undefined && this.problem() === undefined) this.options.onRecovered?.();
  }
}

function describe(bytes: number): string {
  return bytes >= 1024 * 1024 ? `${Math.floor(bytes / (1024 * 1024))} MB` : `${bytes} bytes`;
}

import { closeSync, fdatasyncSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import path from 'node:path';
import { percentile } from './processes.js';

/**
 * How long the disk under `dir` takes to make an 8 KiB write durable (write + fdatasync, as a
 * commit's log write): p50 and p99 in µs over `samples` syncs. A submission is answered only once
 * its row is durable, so at a fixed number of connections SQLite's submit case follows this
 * figure from machine to machine (docs/benchmarks.md). PostgreSQL syncs on its own server's disk,
 * which this does not time.
 */
export function diskSyncMicros(dir: string, samples = 200): { p50: number; p99: number } {
  const scratch = mkdtempSync(path.join(dir, 'wan-bench-sync-'));
  const fd = openSync(path.join(scratch, 'sync'), 'w');
  const page = Buffer.alloc(8192, 1);
  const took: number[] = [];
  try {
    for (let sample = 0; sample < samples; sample++) {
      const start = performance.now();
      writeSync(fd, page, 0, page.length, 0);
      fdatasyncSync(fd);
      took.push((performance.now() - start) * 1000);
    }
  } finally {
    closeSync(fd);
    rmSync(scratch, { recursive: true, force: true });
  }
  return { p50: Math.round(percentile(took, 0.5)), p99: Math.round(percentile(took, 0.99)) };
}

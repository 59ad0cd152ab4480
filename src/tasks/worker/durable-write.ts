import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import type { DiskState } from '../../spec/disk-state.js';
import { isTransientStoreError } from '../../spec/storage-errors.js';

/** First and longest wait between tries of a write the store could not take. */
const retryMs = { first: 500, longest: 15_000 };

/**
 * A write a task cannot end without: when the store cannot take it (a full disk, a database that
 * went away) it is tried again, waiting longer each time, while the lease stays renewed, so the
 * task finishes once storage is back instead of being lost or taking the process down. Answers
 * the write's own answer (false: the lease was lost). Gives up only when `halted` aborts
 * (shutdown); other errors are real failures and thrown at once.
 */
export async function durableWrite<T>(
  what: string,
  write: () => Promise<T>,
  context: { log: Logger; halted: AbortSignal; disk?: DiskState },
): Promise<T> {
  for (let waitMs = retryMs.first; ; waitMs = Math.min(waitMs * 2, retryMs.longest)) {
    try {
      return await write();
    } catch (error) {
      if (!isTransientStoreError(error)) throw error;
      context.disk?.reportFailure(error);
      context.log.error({ err: error, retry_in_ms: waitMs }, `cannot record ${what}; trying again`);
      await sleep(waitMs, undefined, { signal: context.halted });
    }
  }
}

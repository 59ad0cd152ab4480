/**
 * Why a running task stopped before its engine ended it. Each is an abort reason of the task's
 * lease signal, so every wait of the run (media, engine, retries) ends at once.
 */

/** The process is shutting down, or another worker took the task over: it is handed back. */
export class LeaseEnded extends Error {
  override name = 'LeaseEnded';
}

/** The client cancelled the task: the store already ended it; the engine's work is stopped. */
export class TaskCancelled extends Error {
  override name = 'TaskCancelled';
  constructor() {
    super('the task was cancelled');
  }
}

/** Every engine of the route was full when the task came to start: it goes back to the queue. */
export class NoRoom extends Error {
  override name = 'NoRoom';
}

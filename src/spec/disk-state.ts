/**
 * Whether the server's own disk can take more writes (the data directory: the embedded database,
 * local results, scratch space). Read on request paths, so answering must not touch the disk.
 */
export interface DiskState {
  /** Undefined while writes may go on; otherwise why not, in words for a client or an operator. */
  problem(): string | undefined;
  /** A write failed: a disk error marks the directory unwritable until it recovers. */
  reportFailure(error: unknown): void;
  /** Sets `bytes` aside for a write about to stream in; answers its release, or undefined when there is no room. */
  reserve(bytes: number): (() => void) | undefined;
}

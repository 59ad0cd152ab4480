/**
 * What bringing a task's input media home reports, for whoever counts (the metrics). Calls must be
 * cheap and must not throw.
 */
export interface MediaObserver {
  /** A file arrived whole: `bytes` long, from the network or from this server's own uploads. */
  fetched(from: 'network' | 'upload', bytes: number): void;
  /** A field's media was refused (download failed, over a limit, wrong format), under the reason the client sees. */
  refused(reason: string): void;
}

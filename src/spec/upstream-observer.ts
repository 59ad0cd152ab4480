/**
 * What the HTTP client of an upstream engine (a cloud, a GPU host) reports per request, for whoever
 * counts (the metrics). Calls must be cheap and must not throw.
 */
export interface UpstreamObserver {
  /**
   * One request to `engine` ended after `durationMs` (its wait for a free place aside): answered
   * with `status`, or with none (null: no answer came, a timeout or a connection failure).
   */
  requested(engine: string, status: number | null, durationMs: number): void;
}

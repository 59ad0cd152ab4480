import type { ApiError } from '../../spec/api-error.js';
import type { ModelRequest } from '../../models/model.js';
import type { EngineJob } from '../../spec/engine.js';

/** What a check of an upstream task found, in terms every upstream shares. */
export type PollOutcome =
  | {
      state: 'queued' | 'running';
      /** The upstream's own figures, when it gives them; otherwise progress is estimated. */
      progressPercent?: number;
      etaSeconds?: number;
      retryAfterMs?: number;
    }
  | { state: 'unreachable'; why: string; retryAfterMs?: number }
  | { state: 'succeeded'; videoUrls: string[]; extra: Record<string, unknown> }
  | { state: 'failed'; error: ApiError };

/** An upstream's answer to a create call that took the task. */
export interface Accepted {
  /** The upstream's own id of the task. */
  upstreamTaskId: string;
  /** What of the request the upstream could not honour, for `extra.warnings`; kept in the operation. */
  warnings: string[];
}

/**
 * The part of an upstream engine that speaks one upstream's protocol. Everything else (the
 * operation, polling, progress, result mirroring, media URLs) is UpstreamEngine's.
 *
 * A protocol is built over the engine's UpstreamConnection and makes its HTTP client itself,
 * since only the protocol knows how its upstream's error bodies read.
 */
export interface UpstreamProtocol {
  /**
   * Creates the task at the upstream. Throws EngineUnavailable when the upstream did not accept
   * it, an ApiError when it refused the request or may have accepted it. `request` is the job's
   * request with media URLs the upstream can reach; `job.media` holds the downloaded files, for
   * a protocol that uploads them.
   */
  create(job: EngineJob, request: ModelRequest): Promise<Accepted>;
  poll(upstreamTaskId: string): Promise<PollOutcome>;
  /** Asks the upstream to stop the task, if it can; never throws. */
  cancel(upstreamTaskId: string): Promise<void>;
  /** The headers a download of a result URL carries: the key on the upstream's own origin only. */
  credentialsFor(url: string): Record<string, string>;
}

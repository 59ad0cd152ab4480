export interface RenderProgress {
  /** 0…99: a render is at 100 only once its file is in place, which is a different state. */
  progressPercent: number;
  /** Seconds left, to the nearest second. */
  etaSeconds: number;
}

/**
 * How far back the speed is measured: long enough to smooth the steps of ffmpeg's reports, short
 * enough to follow a change of pace (a videoedit that runs out of input and repeats its last frame).
 */
const speedWindowSeconds = 2;

interface Report {
  /** When it came, in seconds on the caller's clock. */
  at: number;
  /** ffmpeg's output position then, in seconds of video. */
  rendered: number;
}

/**
 * Progress and remaining time of one render, from ffmpeg's output position over time. The speed
 * is that of ffmpeg's own reports: the position gained between the latest report and one up to
 * `speedWindowSeconds` older. That leaves out ffmpeg's start (opening inputs, filling the
 * encoder's pipeline), during which the position does not move, so a short render is not
 * predicted as slow as its first half-second. With a single report the speed is measured from
 * the moment ffmpeg began to encode (see `encodingSince`), and taken to be real time at least. The remaining time counts down between reports.
 * Before any position is known it assumes real time.
 */
export class RenderProgressEstimate {
  private readonly reports: Report[] = [];
  private startedAt: number | undefined;
  private lastIdleAt: number | undefined;

  /**
   * @param plannedSeconds the length of the video
   * @param createdAt when the render began (before ffmpeg starts: inputs are probed first)
   * @param reportPeriodSeconds how often ffmpeg reports (0.5 s unless `-stats_period` says otherwise)
   */
  constructor(
    private readonly plannedSeconds: number,
    private readonly createdAt: number,
    private readonly reportPeriodSeconds = 0.5,
  ) {}

  /** ffmpeg was started at `at`. */
  started(at: number): void {
    this.startedAt = at;
  }

  /** ffmpeg reported its output position `renderedSeconds` at `at`; true when the position moved. */
  report(renderedSeconds: number, at: number): boolean {
    const latest = this.reports.at(-1);
    if (renderedSeconds <= 0) {
      if (!latest) this.lastIdleAt = at;
      return false;
    }
    if (latest && (renderedSeconds <= latest.rendered || at <= latest.at)) return false;
    this.reports.push({ at, rendered: renderedSeconds });
    while (this.reports.length > 2 && this.reports[1].at <= at - speedWindowSeconds) this.reports.shift();
    return true;
  }

  /** The rendered share and the seconds left, as of `now`. */
  estimate(now: number): RenderProgress {
    const latest = this.reports.at(-1);
    const planned = this.plannedSeconds;
    if (!latest || planned <= 0) {
      const since = this.startedAt ?? this.createdAt;
      return { progressPercent: 0, etaSeconds: Math.round(Math.max(0, planned - (now - since))) };
    }
    const fraction = Math.min(1, latest.rendered / planned);
    const first = this.reports[0];
    const speed =
      first !== latest
        ? (latest.rendered - first.rendered) / (latest.at - first.at)
        : // One report: its position may have come out just now, after a start-up of unknown
          // length, which would make the render look far slower than it is; so real time at least.
          Math.max(1, latest.rendered / Math.max(1e-3, latest.at - this.encodingSince(latest.at)));
    const remaining = (planned - latest.rendered) / speed - (now - latest.at);
    return {
      progressPercent: Math.min(99, Math.floor(fraction * 100)),
      etaSeconds: Math.round(Math.max(0, remaining)),
    };
  }

  /**
   * When ffmpeg began to encode, as far as its reports tell: ffmpeg 5 reports position 0 at that
   * moment; older ones report first a period after it (and it cannot be before ffmpeg started).
   */
  private encodingSince(firstReportAt: number): number {
    return this.lastIdleAt ?? Math.max(this.startedAt ?? this.createdAt, firstReportAt - this.reportPeriodSeconds);
  }
}

export interface RenderProgress {
  /** 0…99: a render is at 100 only once its file is in place, which is a different state. */
  progressPercent: number;
  etaSeconds: number;
}

/**
 * Progress of a render from ffmpeg's own output position (`renderedSeconds` of `plannedSeconds`)
 * and the time it has taken so far. The remaining time assumes the speed so far holds; before
 * ffmpeg reports anything, it assumes the render runs at real time.
 */
export function renderProgress(renderedSeconds: number, plannedSeconds: number, elapsedSeconds: number): RenderProgress {
  const fraction = plannedSeconds > 0 ? Math.min(1, Math.max(0, renderedSeconds / plannedSeconds)) : 0;
  const etaSeconds =
    fraction > 0 ? (elapsedSeconds * (1 - fraction)) / fraction : Math.max(0, plannedSeconds - elapsedSeconds);
  return { progressPercent: Math.min(99, Math.floor(fraction * 100)), etaSeconds: Math.ceil(etaSeconds) };
}

import type { Histogram } from 'prom-client';

type Series = { observe(value: number): void };

/**
 * A histogram's series found by their label values once and kept: prom-client hashes the labels of
 * every observation, so a metric observed on every request (or every upstream check) keeps its
 * series here and costs one map lookup. Only for labels of bounded values (routes, engines, codes).
 */
export class SeriesCache {
  private readonly series = new Map<string, Series>();

  constructor(private readonly histogram: Histogram<string>) {}

  /** The series of these label values, in the order of the histogram's `labelNames`. */
  of(...values: string[]): Series {
    const key = values.join('\u0000');
    let series = this.series.get(key);
    if (!series) {
      series = this.histogram.labels(...values);
      this.series.set(key, series);
    }
    return series;
  }
}

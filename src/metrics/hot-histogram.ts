import type { Metric, Registry } from 'prom-client';

/** One series: counts per bucket (not cumulative), their sum and count. */
class Series {
  readonly counts: Float64Array;
  sum = 0;
  count = 0;

  constructor(
    readonly labels: Readonly<Record<string, string>>,
    private readonly bounds: readonly number[],
  ) {
    this.counts = new Float64Array(bounds.length);
  }

  observe(value: number): void {
    let bucket = 0;
    while (bucket < this.bounds.length && value > this.bounds[bucket]) bucket++;
    if (bucket < this.bounds.length) this.counts[bucket]++;
    this.sum += value;
    this.count++;
  }
}

type Tree = Map<string, Tree | Series>;

export interface HotHistogramOptions<L extends string> {
  name: string;
  help: string;
  labelNames: readonly L[];
  /** Upper bounds, rising. */
  buckets: readonly number[];
  registry: Registry;
}

/**
 * A histogram for figures observed on every request (HTTP answers, store calls, upstream checks),
 * served by prom-client's registry in its exposition like any other. prom-client's own histogram
 * validates and hashes the labels of every observation, about a microsecond each on this machine,
 * which the Task Result hot path would pay twice per request; here a series is found by its label
 * values once, and an observation is a bucket search and three additions. Only for labels of
 * bounded values (route templates, engines, status codes, store operations).
 */
export class HotHistogram<L extends string> {
  readonly name: string;
  readonly help: string;
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  private readonly labelNames: readonly L[];
  private readonly bounds: readonly number[];
  /** Series by their first label value, then the next …: a lookup allocates nothing. */
  private readonly series: Tree = new Map();
  /** Every series, in the order they were first observed. */
  private readonly all: Series[] = [];

  constructor(options: HotHistogramOptions<L>) {
    this.name = options.name;
    this.help = options.help;
    this.labelNames = options.labelNames;
    this.bounds = options.buckets;
    // The registry reads any metric through `get()`; it needs no more of one.
    options.registry.registerMetric(this as unknown as Metric);
  }

  /** The series of these label values, in the order of `labelNames`: found once, then kept. */
  of(...values: string[]): { observe(value: number): void } {
    let level = this.series;
    for (let index = 0; index < values.length - 1; index++) {
      let next = level.get(values[index]) as Tree | undefined;
      if (!next) {
        next = new Map();
        level.set(values[index], next);
      }
      level = next;
    }
    const last = values[values.length - 1];
    let series = level.get(last) as Series | undefined;
    if (!series) {
      series = new Series(Object.fromEntries(this.labelNames.map((label, index) => [label, values[index]])), this.bounds);
      level.set(last, series);
      this.all.push(series);
    }
    return series;
  }

  /** What the registry formats: cumulative buckets, `+Inf`, sum and count of every series observed. */
  async get() {
    const values = [];
    for (const series of this.all) {
      if (series.count === 0) continue;
      let cumulative = 0;
      for (const [index, bound] of this.bounds.entries()) {
        cumulative += series.counts[index];
        values.push({ labels: { ...series.labels, le: bound }, value: cumulative, metricName: `${this.name}_bucket` });
      }
      values.push({ labels: { ...series.labels, le: '+Inf' }, value: series.count, metricName: `${this.name}_bucket` });
      values.push({ labels: series.labels, value: series.sum, metricName: `${this.name}_sum` });
      values.push({ labels: series.labels, value: series.count, metricName: `${this.name}_count` });
    }
    return { name: this.name, help: this.help, type: this.type, values, aggregator: this.aggregator };
  }
}

import assert from 'node:assert/strict';
import parsePrometheusTextFormat, { type ParsedFamily, type ParsedSample } from 'parse-prometheus-text-format';

/** A scrape of `/metrics`, parsed by a Prometheus text-format parser (any line it cannot read throws). */
export class Scrape {
  private readonly families = new Map<string, ParsedFamily>();

  constructor(readonly text: string) {
    const histograms = new Set<string>();
    for (const family of parsePrometheusTextFormat(text)) {
      this.families.set(family.name, family);
      if (family.type === 'HISTOGRAM') histograms.add(family.name);
    }
    // The parser folds a histogram's labelled series into one sample and drops their labels: its
    // _bucket, _sum and _count series are read again as the plain samples they are.
    const plain = text
      .split('\n')
      .filter((line) => !/^# (HELP|TYPE) /.test(line) || !histograms.has(line.split(' ')[2]))
      .join('\n');
    // Their series come one label set at a time (buckets, sum, count, then the next set).
    for (const family of parsePrometheusTextFormat(plain)) {
      if (!histograms.has(family.name.replace(/_(bucket|sum|count)$/, ''))) continue;
      const seen = this.families.get(family.name);
      if (seen) seen.metrics.push(...family.metrics);
      else this.families.set(family.name, family);
    }
  }

  static async of(url: string, token?: string): Promise<Scrape> {
    const response = await fetch(url, { headers: token === undefined ? {} : { authorization: `Bearer ${token}` } });
    assert.equal(response.status, 200, await response.clone().text());
    assert.match(response.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
    return new Scrape(await response.text());
  }

  /** Every metric name, a histogram's series (`_bucket`, `_sum`, `_count`) included. */
  names(): string[] {
    return [...this.families.keys()];
  }

  family(name: string): ParsedFamily {
    const family = this.families.get(name);
    assert.ok(family, `no metric ${name} in the scrape`);
    return family;
  }

  /** The sample of `name` whose labels include `labels`; undefined when there is none. */
  sample(name: string, labels: Record<string, string> = {}): ParsedSample | undefined {
    return this.family(name).metrics.find((sample) => Object.entries(labels).every(([label, value]) => sample.labels?.[label] === value));
  }

  /** A counter's or gauge's value (or a histogram's series); 0 when no sample has those labels (never counted). */
  value(name: string, labels: Record<string, string> = {}): number {
    if (!this.families.has(name)) return 0;
    return Number(this.sample(name, labels)?.value ?? 0);
  }

  /** A histogram's count of observations with those labels; 0 when there were none. */
  count(name: string, labels: Record<string, string> = {}): number {
    assert.equal(this.family(name).type, 'HISTOGRAM', `${name} is a histogram`);
    return this.value(`${name}_count`, labels);
  }

  /** A histogram's sum of observations with those labels. */
  sum(name: string, labels: Record<string, string> = {}): number {
    assert.equal(this.family(name).type, 'HISTOGRAM', `${name} is a histogram`);
    return this.value(`${name}_sum`, labels);
  }
}

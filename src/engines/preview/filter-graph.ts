/**
 * Collects ffmpeg inputs and `-filter_complex` chains. Streams are named by label: `0:v` / `0:a`
 * for the streams of input 0, `s1`, `s2` … for the outputs of chains.
 */
export class FilterGraph {
  private readonly inputs: { key: string; args: string[] }[] = [];
  private readonly chains: string[] = [];
  private labels = 0;

  /** Adds an input (once: the same path with the same options gets the same index); returns its index. */
  input(path: string, options: readonly string[] = []): number {
    const key = JSON.stringify([options, path]);
    const known = this.inputs.findIndex((input) => input.key === key);
    if (known >= 0) return known;
    this.inputs.push({ key, args: [...options, '-i', path] });
    return this.inputs.length - 1;
  }

  /** Appends `[in…]filter,filter[out]` and returns the new label; a chain from a source takes no inputs. */
  chain(inputs: readonly string[], filters: readonly string[]): string {
    const output = `s${++this.labels}`;
    this.chains.push(`${inputs.map((label) => `[${label}]`).join('')}${filters.join(',')}[${output}]`);
    return output;
  }

  inputArguments(): string[] {
    return this.inputs.flatMap((input) => input.args);
  }

  filterComplex(): string {
    return this.chains.join(';');
  }
}

/**
 * One filter with its options, `name=key=value:key=value`. Values holding filtergraph syntax
 * (commas in expressions, colons) are single-quoted; callers never pass a quote character.
 */
export function filter(name: string, options: Record<string, string | number> = {}): string {
  const pairs = Object.entries(options).map(([key, value]) => {
    const text = typeof value === 'number' ? decimal(value) : value;
    return `${key}=${/[,:;[\]=\s]/.test(text) ? `'${text}'` : text}`;
  });
  return pairs.length > 0 ? `${name}=${pairs.join(':')}` : name;
}

/** A number as ffmpeg expressions read it: at most 4 decimals, never exponent notation. */
export function decimal(value: number): string {
  const rounded = Number(value.toFixed(4));
  return Object.is(rounded, -0) ? '0' : String(rounded);
}

/** The nearest even size of at least 2: yuv420p needs even widths and heights. */
export function evenPixels(value: number): number {
  return Math.max(2, Math.round(value / 2) * 2);
}

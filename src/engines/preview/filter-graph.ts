/**
 * The inputs of one ffmpeg command and the label counter, shared by the filter graphs of that
 * command so that input indexes and labels never collide between them.
 */
export class GraphInputs {
  private readonly inputs: { key: string; args: string[] }[] = [];
  private labels = 0;

  /** Adds an input (once: the same path with the same options gets the same index); returns its index. */
  add(path: string, options: readonly string[] = []): number {
    const key = JSON.stringify([options, path]);
    const known = this.inputs.findIndex((input) => input.key === key);
    if (known >= 0) return known;
    this.inputs.push({ key, args: [...options, '-i', path] });
    return this.inputs.length - 1;
  }

  nextLabel(): string {
    return `s${++this.labels}`;
  }

  /** Every input's arguments, each preceded by `options` (input options that apply to all). */
  arguments(options: readonly string[] = []): string[] {
    return this.inputs.flatMap((input) => [...options, ...input.args]);
  }
}

/**
 * Collects ffmpeg inputs and filter chains. Streams are named by label: `0:v` / `0:a` for the
 * streams of input 0, `s1`, `s2` … for the outputs of chains.
 */
export class FilterGraph {
  private readonly chains: string[] = [];
  private readsInputs = false;

  constructor(private readonly inputs: GraphInputs = new GraphInputs()) {}

  /** Adds an input (once: the same path with the same options gets the same index); returns its index. */
  input(path: string, options: readonly string[] = []): number {
    return this.inputs.add(path, options);
  }

  /** Appends `[in…]filter,filter[out]` and returns the new label; a chain from a source takes no inputs. */
  chain(inputs: readonly string[], filters: readonly string[]): string {
    const output = this.inputs.nextLabel();
    if (inputs.some((label) => /^\d+:/.test(label))) this.readsInputs = true;
    this.chains.push(`${inputs.map((label) => `[${label}]`).join('')}${filters.join(',')}[${output}]`);
    return output;
  }

  /** `[in]split=N[a][b]…` (or `asplit` for audio): N copies of one stream, for a stream used more than once. */
  split(input: string, count: number, audio = false): string[] {
    const outputs = Array.from({ length: count }, () => this.inputs.nextLabel());
    this.chains.push(`[${input}]${audio ? 'asplit' : 'split'}=${count}${outputs.map((label) => `[${label}]`).join('')}`);
    return outputs;
  }

  /** True when a chain reads an input file's stream; a graph of sources only can run as a lavfi input. */
  usesInputs(): boolean {
    return this.readsInputs;
  }

  inputArguments(): string[] {
    return this.inputs.arguments();
  }

  filterComplex(): string {
    return this.chains.join(';');
  }

  /**
   * The graph as the "file" of a `-f lavfi` input, its stream `output` renamed `out0`. ffmpeg
   * reads each input in its own thread, so a generated picture and soundtrack made this way are
   * rendered in parallel with each other and with the encoder, unlike within `-filter_complex`.
   */
  asLavfiSource(output: string): string {
    return this.filterComplex().replace(`[${output}]`, '[out0]');
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

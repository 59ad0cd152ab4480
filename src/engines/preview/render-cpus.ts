/**
 * The share of the machine each render gets: a thread budget, and the CPUs it runs on. Renders
 * would otherwise take every core (x264 alone starts 4 threads, every filter graph one per
 * CPU), and the API server beside them answers late: its requests wait behind render threads.
 *
 * The lowest allowed CPU is left to the API (when there is more than one); the others are cut into
 * groups of `threads` CPUs, and each render runs on the group the fewest renders use. By default
 * `threads` is those CPUs divided among the renders that may run at once, at least 1.
 *
 * Confining a render to CPUs limits its parallelism without changing any thread count that
 * shapes the output: x264 keeps its fixed threads (see `EncoderSettings.threads`), they just
 * share the group. So the same seed still gives the same bytes on any machine, whatever the budget.
 */
export interface RenderCpuShare {
  /** Threads of the render's filter graphs and decoders. */
  threads: number;
  /** The CPUs the render runs on; undefined: every CPU (there is nothing to leave free). */
  cpus?: readonly number[];
  /** Gives the share back when the render has ended. */
  release(): void;
}

export class RenderCpus {
  /** The thread budget of each render. */
  readonly threads: number;
  private readonly groups: (readonly number[] | undefined)[];
  private readonly users: number[];

  /**
   * @param allowed the CPUs this process may run on (`allowedCpus()`)
   * @param rendersAtOnce how many renders may run at the same time
   * @param threads the budget per render; undefined or 0: derived from the CPUs and `rendersAtOnce`
   */
  constructor(allowed: readonly number[], rendersAtOnce: number, threads?: number) {
    const forRenders = allowed.length > 1 ? allowed.slice(1) : allowed;
    const budget = Math.min(allowed.length, threads || Math.max(1, Math.floor(forRenders.length / Math.max(1, rendersAtOnce))));
    // A budget larger than the CPUs left to renders takes the API's one too.
    const source = budget <= forRenders.length ? forRenders : allowed;
    const groupCount = Math.floor(source.length / budget);
    this.threads = budget;
    this.groups = Array.from({ length: groupCount }, (_, index) => {
      const group = source.slice(index * budget, (index + 1) * budget);
      return group.length === allowed.length ? undefined : group;
    });
    this.users = this.groups.map(() => 0);
  }

  /** The share of a render that starts now. */
  take(): RenderCpuShare {
    const index = this.users.indexOf(Math.min(...this.users));
    this.users[index]++;
    let released = false;
    return {
      threads: this.threads,
      cpus: this.groups[index],
      release: () => {
        if (released) return;
        released = true;
        this.users[index]--;
      },
    };
  }
}

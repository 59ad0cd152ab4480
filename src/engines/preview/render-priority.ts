import type { CpuScheduling } from '../../media/cpu-scheduling.js';

/**
 * How urgently renders get the CPU, as `render_priority` names it. Priority changes when ffmpeg
 * runs, never what it computes.
 *
 * - `idle`: the SCHED_IDLE class (where util-linux `chrt` can set it) at niceness 19. A render
 *   runs only on CPU time no normal process wants, and a request that arrives takes its CPU at
 *   once; niceness alone only shrinks the render's share, and a request may still wait for a
 *   render thread's slice to end. On a machine that other work keeps busy, renders crawl.
 * - `low`: niceness 10 only. Renders keep a share of the CPU however busy the machine is, and
 *   the API answers later while they run.
 */
export const renderPriorities = {
  idle: { niceness: 19, scheduling: { idle: true } },
  low: { niceness: 10, scheduling: {} },
} as const satisfies Record<string, { niceness: number; scheduling: CpuScheduling }>;

export type RenderPriority = keyof typeof renderPriorities;

export const renderPriorityNames = Object.keys(renderPriorities) as RenderPriority[];

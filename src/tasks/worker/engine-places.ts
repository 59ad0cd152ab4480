import type { Engine } from '../../spec/engine.js';
import type { TaskRecord, TaskStore } from '../../spec/task-store.js';
import type { EngineRegistry } from '../../engines/engine-registry.js';
import type { ModelId } from '../../models/model.js';
import { models } from '../../models/registry.js';

/** The place one task of this process counts on: claimed in the store, or only set aside here. */
interface Hold {
  engine: string;
  claimed: boolean;
}

/**
 * How many tasks each engine holds, and whether it has room for one more. An engine whose work
 * lives elsewhere (a cloud, a GPU host) is shared by every process: its running tasks are counted
 * in the store, and a place is claimed there before `start` is asked, so processes together never
 * exceed its capacity. A local renderer's places are this process's own.
 *
 * A task leased by this process counts at once, on the first engine of its route with room, so
 * one round of leasing never takes more tasks than the engines can start; its claim later moves
 * it to the engine that really takes it. The store's count of shared engines is read once per
 * round and kept up to date with this process's claims in between. The claim re-counts in the
 * store, so a stale count only ever costs a refused claim, never an overfilled engine.
 */
export class EnginePlaces {
  /** Running tasks with a claimed place on each shared engine, as the store last said, plus ours since. */
  private readonly load = new Map<string, number>();
  private readonly holds = new Map<string, Hold>();
  /** Holds by engine, claimed or not: counted as they come and go, so a look at the room stays cheap. */
  private readonly unclaimed = new Map<string, number>();
  private readonly claimed = new Map<string, number>();

  constructor(
    private readonly registry: EngineRegistry,
    private readonly store: TaskStore,
    private readonly owner: string,
  ) {}

  /** Reads the store's count of running tasks on each shared engine. */
  async refresh(): Promise<void> {
    const load = await this.store.engineLoad();
    this.load.clear();
    for (const [engine, tasks] of Object.entries(load)) this.load.set(engine, tasks);
  }

  /** The models for which some engine of the route has room. */
  modelsWithRoom(): ModelId[] {
    return models.filter((model) => this.registry.enginesFor(model.id).some((engine) => this.hasRoom(engine))).map((model) => model.id);
  }

  hasRoom(engine: Engine): boolean {
    return this.count(engine) < engine.capacity;
  }

  /**
   * Counts a task this process just leased: on the place it already holds (a task taken over from
   * a worker that died keeps its engine), or on the first engine of its route with room.
   */
  take(task: TaskRecord): void {
    if (task.engine !== null) {
      this.hold(task.id, { engine: task.engine, claimed: true });
      return;
    }
    const engine = this.registry.enginesFor(task.model).find((candidate) => this.hasRoom(candidate));
    if (engine) this.hold(task.id, { engine: engine.name, claimed: false });
  }

  /** Claims a place on `engine` for the task in the store; answers whether it got one. */
  async claim(taskId: string, engine: Engine): Promise<boolean> {
    const held = this.holds.get(taskId);
    if (held?.claimed && held.engine === engine.name) return true;
    if (!(await this.store.claimEngine(taskId, this.owner, engine.name, engine.capacity, scopeOf(engine)))) return false;
    this.release(taskId);
    this.hold(taskId, { engine: engine.name, claimed: true });
    this.adjustLoad(engine.name, 1);
    return true;
  }

  /** Gives up the place the task claimed, where it did not start. */
  async unclaim(taskId: string): Promise<void> {
    const held = this.holds.get(taskId);
    if (!held?.claimed) return;
    await this.store.claimEngine(taskId, this.owner, null, 0, 'cluster');
    this.release(taskId);
  }

  /** The task ended or left this process: its place is free. */
  leave(taskId: string): void {
    this.release(taskId);
  }

  private hold(taskId: string, held: Hold): void {
    this.holds.set(taskId, held);
    add(held.claimed ? this.claimed : this.unclaimed, held.engine, 1);
  }

  private release(taskId: string): void {
    const held = this.holds.get(taskId);
    if (!held) return;
    this.holds.delete(taskId);
    add(held.claimed ? this.claimed : this.unclaimed, held.engine, -1);
    if (held.claimed) this.adjustLoad(held.engine, -1);
  }

  /** A shared engine's claimed places are in the store's count; a local one's are only ours. */
  private count(engine: Engine): number {
    const unclaimed = this.unclaimed.get(engine.name) ?? 0;
    return unclaimed + (engine.survivesRestart ? (this.load.get(engine.name) ?? 0) : (this.claimed.get(engine.name) ?? 0));
  }

  private adjustLoad(engine: string, delta: number): void {
    this.load.set(engine, Math.max(0, (this.load.get(engine) ?? 0) + delta));
  }
}

function add(counts: Map<string, number>, engine: string, delta: number): void {
  counts.set(engine, (counts.get(engine) ?? 0) + delta);
}

/** Work that dies with the process is bounded per process; work elsewhere, across the cluster. */
export function scopeOf(engine: Engine): 'process' | 'cluster' {
  return engine.survivesRestart ? 'cluster' : 'process';
}

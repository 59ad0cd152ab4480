import type { TaskSnapshot } from '../spec/task-store.js';
import { decodeRow, snapshotFields } from './task-rows.js';

/**
 * How long a kept snapshot is served without asking the database. The store drops a kept copy
 * at once on every change it makes or hears of; this bounds what a change it does not hear of
 * costs (another process writing the same SQLite file, PostgreSQL's listening connection down,
 * an administrator's UPDATE, another process's deletion): it is seen within this time.
 */
export const snapshotRecheckMs = 1000;

/** Snapshots a store keeps decoded; past this many the least recently stored are dropped. */
export const snapshotCacheEntries = 10_000;

/** Slots of the filter of tasks read once lately (a power of two): 256 KB. */
const seenSlots = 65_536;

/**
 * What a store answers for a task asked for with the version of the copy kept (-1: none): the
 * task's version first, then, only when that version differs, its snapshot columns
 * (snapshotColumnList); undefined when there is no such task.
 */
export type VersionedRow = unknown[] | undefined;

interface Kept {
  snapshot: TaskSnapshot;
  /** When the database last confirmed this version; -Infinity when a change may have crossed the reading. */
  checkedAt: number;
}

/**
 * Decoded task snapshots, kept because clients poll the same task many times between two
 * changes of it. Both stores keep them the same way: a copy confirmed less than
 * snapshotRecheckMs ago is served as it is, an older one costs the store a version check (one
 * integer, far cheaper than the row), and a changed or deleted task's copy is dropped.
 */
export class SnapshotCache {
  private readonly entries = new Map<string, Kept>();
  /**
   * A fingerprint of each task read lately, in the slot its hash picks: a snapshot is kept from
   * the task's second reading on. Clients poll a task again and again, and those polls are served
   * from the second; a task read once among many (a listing, a crawler, a client that polls
   * thousands of tasks in turn) would only push a useful copy out and leave garbage for the
   * collector, which cost a tenth of such a poll's CPU. A slot shared by two tasks only keeps one
   * copy too many.
   */
  private readonly seen = new Uint32Array(seenSlots);
  /** Copies dropped so far: a reading that saw this move on its way may be older than a change. */
  private drops = 0;

  constructor(private readonly now: () => number = () => performance.now()) {}

  /**
   * A task's snapshot: the kept copy while fresh; otherwise what `fetch` answers for it (see
   * VersionedRow), which confirms the kept copy or replaces it. Both stores read through here.
   */
  async read(id: string, fetch: (id: string, keptVersion: number) => Promise<VersionedRow>): Promise<TaskSnapshot | undefined> {
    const startedAt = this.now();
    const fresh = this.fresh(id, startedAt);
    if (fresh !== undefined) return fresh;
    const dropsBefore = this.drops;
    const kept = this.kept(id);
    const row = await fetch(id, kept?.version ?? -1);
    if (!row) {
      this.drop(id);
      return undefined;
    }
    // A change heard while the row was on its way may be newer than the row: not trusted then.
    const checkedAt = dropsBefore === this.drops ? startedAt : -Infinity;
    const snapshot = kept !== undefined && row[0] === kept.version ? kept : decodeRow<TaskSnapshot>(snapshotFields, row.slice(1));
    this.keep(snapshot, checkedAt);
    return snapshot;
  }

  /** The kept snapshot of a task, if the database confirmed it less than snapshotRecheckMs before `now`. */
  fresh(id: string, now: number): TaskSnapshot | undefined {
    const entry = this.entries.get(id);
    return entry !== undefined && now - entry.checkedAt < snapshotRecheckMs ? entry.snapshot : undefined;
  }

  /** The kept snapshot of a task, fresh or not: what a version check compares with. */
  kept(id: string): TaskSnapshot | undefined {
    return this.entries.get(id)?.snapshot;
  }

  /**
   * Keeps a snapshot the database showed to be current at `checkedAt`, as the most recently used;
   * a task read for the first time lately is only noted (see `seen`).
   */
  keep(snapshot: TaskSnapshot, checkedAt: number): void {
    if (!this.entries.delete(snapshot.id) && !this.seenBefore(snapshot.id)) return;
    if (this.entries.size >= snapshotCacheEntries) this.entries.delete(this.entries.keys().next().value!);
    this.entries.set(snapshot.id, { snapshot, checkedAt });
  }

  /** Whether `id` was read lately; notes that it was. */
  private seenBefore(id: string): boolean {
    // FNV-1a over the id's UTF-16 code units: cheap, and spread enough for ids alike in their first half.
    let hash = 0x811c9dc5;
    for (let index = 0; index < id.length; index++) hash = Math.imul(hash ^ id.charCodeAt(index), 0x01000193);
    const slot = hash & (seenSlots - 1);
    if (this.seen[slot] === hash >>> 0) return true;
    this.seen[slot] = hash >>> 0;
    return false;
  }

  /** Forgets a task, unless its kept copy is already of `version` (a change this copy came from). */
  drop(id: string, version?: number): void {
    this.drops++;
    if (version === undefined || this.entries.get(id)?.snapshot.version !== version) this.entries.delete(id);
  }
}

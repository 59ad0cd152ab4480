import type { ApiErrorBody } from './api-error.js';
import type { EngineOperation } from './engine.js';
import type { TaskStatus } from './task-status.js';
import type { TaskUsage } from './usage.js';
import type { ModelId, ModelRequest } from '../models/model.js';

/** A finished file of a task, as kept in the blob store. */
export interface StoredResult {
  /** Key in the blob store. */
  key: string;
  type: 'mp4';
}

export interface TaskRecord {
  id: string;
  /** The API key that created the task: the only one that may read it. */
  keyId: string;
  model: ModelId;
  status: TaskStatus;
  request: ModelRequest;
  seed: number;
  /**
   * The engine the task holds a place on: claimed before `start` is asked (so capacity is
   * counted across processes), kept once its operation is saved.
   */
  engine: string | null;
  /** What the engine answered to `start`, saved so any process can resume asking about it. */
  operation: EngineOperation | null;
  progressPercent: number;
  etaSeconds: number;
  error: ApiErrorBody | null;
  results: StoredResult[];
  /** When retention removed the result files; the Task Result then says so instead of giving dead URLs. */
  resultsExpiredAt: number | null;
  /** What the engine reported beside the files (engine name, extended prompt, warnings …). */
  extra: Record<string, unknown>;
  /** What the task bills, recorded when it ends (null before, and for tasks that never ran). */
  usage: TaskUsage | null;
  /** Where the task's end is announced (`extra.webhook.url` of the request), if anywhere. */
  webhookUrl: string | null;
  /** How many times a worker has taken the task and not handed it back in order. */
  attempts: number;
  leaseOwner: string | null;
  leaseExpiresAt: number | null;
  createdAt: number;
  startedAt: number | null;
  completedAt: number | null;
  /** Raised by every change a client can see: the id of an event in the task's live stream. */
  version: number;
}

/** What clients may see of a task: the record without the engine's operation and the lease. Read on every poll. */
export type TaskSnapshot = Omit<TaskRecord, 'request' | 'operation' | 'engine' | 'attempts' | 'leaseOwner' | 'leaseExpiresAt'>;

export interface NewTask {
  id: string;
  keyId: string;
  model: ModelId;
  request: ModelRequest;
  seed: number;
  webhookUrl: string | null;
  createdAt: number;
  /** Seconds the task would bill, by the pricing rule: what per-key quotas are checked against. */
  billableSeconds: number;
}

/**
 * A create request's `Idempotency-Key`: within `expiresAt`, the same key (of the same API key)
 * with the same body answers the first task; with another body it is refused.
 */
export interface IdempotencyClaim {
  key: string;
  /** A hash of the request body, to tell a repeat from a different request under the same key. */
  bodyHash: string;
  expiresAt: number;
}

/**
 * The limits a new task is admitted under, checked in the same write that stores it, so that
 * concurrent submissions (on any number of processes) cannot pass a limit together. Absent
 * fields are not limited.
 */
export interface Admission {
  /** The key's tasks that are queued or running. */
  maxInFlight?: number;
  /** The key's tasks that are queued. */
  maxQueued?: number;
  /**
   * Billed seconds of the key's tasks created since the start of the UTC day, this one included:
   * in flight what they would bill, ended what they billed, deleted ones too (deleting gives no
   * quota back).
   */
  maxSecondsPerDay?: number;
  /** As maxSecondsPerDay, since the start of the UTC month. */
  maxSecondsPerMonth?: number;
  /**
   * Tasks queued over every key: the server's cap on its backlog. Counted from a total the
   * database keeps as tasks come and go, so checking it costs the same with 10 or 300,000 queued.
   */
  maxQueuedTotal?: number;
}

export type InsertOutcome =
  | { outcome: 'created'; id: string }
  /** The idempotency key was seen with the same body: the task it made. */
  | { outcome: 'repeated'; id: string }
  /** The idempotency key was seen with another body. */
  | { outcome: 'conflict'; id: string }
  | { outcome: 'refused'; limit: keyof Admission; current: number; limitValue: number };

export interface QueueStats {
  /** Queued tasks, at most the `countUpTo` asked. */
  queued: number;
  /** `createdAt` of the oldest queued task; null when none waits. */
  oldestCreatedAt: number | null;
}

export interface TaskQuery {
  limit: number;
  /** Continue after this task id (a `next_cursor` of an earlier page). */
  after?: string;
  order: 'newest' | 'oldest';
  status?: TaskStatus;
  model?: ModelId;
}

/**
 * Durable task storage. Every update that a worker makes names the lease it holds (`owner`):
 * when the row has moved on (another worker took it over, it was cancelled, it already ended)
 * the update changes nothing and answers false, so one task can never be completed twice.
 * Lease times come from the store's own clock (the database's, when several processes share
 * it), never from a caller's.
 */
export interface TaskStore {
  /**
   * Stores a new queued task durably, checking `admission` and `idempotency` in the same write.
   * A test-mode task (`finishedAs`) is stored already ended, with its webhook delivery due now.
   */
  insert(task: NewTask, options?: { admission?: Admission; idempotency?: IdempotencyClaim; finishedAs?: TaskStatus }): Promise<InsertOutcome>;
  /** The whole row, lease and operation included. */
  get(id: string): Promise<TaskRecord | undefined>;
  /**
   * What a client may see, read on every poll. A change made by another process sharing the store
   * is seen once it is announced (TaskEvents), milliseconds later; within one process at once.
   */
  getSnapshot(id: string): Promise<TaskSnapshot | undefined>;
  /** One key's tasks, a page at a time. */
  list(keyId: string, query: TaskQuery): Promise<TaskSnapshot[]>;
  /**
   * Takes, for `leaseMs`, a task whose lease expired (of any model: it keeps the place it held on
   * its engine, and resuming it needs no other), else the oldest queued task of one of `models`
   * (a worker names the models some engine has room for; none, to take only expired leases).
   * Tasks whose lease `owner` itself holds are never taken over by it.
   */
  leaseNext(owner: string, leaseMs: number, models: readonly ModelId[]): Promise<TaskRecord | undefined>;
  /**
   * Extends every lease `owner` holds by `leaseMs`, in one write however many tasks it follows;
   * answers the ids renewed. A task missing from the answer is no longer this owner's.
   */
  renewLeases(owner: string, leaseMs: number): Promise<string[]>;
  /**
   * Gives the task a place on `engine` if fewer than `capacity` running tasks hold one there
   * (those of `owner` only, for an engine that lives in one process), answering whether it did;
   * `engine: null` gives the place up. The count and the claim are one write.
   */
  claimEngine(id: string, owner: string, engine: string | null, capacity: number, scope: 'process' | 'cluster'): Promise<boolean>;
  /** Running tasks per engine across every process: where there is room. */
  engineLoad(): Promise<Record<string, number>>;
  /**
   * The queue across every process: how many tasks wait (counted up to `countUpTo`, so that a
   * huge backlog costs no more than that to look at) and when the oldest of them was created.
   */
  queueStats(countUpTo: number): Promise<QueueStats>;
  /** Saves what the engine answered to `start`; the first call also records when execution began. */
  saveOperation(id: string, owner: string, operation: EngineOperation, startedAt: number): Promise<boolean>;
  saveProgress(id: string, owner: string, progressPercent: number, etaSeconds: number): Promise<boolean>;
  /** Ends the task; its webhook delivery, if it has a webhook, is stored in the same write. */
  succeed(id: string, owner: string, end: { results: StoredResult[]; extra: Record<string, unknown>; usage: TaskUsage | null }, now: number): Promise<boolean>;
  fail(id: string, owner: string, end: { error: ApiErrorBody; extra: Record<string, unknown>; usage: TaskUsage | null }, now: number): Promise<boolean>;
  /** Hands a task back to the queue (graceful shutdown), keeping its saved operation; the attempt is given back. */
  release(id: string, owner: string): Promise<boolean>;
  /**
   * Ends a queued or running task of `keyId` as failed with `error` (its lease, if any, is
   * dropped: the worker's next write fails and it stops the engine). Answers the task as it is
   * afterwards: `cancelled` false when it had already ended.
   */
  cancel(id: string, keyId: string, error: ApiErrorBody, now: number): Promise<{ cancelled: boolean; task: TaskSnapshot } | undefined>;
  /** Deletes an ended task of `keyId` and what hangs on it (deliveries); answers its result keys for the blob store. */
  delete(id: string, keyId: string): Promise<{ deleted: boolean; resultKeys: string[] } | undefined>;
}

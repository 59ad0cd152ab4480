import type { ApiErrorBody } from './api-error.js';
import type { EngineOperation } from './engine.js';
import type { TaskStatus } from './task-status.js';
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
  engine: string | null;
  /** What the engine answered to `start`, saved so any process can resume asking about it. */
  operation: EngineOperation | null;
  progressPercent: number;
  etaSeconds: number;
  error: ApiErrorBody | null;
  results: StoredResult[];
  /** What the engine reported beside the files (engine name, extended prompt, warnings …). */
  extra: Record<string, unknown>;
  /** How many times a worker has taken the task. */
  attempts: number;
  leaseOwner: string | null;
  leaseExpiresAt: number | null;
  createdAt: number;
  startedAt: number | null;
  completedAt: number | null;
}

/**
 * What the Task Result API shows of a task: the record without the request, the engine's
 * operation and the lease. Read on every poll, so it is read narrowly.
 */
export type TaskSnapshot = Omit<TaskRecord, 'request' | 'operation' | 'engine' | 'attempts' | 'leaseOwner' | 'leaseExpiresAt'>;

export interface NewTask {
  id: string;
  keyId: string;
  model: ModelId;
  request: ModelRequest;
  seed: number;
  createdAt: number;
}

/**
 * Durable task storage. Every update that a worker makes names the lease it holds (`owner`):
 * when the row has moved on (another worker took it over, or it already ended) the update
 * changes nothing and answers false, so one task can never be completed twice.
 */
export interface TaskStore {
  /** Resolves once the row is durably written. */
  insert(task: NewTask): Promise<void>;
  /** The whole row, lease and operation included: for inspecting a task (tests, operators). */
  get(id: string): Promise<TaskRecord | undefined>;
  /** What a client may see, read on every poll. */
  getSnapshot(id: string): Promise<TaskSnapshot | undefined>;
  /**
   * Takes the oldest task of one of `models` that is queued or whose lease expired, for
   * `leaseMs`. A worker names only the models whose engines have room.
   */
  leaseNext(owner: string, now: number, leaseMs: number, models: readonly ModelId[]): Promise<TaskRecord | undefined>;
  /**
   * Extends every lease `owner` holds to `expiresAt`, in one write however many tasks it
   * follows; answers the ids renewed. A task missing from the answer is no longer this owner's.
   */
  renewLeases(owner: string, expiresAt: number): Promise<string[]>;
  /** Saves what the engine answered to `start`; the first call also records when execution began. */
  saveOperation(id: string, owner: string, engine: string, operation: EngineOperation, startedAt: number): Promise<boolean>;
  saveProgress(id: string, owner: string, progressPercent: number, etaSeconds: number): Promise<boolean>;
  succeed(id: string, owner: string, results: StoredResult[], extra: Record<string, unknown>, now: number): Promise<boolean>;
  fail(id: string, owner: string, error: ApiErrorBody, extra: Record<string, unknown>, now: number): Promise<boolean>;
  /** Hands a task back to the queue (graceful shutdown), keeping its saved operation. */
  release(id: string, owner: string): Promise<boolean>;
  close(): Promise<void>;
}

export interface ApiKeyRecord {
  id: string;
  name: string;
  /** The first characters of the key, to recognise it in lists; the key itself is never stored. */
  prefix: string;
  createdAt: number;
  revokedAt: number | null;
}

export interface ApiKeyStore {
  /** Stores the hash of a new key. */
  createKey(record: { id: string; name: string; prefix: string; hash: string; createdAt: number }): Promise<void>;
  /** The live (not revoked) key with this hash. */
  findByHash(hash: string): Promise<ApiKeyRecord | undefined>;
  listKeys(): Promise<ApiKeyRecord[]>;
  /** Revokes by id or prefix; answers the revoked key. */
  revokeKey(idOrPrefix: string, now: number): Promise<ApiKeyRecord | undefined>;
  countKeys(): Promise<number>;
}

import { createHash, randomInt } from 'node:crypto';
import { v7 as timeOrderedUuid } from 'uuid';
import { ApiError, errors, invalidRequest } from '../spec/api-error.js';
import type { BlobStore } from '../spec/blob-store.js';
import type { DiskState } from '../spec/disk-state.js';
import type { ApiKeyRecord } from '../spec/key-store.js';
import { isDiskError, isTransientStoreError } from '../spec/storage-errors.js';
import { resultFiles } from '../blobs/blob-key.js';
import type { TaskObserver } from '../spec/task-observer.js';
import type { Admission, TaskQuery, TaskRecord, TaskSnapshot, TaskStore } from '../spec/task-store.js';
import { TaskStatus } from '../spec/task-status.js';
import type { ModelDefinition, ModelRequest } from '../models/model.js';
import type { TaskResultResponse } from '../models/task-result-schema.js';
import { validateRequest } from '../models/validate-request.js';
import { billableSeconds } from './billable-seconds.js';
import { taskResultView } from './task-result-view.js';

/** Largest seed the pages allow; a seed is drawn from [0, maxSeed] when the request has none. */
const maxSeed = 2147483647;
/** How long an `Idempotency-Key` answers the task it made. */
const idempotencyMs = 24 * 3600 * 1000;
const idempotencyKeyPattern = /^[\x21-\x7e]{1,255}$/;
/** Longest reuse of a serialized Task Result body (see resultBody). */
const longestBodyReuseMs = 60_000;

export interface TaskServiceOptions {
  store: TaskStore;
  blobs: BlobStore;
  resultUrlTtlSeconds: number;
  /** Whether the data directory can take more; a full one refuses tasks before they are half stored. */
  disk?: DiskState;
  /** The limits a key's new task is admitted under (its own, else the server's defaults). */
  admission?: (key: ApiKeyRecord) => Admission | undefined;
  /** Refuses a webhook URL that must not be called (private addresses …) with an ApiError. */
  checkWebhookUrl?: (url: string, field: string) => Promise<void>;
  /** Told of tasks queued and cancelled (the metrics). */
  observer?: TaskObserver;
  clock?: () => number;
}

export interface SubmitOptions {
  /** The `Idempotency-Key` header, when the request has one. */
  idempotencyKey?: string;
  /**
   * What a repeat of the request must match for the key to answer the same task; the body by
   * default. A request whose body names a file stored for it (a fresh URL on every try) gives
   * the file's content hash here instead, so its retry is still recognised as the same request.
   */
  idempotencyFingerprint?: unknown;
}

/**
 * The serialized Task Result body of a snapshot, kept on the snapshot itself: a snapshot the store
 * replaced takes its body with it. Not in a WeakMap: V8's young-generation collections keep every
 * entry whose key is young, so the snapshot of each task polled once among many (and its body)
 * would be promoted to the old generation instead of dying young.
 */
const servedBody = Symbol('servedBody');
type ServedSnapshot = TaskSnapshot & { [servedBody]?: { body: string; reusableUntil: number } };

/** What the HTTP routes ask of tasks: accept one, read, list, cancel and delete them. */
export class TaskService {
  private readonly clock: () => number;
  private readonly bodyReuseMs: number;

  constructor(private readonly options: TaskServiceOptions) {
    this.clock = options.clock ?? Date.now;
    this.bodyReuseMs = Math.min(longestBodyReuseMs, (options.resultUrlTtlSeconds * 1000) / 10);
  }

  /** Validates, stores durably, and answers the task id (the earlier one for a repeated idempotent request). */
  async submit(model: ModelDefinition, key: ApiKeyRecord, body: unknown, submit: SubmitOptions = {}): Promise<string> {
    const request = validateRequest(model, body);
    const now = this.clock();
    const idempotency =
      submit.idempotencyKey === undefined ? undefined : idempotencyClaim(submit.idempotencyKey, model, submit.idempotencyFingerprint ?? body, now);
    const webhook = webhookOf(request);
    if (webhook && this.options.checkWebhookUrl) await this.options.checkWebhookUrl(webhook.url, 'extra.webhook.url');
    const diskProblem = this.options.disk?.problem();
    if (diskProblem !== undefined) throw errors.storageFull(diskProblem);
    const seed = typeof request.seed === 'number' ? request.seed : randomInt(0, maxSeed + 1);
    // Time-ordered ids append to the end of the primary-key index: a group commit then writes a
    // third of the WAL bytes that random ids scatter over the index, and commits twice as fast.
    const id = timeOrderedUuid();
    const seconds = billableSeconds(model.id, request);
    let outcome;
    try {
      outcome = await this.options.store.insert(
        {
          id,
          keyId: key.id,
          model: model.id,
          request,
          seed,
          webhookUrl: webhook?.url ?? null,
          createdAt: now,
          billableSeconds: seconds,
        },
        { admission: this.options.admission?.(key), idempotency, finishedAs: webhook?.testStatus },
      );
    } catch (error) {
      if (isDiskError(error)) {
        this.options.disk?.reportFailure(error);
        throw errors.storageFull((error as Error).message);
      }
      // The database went away for a moment: nothing was stored, and the same request may succeed soon.
      if (isTransientStoreError(error)) throw errors.storeUnavailable((error as Error).message);
      throw errors.createTaskFailed(`the task could not be stored: ${(error as Error).message}`);
    }
    switch (outcome.outcome) {
      case 'created':
        // A test-mode task is stored ended: it never waits in the queue nor runs.
        if (!webhook?.testStatus) this.options.observer?.submitted(model.id);
        return outcome.id;
      case 'repeated':
        return outcome.id;
      case 'conflict':
        throw new ApiError(
          422,
          'IDEMPOTENCY_KEY_REUSED',
          `Idempotency-Key ${JSON.stringify(submit.idempotencyKey)} was already used with a different request (task ${outcome.id}); use a new key for a new request`,
          { field: 'Idempotency-Key', task_id: outcome.id },
        );
      case 'refused':
        throw refusal(outcome.limit, outcome.current, outcome.limitValue, seconds);
    }
  }

  /**
   * The Task Result of a task of the key, serialized by `serialize`. Clients poll the same task
   * many times between two changes of it, and building the view (signing each video link) and
   * serializing it cost as much as the rest of the request; so the body is kept with the
   * snapshot it shows and served again while the store answers that same snapshot (the task
   * unchanged), for a tenth of the link lifetime at most (a minute at most). Its links are
   * signed for that much longer than `video_url_ttl`, so every copy served still has at least
   * `video_url_ttl` seconds to live.
   */
  async resultBody(taskId: string, keyId: string, serialize: (view: TaskResultResponse) => string): Promise<string> {
    const task = await this.ownSnapshot(taskId, keyId);
    const now = this.clock();
    const kept = (task as ServedSnapshot)[servedBody];
    if (kept !== undefined && kept.reusableUntil > now) return kept.body;
    const { blobs, resultUrlTtlSeconds } = this.options;
    const body = serialize(await taskResultView(task, blobs, resultUrlTtlSeconds, now + resultUrlTtlSeconds * 1000 + this.bodyReuseMs));
    (task as ServedSnapshot)[servedBody] = { body, reusableUntil: now + this.bodyReuseMs };
    return body;
  }

  /** The calling key's tasks, a page at a time; `next` is the cursor of the next page, if there is one. */
  async list(keyId: string, query: TaskQuery): Promise<{ tasks: TaskResultResponse[]; next: string | undefined }> {
    const { tasks, next } = await this.page(keyId, query);
    return { tasks: await Promise.all(tasks.map((task) => this.view(task))), next };
  }

  /**
   * As `list`, with each task's request: for views that show what was asked (the prompt, the
   * length and size of the OpenAI-compatible Video object). A task deleted meanwhile is left out.
   */
  async listRecords(keyId: string, query: TaskQuery): Promise<{ tasks: TaskRecord[]; next: string | undefined }> {
    const { tasks, next } = await this.page(keyId, query);
    const records = await Promise.all(tasks.map((task) => this.options.store.get(task.id)));
    return { tasks: records.filter((record) => record !== undefined), next };
  }

  private async page(keyId: string, query: TaskQuery): Promise<{ tasks: TaskSnapshot[]; next: string | undefined }> {
    const page = await this.options.store.list(keyId, { ...query, limit: query.limit + 1 });
    const shown = page.slice(0, query.limit);
    return { tasks: shown, next: page.length > query.limit ? shown[shown.length - 1].id : undefined };
  }

  /** Ends a queued or running task of the key as failed (cancelled); an ended task is refused unchanged. */
  async cancel(taskId: string, keyId: string): Promise<TaskResultResponse> {
    const error = new ApiError(500, 'TASK_CANCELLED', 'the task was cancelled by its client', { task_id: taskId });
    const outcome = await this.options.store.cancel(taskId, keyId, error.toBody(), this.clock());
    if (!outcome) throw errors.taskNotFound(taskId);
    if (!outcome.cancelled) {
      throw new ApiError(409, 'TASK_ALREADY_FINISHED', `task "${taskId}" already ended with ${outcome.task.status}; nothing was cancelled`, {
        task_id: taskId,
        status: outcome.task.status,
      });
    }
    // Counted here, where it happens once: the worker of a running one only stops its engine.
    this.options.observer?.ended({ model: outcome.task.model, engine: 'none', outcome: 'failed', reason: error.reason });
    return this.view(outcome.task);
  }

  /**
   * Deletes an ended task of the key with its files (its results, and the thumbnail the
   * OpenAI-compatible API may have made of them); a task in flight is refused.
   */
  async delete(taskId: string, keyId: string): Promise<void> {
    const outcome = await this.options.store.delete(taskId, keyId);
    if (!outcome) throw errors.taskNotFound(taskId);
    if (!outcome.deleted) {
      throw new ApiError(409, 'TASK_NOT_FINISHED', `task "${taskId}" has not ended yet: cancel it first, then delete it`, { task_id: taskId });
    }
    await this.options.blobs.delete(resultFiles(outcome.resultKeys));
  }

  /** A task of the key with the request it was made from (see listRecords); another key's task is answered like a missing one. */
  async ownRecord(taskId: string, keyId: string): Promise<TaskRecord> {
    const task = await this.options.store.get(taskId);
    if (!task || task.keyId !== keyId) throw errors.taskNotFound(taskId);
    return task;
  }

  /** A task of the key as clients see it; another key's task is answered exactly like a missing one. */
  async ownSnapshot(taskId: string, keyId: string): Promise<TaskSnapshot> {
    const task = await this.options.store.getSnapshot(taskId);
    if (!task || task.keyId !== keyId) throw errors.taskNotFound(taskId);
    return task;
  }

  view(task: TaskSnapshot): Promise<TaskResultResponse> {
    const { blobs, resultUrlTtlSeconds } = this.options;
    return taskResultView(task, blobs, resultUrlTtlSeconds, this.clock() + resultUrlTtlSeconds * 1000);
  }
}

/** The webhook of a request's `extra`, and the status a test-mode task ends with at once. */
function webhookOf(request: ModelRequest): { url: string; testStatus?: TaskStatus } | undefined {
  const webhook = (request.extra as { webhook?: { url?: unknown; test_mode?: { enabled?: boolean; return_task_status?: string } } } | undefined)
    ?.webhook;
  if (typeof webhook?.url !== 'string') return undefined;
  const test = webhook.test_mode;
  if (!test?.enabled) return { url: webhook.url };
  return { url: webhook.url, testStatus: test.return_task_status === TaskStatus.Failed ? TaskStatus.Failed : TaskStatus.Succeed };
}

function idempotencyClaim(key: string, model: ModelDefinition, fingerprint: unknown, now: number) {
  if (!idempotencyKeyPattern.test(key)) {
    throw invalidRequest('Idempotency-Key', 'the Idempotency-Key header must be 1 to 255 visible ASCII characters', { value: key });
  }
  const bodyHash = createHash('sha256').update(model.id).update('\n').update(JSON.stringify(fingerprint)).digest('hex');
  return { key, bodyHash, expiresAt: now + idempotencyMs };
}

/** How soon a task refused for a full queue may be tried again: a few renders end meanwhile. */
const queueRetryAfterSeconds = 5;

/** A limit the new task would pass, as the answer the hosted API gives; `field` names the limit as `wan keys` and the config do. */
function refusal(limit: keyof Admission, current: number, limitValue: number, requestedSeconds: number): ApiError {
  switch (limit) {
    case 'maxInFlight':
      return new ApiError(
        429,
        'RATE_LIMIT_EXCEEDED',
        `this key has ${current} tasks queued or running and its limit of tasks in flight (in_flight) is ${limitValue}; wait for one to end`,
        { field: 'in_flight', limit: limitValue, value: current },
        true,
        queueRetryAfterSeconds,
      );
    case 'maxQueued':
      return new ApiError(
        429,
        'RATE_LIMIT_EXCEEDED',
        `this key has ${current} tasks queued and its limit of queued tasks (queued) is ${limitValue}; wait for some to start`,
        { field: 'queued', limit: limitValue, value: current },
        true,
        queueRetryAfterSeconds,
      );
    case 'maxQueuedTotal':
      return new ApiError(
        429,
        'RATE_LIMIT_EXCEEDED',
        `the server has ${current} tasks queued, its limit (max_queued_tasks) is ${limitValue}; try again when some have started`,
        { field: 'max_queued_tasks', limit: limitValue, value: current },
        true,
        queueRetryAfterSeconds,
      );
    case 'maxSecondsPerDay':
      return new ApiError(
        400,
        'BILLING_BALANCE_NOT_ENOUGH',
        `this request would bill ${requestedSeconds} s, more than this key's daily quota (seconds_per_day) of ${limitValue} s leaves: ${current} s are used or reserved today`,
        { field: 'seconds_per_day', limit: limitValue, value: current, requested: requestedSeconds },
      );
    case 'maxSecondsPerMonth':
      return new ApiError(
        400,
        'BILLING_BALANCE_NOT_ENOUGH',
        `this request would bill ${requestedSeconds} s, more than this key's monthly quota (seconds_per_month) of ${limitValue} s leaves: ${current} s are used or reserved this month`,
        { field: 'seconds_per_month', limit: limitValue, value: current, requested: requestedSeconds },
      );
  }
}

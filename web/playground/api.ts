import { errorFromResponse, WanClient } from '../../src/client/client.js';
import type { TaskResult } from '../../src/client/types.js';
import { isMissingEndpoint } from './missing-endpoint.js';
import { modelsOf, type PlaygroundModel } from './api-models.js';
import { followTask, type FollowOptions } from './task-events.js';

/**
 * Everything the playground asks the server, through the public API only: the SDK
 * (`wan-api/client`) for submitting, uploading and reading tasks, and plain fetch for the task
 * list and cancellation, which the SDK does not cover.
 */
export class PlaygroundApi {
  constructor(
    /** Where the API is: the page's own address, so a proxy's path prefix is kept. */
    readonly baseUrl: string,
    private readonly key: () => string,
  ) {}

  /** A client with the key as it is now (the user may paste another at any time). */
  client(): WanClient {
    return new WanClient({ baseUrl: this.baseUrl, apiKey: this.key() });
  }

  async models(): Promise<PlaygroundModel[]> {
    const response = await fetch(`${this.baseUrl}/openapi.json`);
    if (!response.ok) throw await errorFromResponse(response);
    return modelsOf(await response.json());
  }

  submit(modelId: string, body: Record<string, unknown>): Promise<string> {
    return this.client().submit(modelId as never, body as never);
  }

  upload(file: File): Promise<string> {
    return this.client().upload(file);
  }

  follow(taskId: string, options: Pick<FollowOptions, 'onUpdate' | 'signal'>): Promise<TaskResult> {
    return followTask(taskId, { client: this.client(), ...options });
  }

  result(taskId: string): Promise<TaskResult> {
    return this.client().getResult(taskId);
  }

  /** The key's newest tasks; `undefined` when the server has no task list (404). */
  async tasks(limit = 20): Promise<TaskResult[] | undefined> {
    const response = await this.call(`/v3/async/tasks?limit=${limit}`, { method: 'GET' });
    if (response === undefined) return undefined;
    return ((await response.json()) as { tasks: TaskResult[] }).tasks;
  }

  /** The task after cancellation; `undefined` when the server cannot cancel tasks (404). */
  async cancel(taskId: string): Promise<TaskResult | undefined> {
    const response = await this.call('/v3/async/task-cancel', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ task_id: taskId }),
    });
    return response === undefined ? undefined : ((await response.json()) as TaskResult);
  }

  /** An authorized call; `undefined` when the endpoint does not exist on this server. */
  private async call(path: string, init: RequestInit): Promise<Response | undefined> {
    const response = await fetch(`${this.baseUrl}${path}`, {
      ...init,
      headers: { ...(init.headers as Record<string, string>), authorization: `Bearer ${this.key()}` },
    });
    if (response.ok) return response;
    const error = await errorFromResponse(response);
    if (isMissingEndpoint(error)) return undefined;
    throw error;
  }
}

import { setTimeout as sleep } from 'node:timers/promises';

/** The few HTTP calls the tests make, kept apart from assertions. */
export class TestApiClient {
  constructor(readonly baseUrl: string, readonly apiKey: string) {}

  async submit(model: string, body: unknown): Promise<{ status: number; body: any }> {
    const response = await fetch(`${this.baseUrl}/v3/async/${model}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${this.apiKey}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    return { status: response.status, body: await response.json() };
  }

  async result(taskId: string): Promise<{ status: number; body: any }> {
    const response = await fetch(`${this.baseUrl}/v3/async/task-result?task_id=${encodeURIComponent(taskId)}`, {
      headers: { authorization: `Bearer ${this.apiKey}` },
    });
    return { status: response.status, body: await response.json() };
  }

  /** Polls until the task ends (or `timeoutMs` passes); calls `onPoll` with each answer. */
  async waitForEnd(taskId: string, timeoutMs = 120_000, onPoll: (body: any) => void = () => {}): Promise<any> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const { body } = await this.result(taskId);
      onPoll(body);
      if (body.task?.status === 'TASK_STATUS_SUCCEED' || body.task?.status === 'TASK_STATUS_FAILED') return body;
      await sleep(100);
    }
    throw new Error(`task ${taskId} did not end in ${timeoutMs} ms`);
  }
}

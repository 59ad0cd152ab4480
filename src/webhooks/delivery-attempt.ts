import { Webhook } from 'standardwebhooks';
import type { TaskResultResponse } from '../models/task-result-schema.js';
import type { ApiKeyStore } from '../spec/key-store.js';
import type { TaskSnapshot, TaskStore } from '../spec/task-store.js';
import type { WebhookDelivery } from '../spec/webhook-store.js';
import type { AttemptResult } from './retry-schedule.js';
import type { WebhookSender } from './webhook-sender.js';

export interface DeliveryAttemptContext {
  tasks: Pick<TaskStore, 'getSnapshot'>;
  keys: Pick<ApiKeyStore, 'webhookSecret'>;
  /** The Task Result of a task, built at delivery time so its video URLs are fresh. */
  view: (task: TaskSnapshot) => Promise<TaskResultResponse>;
  sender: WebhookSender;
  clock: () => number;
}

/** Secrets never change once made: they are read from the store once per key and process. */
const secretCacheEntries = 10_000;

/**
 * One attempt at one delivery: the event `{"event_type": "ASYNC_TASK_RESULT", "payload": <Task
 * Result>}` built from the task as it is now, signed per Standard Webhooks with the secret of
 * the key that created the task (`webhook-id` is the delivery's id, the same on every retry), and
 * POSTed.
 */
export class DeliveryAttempt {
  private readonly signers = new Map<string, Webhook>();

  constructor(private readonly context: DeliveryAttemptContext) {}

  async run(delivery: WebhookDelivery): Promise<AttemptResult> {
    const task = await this.context.tasks.getSnapshot(delivery.taskId);
    if (!task) return { ok: false, statusCode: null, error: 'the task no longer exists', final: true };
    const body = JSON.stringify({ event_type: delivery.eventType, payload: await this.context.view(task) });
    const signer = await this.signerOf(delivery.keyId);
    const at = new Date(this.context.clock());
    const headers = {
      'webhook-id': delivery.id,
      'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
      'webhook-signature': signer.sign(delivery.id, at, body),
    };
    return this.context.sender.post(delivery.url, headers, body);
  }

  private async signerOf(keyId: string): Promise<Webhook> {
    let signer = this.signers.get(keyId);
    if (!signer) {
      signer = new Webhook(await this.context.keys.webhookSecret(keyId));
      if (this.signers.size >= secretCacheEntries) this.signers.clear();
      this.signers.set(keyId, signer);
    }
    return signer;
  }
}

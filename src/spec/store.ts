import type { ApiKeyStore } from './key-store.js';
import type { RetentionStore } from './retention-store.js';
import type { TaskEvents } from './task-events.js';
import type { TaskStore } from './task-store.js';
import type { UploadStore } from './upload-store.js';
import type { UsageStore } from './usage.js';
import type { WebhookStore } from './webhook-store.js';

/**
 * Everything the server keeps durably, as one backend provides it: the embedded SQLite file, or
 * PostgreSQL shared by many processes. Each part is handed to what needs it (the worker gets
 * `tasks`, authentication `keys` …); nothing outside src/store knows which backend it is.
 */
export interface Store {
  readonly tasks: TaskStore;
  readonly keys: ApiKeyStore;
  readonly webhooks: WebhookStore;
  readonly uploads: UploadStore;
  readonly usage: UsageStore;
  readonly retention: RetentionStore;
  /** Tells every process sharing the store what happened to tasks. */
  readonly events: TaskEvents;
  /** A secret every process must share (e.g. `url_signing`), made by `create` on first use. */
  sharedSecret(name: string, create: () => string): Promise<string>;
  /** Answers when the store can be reached; throws why not. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

import pg from 'pg';
import type { Logger } from 'pino';
import type { TaskEvent } from '../../spec/task-events.js';
import type { LocalEvents } from '../local-events.js';

/** First and longest wait before listening again after the connection dropped. */
const reconnectMs = { first: 100, longest: 5000 };

export interface PgEventsOptions {
  /** The store's connection settings (Database.connection). */
  connection: pg.ClientConfig;
  channel: string;
  /** Where heard events are published. */
  events: LocalEvents;
  /** Backends of this process's own connections: what they sent was published here already. */
  ownBackends: ReadonlySet<number>;
  logger?: Logger;
}

/**
 * Hears what other processes sharing the database write: one connection of its own LISTENs on
 * the store's channel and publishes each notification to this process's listeners. When the
 * connection drops (the server restarts, a network cut) it listens again, waiting longer after
 * each failed try; what was announced meanwhile is found by the workers' polling instead.
 */
export class PgEvents {
  private client: pg.Client | undefined;
  private retry: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(private readonly options: PgEventsOptions) {}

  /** Listens; throws when the database cannot be reached (the store then does not open). */
  async start(): Promise<void> {
    await this.listen();
  }

  private async listen(): Promise<void> {
    const { connection, channel, events, ownBackends, logger } = this.options;
    // keepAlive: a connection whose peer vanished without closing it is noticed and made again.
    const client = new pg.Client({ ...connection, application_name: 'wan-api events', keepAlive: true });
    client.on('notification', (message) => {
      if (message.channel !== channel || ownBackends.has(message.processId) || !message.payload) return;
      let event: TaskEvent;
      try {
        event = JSON.parse(message.payload);
      } catch {
        return;
      }
      events.publish(event);
    });
    client.on('error', (error) => logger?.warn({ err: error }, 'the connection that hears other processes failed'));
    client.on('end', () => {
      if (this.client === client) this.client = undefined;
      if (!this.closed) this.again(reconnectMs.first);
    });
    try {
      await client.connect();
      await client.query(`LISTEN ${client.escapeIdentifier(channel)}`);
    } catch (error) {
      client.removeAllListeners('end');
      await client.end().catch(() => undefined);
      throw error;
    }
    if (this.closed) {
      await client.end();
      return;
    }
    this.client = client;
  }

  private again(waitMs: number): void {
    clearTimeout(this.retry);
    this.retry = setTimeout(() => {
      this.listen().then(
        () => this.options.logger?.info('hearing other processes again'),
        (error: Error) => {
          this.options.logger?.warn({ err: error, retry_in_ms: waitMs }, 'cannot hear other processes yet; trying again');
          if (!this.closed) this.again(Math.min(waitMs * 2, reconnectMs.longest));
        },
      );
    }, waitMs);
    this.retry.unref();
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.retry);
    const client = this.client;
    this.client = undefined;
    await client?.end().catch(() => undefined);
  }
}

import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';

export interface ReceivedWebhook {
  headers: IncomingHttpHeaders;
  body: string;
  at: number;
  /** The status it was answered with. */
  answeredWith: number;
}

/**
 * A webhook receiver on loopback: answers each POST with the next status of `statuses` (the last
 * one repeats) and records what it got. `listen(port)` starts it on a port chosen before (a
 * receiver that was down and comes back).
 */
export class WebhookReceiver {
  readonly received: ReceivedWebhook[] = [];
  private server: Server | undefined;
  private answered = 0;

  constructor(private readonly statuses: number[] = [200], private readonly headers: Record<string, string> = {}) {
    after(() => this.close());
  }

  async listen(port = 0): Promise<string> {
    this.server = createServer(async (request, response) => {
      const chunks: Buffer[] = [];
      for await (const chunk of request) chunks.push(chunk as Buffer);
      const status = this.statuses[Math.min(this.answered++, this.statuses.length - 1)];
      this.received.push({ headers: request.headers, body: Buffer.concat(chunks).toString(), at: Date.now(), answeredWith: status });
      response.writeHead(status, this.headers).end();
    });
    await new Promise<void>((resolve) => this.server!.listen(port, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/hook`;
  }

  async close(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** Waits until `count` requests arrived; throws after `timeoutMs`. */
  async waitFor(count: number, timeoutMs = 30_000): Promise<ReceivedWebhook[]> {
    const deadline = Date.now() + timeoutMs;
    while (this.received.length < count) {
      if (Date.now() > deadline) throw new Error(`the receiver got ${this.received.length} of ${count} webhooks in ${timeoutMs} ms`);
      await sleep(20);
    }
    return this.received;
  }

  /**
   * Once `count` requests arrived and a second passed with room for more: the task of each
   * distinct event received, one entry per event (delivery is at least once, and a retried event
   * carries its webhook-id again).
   */
  async tasksTold(count: number): Promise<string[]> {
    await this.waitFor(count);
    await sleep(1000);
    const events = new Map(this.received.map((delivery) => [delivery.headers['webhook-id'], JSON.parse(delivery.body).payload.task.task_id as string]));
    return [...events.values()];
  }
}

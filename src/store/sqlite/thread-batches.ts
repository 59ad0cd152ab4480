import { Worker } from 'node:worker_threads';

interface Pending<Answer> {
  resolve: (answer: Answer) => void;
  reject: (error: Error) => void;
}

/** A running thread, with the items of this event-loop turn yet to be sent and those awaiting their answer (in order). */
interface Running<Item, Answer> {
  worker: Worker;
  outgoing: Item[];
  waiting: Pending<Answer>[];
}

/**
 * A worker thread that serves the main thread in batches: the items of one event-loop turn go
 * as one message, and the thread answers each message with `{ answers }`, one per item in the
 * order sent, so an answer needs no id: the first answers go to the first items waiting. Several
 * batches may be on their way at once; the thread takes them in order.
 *
 * The thread starts on first use, and again after it stopped: every item it held fails with it,
 * those not sent yet included, and the next item starts a new one. It keeps the process alive
 * only while an item waits for its answer.
 */
export class ThreadBatches<Item, Answer> {
  private running: Running<Item, Answer> | undefined;

  constructor(
    /** What the errors of a stopped thread call it ("the insert thread"). */
    private readonly name: string,
    private readonly start: () => Worker,
  ) {}

  add(item: Item): Promise<Answer> {
    const running = this.started();
    return new Promise((resolve, reject) => {
      if (running.waiting.length === 0) running.worker.ref();
      running.waiting.push({ resolve, reject });
      if (running.outgoing.length === 0) setImmediate(() => this.send(running));
      running.outgoing.push(item);
    });
  }

  private send(running: Running<Item, Answer>): void {
    const items = running.outgoing;
    running.outgoing = [];
    if (items.length > 0) running.worker.postMessage(items);
  }

  /** Lets the items already sent be answered, then stops the thread. */
  async close(): Promise<void> {
    const running = this.running;
    this.running = undefined;
    if (!running) return;
    while (running.waiting.length > 0) await new Promise((resolve) => setTimeout(resolve, 5));
    await running.worker.terminate();
  }

  /** The thread, started if none runs: started early, it is ready for the first item. */
  worker(): Worker {
    return this.started().worker;
  }

  private started(): Running<Item, Answer> {
    if (this.running) return this.running;
    const worker = this.start();
    const running: Running<Item, Answer> = { worker, outgoing: [], waiting: [] };
    worker.on('message', ({ answers }: { answers: Answer[] }) => {
      const answered = running.waiting.splice(0, answers.length);
      answers.forEach((answer, index) => answered[index].resolve(answer));
      if (running.waiting.length === 0) worker.unref();
    });
    const failAll = (error: Error) => {
      if (this.running === running) this.running = undefined;
      running.outgoing = [];
      for (const waiting of running.waiting.splice(0)) waiting.reject(error);
    };
    worker.on('error', failAll);
    worker.on('exit', (code) => failAll(new Error(`${this.name} stopped (exit code ${code})`)));
    worker.unref();
    this.running = running;
    return running;
  }
}

import { createParser, type EventSourceMessage } from 'eventsource-parser';

/**
 * The `task` events of a Server-Sent Events body, parsed by eventsource-parser (which runs in
 * browsers as in Node). `onIdle` is called, and reading stops, when nothing at all (not even a
 * heartbeat comment) arrives for `idleMs`: a connection a proxy silently dropped.
 */
export async function* readTaskEvents(body: ReadableStream<Uint8Array>, idleMs: number, onIdle: () => void): AsyncGenerator<EventSourceMessage> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  const parsed: EventSourceMessage[] = [];
  const parser = createParser({ onEvent: (message) => parsed.push(message) });
  try {
    for (;;) {
      const timer = setTimeout(onIdle, idleMs);
      let chunk: ReadableStreamReadResult<Uint8Array>;
      try {
        chunk = await reader.read();
      } finally {
        clearTimeout(timer);
      }
      if (chunk.done) return;
      parser.feed(decoder.decode(chunk.value, { stream: true }));
      while (parsed.length > 0) {
        const message = parsed.shift()!;
        if (message.event === 'task') yield message;
      }
    }
  } finally {
    await reader.cancel().catch(() => undefined);
  }
}

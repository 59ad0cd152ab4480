import { Counter, type Registry } from 'prom-client';
import type { MediaObserver } from '../spec/media-observer.js';

/** The input media this process brought home for its tasks, and what it refused. */
export class MediaMetrics implements MediaObserver {
  private readonly bytes: Counter<'from'>;
  private readonly files: Counter<'from'>;
  private readonly refusals: Counter<'reason'>;

  constructor(registry: Registry) {
    const registers = [registry];
    this.bytes = new Counter({
      name: 'wan_media_download_bytes_total',
      help: 'Bytes of input media fetched whole, from the network or from the server\'s own uploads.',
      labelNames: ['from'],
      registers,
    });
    this.files = new Counter({ name: 'wan_media_downloads_total', help: 'Input media files fetched whole.', labelNames: ['from'], registers });
    this.refusals = new Counter({
      name: 'wan_media_refusals_total',
      help: 'Input media refused (unreachable, refused address, over a limit, wrong format), by the reason the client sees.',
      labelNames: ['reason'],
      registers,
    });
  }

  fetched(from: 'network' | 'upload', bytes: number): void {
    this.bytes.inc({ from }, bytes);
    this.files.inc({ from });
  }

  refused(reason: string): void {
    this.refusals.inc({ reason });
  }
}

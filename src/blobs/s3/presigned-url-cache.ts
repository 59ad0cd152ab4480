/**
 * Presigned URLs by blob key, reused while they still live long enough. The Task Result API
 * asks for a URL on every poll, and presigning one costs far more than the rest of the poll
 * (the SDK builds and runs a whole request pipeline for it, see docs/benchmarks.md): a client
 * polling every second would otherwise pay it every second for the same key. Bounded: past
 * `capacity` keys the oldest entry goes.
 */
export class PresignedUrlCache {
  private readonly entries = new Map<string, { url: string; validUntil: number }>();

  constructor(private readonly capacity = 10_000) {}

  /** A URL that works until at least `expiresAt`, if one is cached. */
  get(key: string, expiresAt: number): string | undefined {
    const entry = this.entries.get(key);
    return entry && entry.validUntil >= expiresAt ? entry.url : undefined;
  }

  set(key: string, url: string, validUntil: number): void {
    // Deleted first so that the insertion order, which eviction follows, is the order of use.
    this.entries.delete(key);
    if (this.entries.size >= this.capacity) this.entries.delete(this.entries.keys().next().value!);
    this.entries.set(key, { url, validUntil });
  }
}

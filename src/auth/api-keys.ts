import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { errors } from '../spec/api-error.js';
import type { ApiKeyRecord, ApiKeyStore, KeyLimits } from '../spec/key-store.js';

/**
 * API keys: random, shown once, stored only as their SHA-256. A fast hash is right here (unlike
 * for passwords): the key has 256 bits of entropy, so there is nothing to brute-force, and every
 * request pays for the hash.
 */
const keyPrefix = 'wan_';

export function hashApiKey(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

export async function createApiKey(
  store: ApiKeyStore,
  name: string,
  now: number,
  limits: Partial<KeyLimits> = {},
): Promise<{ key: string; record: ApiKeyRecord }> {
  const key = keyPrefix + randomBytes(32).toString('base64url');
  const record = { id: randomUUID(), name, prefix: key.slice(0, 12), createdAt: now, revokedAt: null, limits };
  await store.createKey({ ...record, hash: hashApiKey(key) });
  return { key, record };
}

/** Reads the key from `Authorization: Bearer <key>` or a bare key (as the official SDK sends it). */
export function keyFromAuthorization(header: string | undefined): string | undefined {
  const value = header?.trim();
  if (!value) return undefined;
  const bearer = /^bearer(?:\s+(.*))?$/i.exec(value);
  const key = bearer ? (bearer[1] ?? '').trim() : value;
  return key === '' ? undefined : key;
}


/**
 * Remembers keys that authenticated, for `ttlMs`, so a client polling many times a second
 * costs one database read per interval instead of one per request. The price: a revoked key
 * keeps working for at most `ttlMs` on a process that saw it just before. The cache is keyed by
 * the `Authorization` header as sent, to spare the parsing and the hash on a hit (the rate-limit
 * hook and the route both ask, on every request); it lives only in this process's memory, where
 * the key passes anyway.
 */
export class CachedAuthenticator {
  private readonly cache = new Map<string, { record: ApiKeyRecord; expiresAt: number }>();

  constructor(
    private readonly store: ApiKeyStore,
    private readonly ttlMs: number,
    private readonly maxEntries = 10_000,
    private readonly clock: () => number = Date.now,
  ) {}

  /**
   * The key of `header` if it authenticated less than `ttlMs` ago, found without waiting: what a
   * hook run on every request checks before it pays for a promise. Undefined says nothing of the key.
   */
  known(header: string | undefined): ApiKeyRecord | undefined {
    const cached = header === undefined ? undefined : this.cache.get(header);
    return cached !== undefined && cached.expiresAt > this.clock() ? cached.record : undefined;
  }

  async authenticate(header: string | undefined): Promise<ApiKeyRecord> {
    const known = this.known(header);
    if (known !== undefined) return known;
    const key = keyFromAuthorization(header);
    if (header === undefined || key === undefined) throw errors.missingApiKey();
    const now = this.clock();
    const record = await this.store.findByHash(hashApiKey(key));
    if (!record) {
      this.cache.delete(header);
      throw errors.invalidApiKey();
    }
    // Bounded: past the limit the cache starts over rather than growing with every key seen.
    if (this.cache.size >= this.maxEntries) this.cache.clear();
    this.cache.set(header, { record, expiresAt: now + this.ttlMs });
    return record;
  }
}

import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { errors } from '../spec/api-error.js';
import type { ApiKeyRecord, ApiKeyStore } from '../spec/task-store.js';

/**
 * API keys: random, shown once, stored only as their SHA-256. A fast hash is right here (unlike
 * for passwords): the key has 256 bits of entropy, so there is nothing to brute-force, and every
 * request pays for the hash.
 */
const keyPrefix = 'wan_';

export function hashApiKey(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

export async function createApiKey(store: ApiKeyStore, name: string, now: number): Promise<{ key: string; record: ApiKeyRecord }> {
  const key = keyPrefix + randomBytes(32).toString('base64url');
  const record = { id: randomUUID(), name, prefix: key.slice(0, 12), createdAt: now, revokedAt: null };
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

export async function authenticate(store: ApiKeyStore, header: string | undefined): Promise<ApiKeyRecord> {
  const key = keyFromAuthorization(header);
  if (key === undefined) throw errors.missingApiKey();
  const record = await store.findByHash(hashApiKey(key));
  if (!record) throw errors.invalidApiKey();
  return record;
}

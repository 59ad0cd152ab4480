import type { ApiKeyRecord, KeyLimits } from '../spec/key-store.js';

/** A row of the `api_keys` table, as both backends store it. */
export interface KeyRow {
  id: string;
  name: string;
  prefix: string;
  created_at: number;
  revoked_at: number | null;
  limits_json: string;
}

/** The limits a key sets itself: a limit given as null is no longer set, so it is not stored. */
export function dropNulls(limits: Partial<KeyLimits>): Partial<KeyLimits> {
  return Object.fromEntries(Object.entries(limits).filter(([, value]) => value !== null && value !== undefined));
}

export function toKeyRecord(row: KeyRow): ApiKeyRecord {
  return {
    id: row.id,
    name: row.name,
    prefix: row.prefix,
    createdAt: row.created_at,
    revokedAt: row.revoked_at,
    limits: JSON.parse(row.limits_json),
  };
}

import type { ApiKeyRecord, ApiKeyStore, KeyLimits, NewApiKey } from '../../spec/key-store.js';
import { newWebhookSecret } from '../webhook-secret.js';
import type { Database } from './database.js';
import { dropNulls, type KeyRow, toKeyRecord } from '../key-rows.js';

const keyColumns = 'id, name, prefix, created_at, revoked_at, limits_json';
/** The live key an id or a prefix names (the oldest, should a prefix match an id). */
const liveKey = `SELECT id FROM api_keys WHERE (id = $1 OR prefix = $1) AND revoked_at IS NULL ORDER BY created_at LIMIT 1`;

const statements = {
  createKey: 'INSERT INTO api_keys (id, name, prefix, hash, created_at, limits_json) VALUES ($1, $2, $3, $4, $5, $6)',
  findKey: `SELECT ${keyColumns} FROM api_keys WHERE hash = $1 AND revoked_at IS NULL`,
  listKeys: `SELECT ${keyColumns} FROM api_keys ORDER BY created_at`,
  revokeKey: `UPDATE api_keys SET revoked_at = $2 WHERE id = (${liveKey}) RETURNING ${keyColumns}`,
  // The named limits replace the stored ones in the same statement; a null drops one.
  setLimits: `UPDATE api_keys SET limits_json = jsonb_strip_nulls(limits_json || $2::jsonb) WHERE id = (${liveKey}) RETURNING ${keyColumns}`,
  countKeys: 'SELECT count(*) AS keys FROM api_keys WHERE revoked_at IS NULL',
  secretOf: 'SELECT webhook_secret FROM api_keys WHERE id = $1',
  setSecret: 'UPDATE api_keys SET webhook_secret = COALESCE(webhook_secret, $2) WHERE id = $1 RETURNING webhook_secret',
  // An UNLOGGED table (see the migrations): counting a request waits for no disk.
  countRequest: `INSERT INTO request_counts (key_id, window_start, count) VALUES ($1, $2, $3)
    ON CONFLICT (key_id, window_start) DO UPDATE SET count = request_counts.count + $3 RETURNING count`,
};

/** API keys in PostgreSQL: every process authenticates against the same rows. */
export class PgKeys implements ApiKeyStore {
  constructor(private readonly db: Database) {}

  async createKey(key: NewApiKey): Promise<void> {
    await this.db.query({
      text: statements.createKey,
      values: [key.id, key.name, key.prefix, key.hash, key.createdAt, JSON.stringify(dropNulls(key.limits))],
    });
  }

  async findByHash(hash: string): Promise<ApiKeyRecord | undefined> {
    const { rows } = await this.db.query<KeyRow>({ name: 'wan-find-key', text: statements.findKey, values: [hash] });
    return rows[0] && toKeyRecord(rows[0]);
  }

  async listKeys(): Promise<ApiKeyRecord[]> {
    return (await this.db.query<KeyRow>({ text: statements.listKeys })).rows.map(toKeyRecord);
  }

  async revokeKey(idOrPrefix: string, now: number): Promise<ApiKeyRecord | undefined> {
    const { rows } = await this.db.query<KeyRow>({ text: statements.revokeKey, values: [idOrPrefix, now] });
    return rows[0] && toKeyRecord(rows[0]);
  }

  async updateKeyLimits(idOrPrefix: string, limits: Partial<KeyLimits>): Promise<ApiKeyRecord | undefined> {
    const { rows } = await this.db.query<KeyRow>({ text: statements.setLimits, values: [idOrPrefix, JSON.stringify(limits)] });
    return rows[0] && toKeyRecord(rows[0]);
  }

  async countKeys(): Promise<number> {
    return (await this.db.query<{ keys: number }>({ text: statements.countKeys })).rows[0].keys;
  }

  async webhookSecret(keyId: string): Promise<string> {
    const { rows } = await this.db.query<{ webhook_secret: string | null }>({ text: statements.secretOf, values: [keyId] });
    if (rows[0]?.webhook_secret) return rows[0].webhook_secret;
    // Two processes making the first one at once: the first write wins and both answer it.
    const made = await this.db.query<{ webhook_secret: string }>({ text: statements.setSecret, values: [keyId, newWebhookSecret()] });
    return made.rows[0]?.webhook_secret;
  }

  async countRequest(keyId: string, windowStart: number, amount = 1): Promise<number> {
    const { rows } = await this.db.query<{ count: number }>({ name: 'wan-count-request', text: statements.countRequest, values: [keyId, windowStart, amount] });
    return rows[0].count;
  }
}

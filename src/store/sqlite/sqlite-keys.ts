import type Database from 'better-sqlite3';
import type { ApiKeyRecord, ApiKeyStore, KeyLimits, NewApiKey } from '../../spec/key-store.js';
import { newWebhookSecret } from '../webhook-secret.js';
import type { SqliteRequestCounts } from './request-counts.js';
import { dropNulls, type KeyRow, toKeyRecord } from '../key-rows.js';

const keyColumns = 'id, name, prefix, created_at, revoked_at, limits_json';

/** API keys in the embedded store; request counts in a file of their own (request-counts.ts). */
export class SqliteKeys implements ApiKeyStore {
  private readonly statements;
  constructor(
    db: Database.Database,
    private readonly counts: SqliteRequestCounts,
  ) {
    this.statements = {
      createKey: db.prepare(
        'INSERT INTO api_keys (id, name, prefix, hash, created_at, limits_json) VALUES (@id, @name, @prefix, @hash, @createdAt, @limits)',
      ),
      findKey: db.prepare(`SELECT ${keyColumns} FROM api_keys WHERE hash = ? AND revoked_at IS NULL`),
      listKeys: db.prepare(`SELECT ${keyColumns} FROM api_keys ORDER BY created_at`),
      revokeKey: db.prepare(
        `UPDATE api_keys SET revoked_at = @now WHERE (id = @idOrPrefix OR prefix = @idOrPrefix) AND revoked_at IS NULL
         RETURNING ${keyColumns}`,
      ),
      findLive: db.prepare(`SELECT ${keyColumns} FROM api_keys WHERE (id = ? OR prefix = ?) AND revoked_at IS NULL`),
      setLimits: db.prepare(`UPDATE api_keys SET limits_json = @limits WHERE id = @id RETURNING ${keyColumns}`),
      countKeys: db.prepare('SELECT COUNT(*) FROM api_keys WHERE revoked_at IS NULL').pluck(),
      secretOf: db.prepare('SELECT webhook_secret FROM api_keys WHERE id = ?').pluck(),
      setSecret: db.prepare('UPDATE api_keys SET webhook_secret = COALESCE(webhook_secret, @secret) WHERE id = @id RETURNING webhook_secret').pluck(),
    };
    this.updateLimits = db.transaction((idOrPrefix: string, limits: Partial<KeyLimits>) => {
      const row = this.statements.findLive.get(idOrPrefix, idOrPrefix) as KeyRow | undefined;
      if (!row) return undefined;
      const merged = dropNulls({ ...JSON.parse(row.limits_json), ...limits });
      return this.statements.setLimits.get({ id: row.id, limits: JSON.stringify(merged) }) as KeyRow;
    });
  }

  private readonly updateLimits: Database.Transaction<(idOrPrefix: string, limits: Partial<KeyLimits>) => KeyRow | undefined>;

  async createKey(key: NewApiKey): Promise<void> {
    this.statements.createKey.run({ ...key, limits: JSON.stringify(dropNulls(key.limits)) });
  }

  async findByHash(hash: string): Promise<ApiKeyRecord | undefined> {
    const row = this.statements.findKey.get(hash) as KeyRow | undefined;
    return row && toKeyRecord(row);
  }

  async listKeys(): Promise<ApiKeyRecord[]> {
    return (this.statements.listKeys.all() as KeyRow[]).map(toKeyRecord);
  }

  async revokeKey(idOrPrefix: string, now: number): Promise<ApiKeyRecord | undefined> {
    const row = this.statements.revokeKey.get({ idOrPrefix, now }) as KeyRow | undefined;
    return row && toKeyRecord(row);
  }

  async updateKeyLimits(idOrPrefix: string, limits: Partial<KeyLimits>): Promise<ApiKeyRecord | undefined> {
    const row = this.updateLimits.immediate(idOrPrefix, limits);
    return row && toKeyRecord(row);
  }

  async countKeys(): Promise<number> {
    return this.statements.countKeys.get() as number;
  }

  async webhookSecret(keyId: string): Promise<string> {
    const existing = this.statements.secretOf.get(keyId) as string | null | undefined;
    if (existing) return existing;
    return this.statements.setSecret.get({ id: keyId, secret: newWebhookSecret() }) as string;
  }

  async countRequest(keyId: string, windowStart: number, amount = 1): Promise<number> {
    return this.counts.count(keyId, windowStart, amount);
  }
}

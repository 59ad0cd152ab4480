/** What one API key may do; a null limit is not limited (the server's defaults fill the rest). */
export interface KeyLimits {
  requestsPerMinute: number | null;
  maxInFlight: number | null;
  maxQueued: number | null;
  secondsPerDay: number | null;
  secondsPerMonth: number | null;
}

export interface ApiKeyRecord {
  id: string;
  name: string;
  /** The first characters of the key, to recognise it in lists; the key itself is never stored. */
  prefix: string;
  createdAt: number;
  revokedAt: number | null;
  /** Limits set on this key; unset ones fall back to the server's defaults. */
  limits: Partial<KeyLimits>;
}

export interface NewApiKey {
  id: string;
  name: string;
  prefix: string;
  /** SHA-256 of the key. */
  hash: string;
  createdAt: number;
  limits: Partial<KeyLimits>;
}

export interface ApiKeyStore {
  createKey(key: NewApiKey): Promise<void>;
  /** The live (not revoked) key with this hash. */
  findByHash(hash: string): Promise<ApiKeyRecord | undefined>;
  listKeys(): Promise<ApiKeyRecord[]>;
  /** Revokes by id or prefix; answers the revoked key. */
  revokeKey(idOrPrefix: string, now: number): Promise<ApiKeyRecord | undefined>;
  /** Replaces the limits named in `limits` (null: no longer set on this key); answers the key. */
  updateKeyLimits(idOrPrefix: string, limits: Partial<KeyLimits>): Promise<ApiKeyRecord | undefined>;
  countKeys(): Promise<number>;
  /** The key's secret for signing webhooks (`whsec_…`), made on first use. */
  webhookSecret(keyId: string): Promise<string>;
  /**
   * Counts `amount` (default 1) requests of `keyId` in the minute window starting at
   * `windowStart` and answers the count so far, in one atomic write shared by every process.
   * A process takes several at once to admit them without asking again (see the rate limiter).
   */
  countRequest(keyId: string, windowStart: number, amount?: number): Promise<number>;
}

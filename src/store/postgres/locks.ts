/**
 * The advisory locks of the PostgreSQL store, as the first of the two keys `pg_advisory_lock`
 * takes (the second is a hash of what is locked). "wan" in ASCII, then one number per use, so
 * the store's locks never meet another application's in the same database.
 */
const base = 0x77616e00;

export const locks = {
  /** Held while the schema is brought up to date (second key: the schema). */
  migrations: base + 1,
  /** Held by each submission of an API key, so its limits and idempotency keys hold across processes (second key: the key id). */
  submissions: base + 2,
  /** Held while a place on an engine is counted and claimed (second key: the engine name). */
  enginePlaces: base + 3,
} as const;

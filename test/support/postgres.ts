import { randomBytes } from 'node:crypto';
import { after } from 'node:test';
import pg from 'pg';

/**
 * The PostgreSQL server tests run against: WAN_TEST_DATABASE_URL, else the machine's own
 * (127.0.0.1:5432, trust auth, database `test`). Other people's tests use the same server, so
 * every test works in a schema of its own, dropped when its file ends.
 */
export const testDatabaseUrl = process.env.WAN_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/**
 * Undefined when the server answers; otherwise why the PostgreSQL tests are skipped. In CI they
 * must run: there an unreachable server fails the run instead of skipping it.
 */
export async function postgresUnavailable(): Promise<string | undefined> {
  const client = new pg.Client({ connectionString: testDatabaseUrl, connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
    return undefined;
  } catch (error) {
    const why = `PostgreSQL is not reachable at ${redacted(testDatabaseUrl)} (${(error as Error).message}); set WAN_TEST_DATABASE_URL to run these tests`;
    if (process.env.CI) throw new Error(`${why}. CI must run them: start the server first.`);
    return why;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** A new empty schema, dropped when the test file ends; answers the database URL that works in it. */
export async function freshSchema(): Promise<{ schema: string; url: string }> {
  const schema = `wan_test_${randomBytes(6).toString('hex')}`;
  await adminQuery(`CREATE SCHEMA ${schema}`);
  after(() => adminQuery(`DROP SCHEMA IF EXISTS ${schema} CASCADE`));
  return { schema, url: urlInSchema(schema) };
}

/** The test server's URL with `schema` as the search path of every connection. */
export function urlInSchema(schema: string): string {
  const url = new URL(testDatabaseUrl);
  url.searchParams.set('options', `-c search_path=${schema}`);
  return url.toString();
}

export function adminQuery(text: string, values: unknown[] = []): Promise<pg.QueryResult> {
  return queryAt(testDatabaseUrl, text, values);
}

/** One statement on its own connection to `url` (a schema's URL: what the processes there recorded). */
export async function queryAt(url: string, text: string, values: unknown[] = []): Promise<pg.QueryResult> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await client.query(text, values);
  } finally {
    await client.end();
  }
}

function redacted(url: string): string {
  const parsed = new URL(url);
  if (parsed.password) parsed.password = '***';
  return parsed.toString();
}

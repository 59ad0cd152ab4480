/**
 * The PostgreSQL server the benchmarks use (WAN_BENCH_DATABASE_URL, else the machine's own),
 * a fresh schema per measurement, dropped afterwards.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';

const serverUrl = process.env.WAN_BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

async function admin(text: string): Promise<void> {
  const client = new pg.Client({ connectionString: serverUrl });
  await client.connect();
  try {
    await client.query(text);
  } finally {
    await client.end();
  }
}

/** A new schema and the database URL whose connections work in it. */
export async function benchSchema(): Promise<{ url: string; drop: () => Promise<void> }> {
  const schema = `wan_bench_${randomBytes(6).toString('hex')}`;
  await admin(`CREATE SCHEMA ${schema}`);
  const url = new URL(serverUrl);
  url.searchParams.set('options', `-c search_path=${schema}`);
  return { url: url.toString(), drop: () => admin(`DROP SCHEMA IF EXISTS ${schema} CASCADE`) };
}

import type { UsageQuery, UsageRow, UsageStore } from '../../spec/usage.js';
import type { Database } from './database.js';

const select = (group: string) =>
  `SELECT ${group} AS "group", count(*)::integer AS tasks, sum(billed_seconds) AS "billedSeconds", sum(cost) AS cost,
     sum((usage_json ->> 'listPrice')::float8) AS "listPrice"
   FROM tasks WHERE key_id = $1 AND completed_at >= $2 AND completed_at < $3 AND usage_json IS NOT NULL
   GROUP BY 1 ORDER BY 1`;

const statements = {
  model: select('model'),
  day: select(`to_char(to_timestamp(completed_at / 1000.0) AT TIME ZONE 'UTC', 'YYYY-MM-DD')`),
};

/** Usage sums in PostgreSQL, over the tasks' recorded usage. */
export class PgUsage implements UsageStore {
  constructor(private readonly db: Database) {}

  async usage(keyId: string, query: UsageQuery): Promise<UsageRow[]> {
    const { rows } = await this.db.query<UsageRow>({ text: statements[query.groupBy], values: [keyId, query.from, query.to] });
    return rows;
  }
}

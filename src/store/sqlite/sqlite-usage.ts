import type Database from 'better-sqlite3';
import type { UsageQuery, UsageRow, UsageStore } from '../../spec/usage.js';

/** Usage sums in the embedded store, over the tasks' recorded usage. */
export class SqliteUsage implements UsageStore {
  private readonly statements;

  constructor(db: Database.Database) {
    const select = (group: string) =>
      db.prepare(
        `SELECT ${group} AS "group", COUNT(*) AS tasks, SUM(billed_seconds) AS billedSeconds, SUM(cost) AS cost,
           SUM(json_extract(usage_json, '$.listPrice')) AS listPrice
         FROM tasks WHERE key_id = @keyId AND completed_at >= @from AND completed_at < @to AND usage_json IS NOT NULL
         GROUP BY 1 ORDER BY 1`,
      );
    this.statements = {
      model: select('model'),
      day: select(`strftime('%Y-%m-%d', completed_at / 1000, 'unixepoch')`),
    };
  }

  async usage(keyId: string, query: UsageQuery): Promise<UsageRow[]> {
    return this.statements[query.groupBy].all({ keyId, from: query.from, to: query.to }) as UsageRow[];
  }
}

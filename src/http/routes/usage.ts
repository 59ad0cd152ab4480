import type { FastifyInstance } from 'fastify';
import type { CachedAuthenticator } from '../../auth/api-keys.js';
import { type UsageReport, usageReportSchema } from '../../models/usage-schema.js';
import { invalidRequest } from '../../spec/api-error.js';
import type { UsageQuery, UsageRow, UsageStore } from '../../spec/usage.js';
import { startOfUtcMonth } from '../../store/utc-periods.js';
import { roundPrice } from '../../usage/price-table.js';
import { oneOf, optional } from '../query-parameters.js';

export interface UsageRouteOptions {
  auth: CachedAuthenticator;
  usage: UsageStore;
  /** Currency of the price table, shown beside the sums. */
  currency: string;
  clock: () => number;
}

/** A UTC day (`2026-11-25`, its midnight) or an ISO 8601 time with its zone (`2026-11-25T08:00:00Z`). */
const datePattern = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:\d{2}))?$/;

/**
 * `GET /v3/usage?from=&to=&group_by=model|day`: what the calling key's tasks that ended in
 * [from, to) billed, summed per model or per UTC day. `from` defaults to the start of the
 * current UTC month, `to` to now.
 */
export function usageRoute(app: FastifyInstance, options: UsageRouteOptions): void {
  app.get('/v3/usage', { schema: { response: { 200: usageReportSchema } } }, async (request): Promise<UsageReport> => {
    const key = await options.auth.authenticate(request.headers.authorization);
    const parameters = request.query as Record<string, unknown>;
    const now = options.clock();
    const { from = startOfUtcMonth(now) } = optional('from', parameters.from, (value) => ({ from: timeOf('from', value) }));
    const { to = now } = optional('to', parameters.to, (value) => ({ to: timeOf('to', value) }));
    const { groupBy = 'model' } = optional('group_by', parameters.group_by, (value) => ({
      groupBy: oneOf('group_by', value, ['model', 'day']) as UsageQuery['groupBy'],
    }));
    if (from >= to) {
      throw invalidRequest('to', `to (${new Date(to).toISOString()}) must come after from (${new Date(from).toISOString()})`, {
        from: new Date(from).toISOString(),
        to: new Date(to).toISOString(),
      });
    }
    const rows = await options.usage.usage(key.id, { from, to, groupBy });
    return {
      from: new Date(from).toISOString(),
      to: new Date(to).toISOString(),
      group_by: groupBy,
      currency: options.currency,
      rows: rows.map((row) => ({ group: row.group, ...sums([row]) })),
      total: sums(rows),
    };
  });
}

function timeOf(name: string, value: string): number {
  const time = datePattern.test(value) ? Date.parse(value.length === 10 ? `${value}T00:00:00Z` : value) : Number.NaN;
  if (Number.isNaN(time)) {
    throw invalidRequest(name, `${name} must be a UTC day such as 2026-11-25 or an ISO 8601 time such as 2026-11-25T08:00:00Z, got ${JSON.stringify(value)}`, {
      value,
    });
  }
  return time;
}

function sums(rows: UsageRow[]) {
  const round = roundPrice;
  return {
    tasks: rows.reduce((total, row) => total + row.tasks, 0),
    billed_seconds: round(rows.reduce((total, row) => total + row.billedSeconds, 0)),
    list_price: round(rows.reduce((total, row) => total + row.listPrice, 0)),
    cost: round(rows.reduce((total, row) => total + row.cost, 0)),
  };
}

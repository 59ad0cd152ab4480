import type { TaskRecord, TaskSnapshot } from '../spec/task-store.js';
import { TaskStatus } from '../spec/task-status.js';

/**
 * How a task row becomes a TaskRecord: each field's column and decoder, in one table that both
 * backends share (they name the columns alike, and both hand JSON columns over as text). Rows are
 * read as arrays in the order of a field list, because building a named object per row cost
 * twice the lookup itself on the path every poll takes.
 */
type Decoder = (value: unknown) => unknown;
const json: Decoder = (value) => JSON.parse(value as string);
const jsonOrNull: Decoder = (value) => (value === null ? null : JSON.parse(value as string));

const columns: Record<keyof TaskRecord, [column: string, decode?: Decoder]> = {
  id: ['id'],
  keyId: ['key_id'],
  model: ['model'],
  status: ['status'],
  request: ['request_json', json],
  seed: ['seed'],
  engine: ['engine'],
  operation: ['operation_json', jsonOrNull],
  progressPercent: ['progress_percent'],
  etaSeconds: ['eta_seconds'],
  error: ['error_json', jsonOrNull],
  results: ['results_json', json],
  resultsExpiredAt: ['results_expired_at'],
  extra: ['extra_json', json],
  usage: ['usage_json', jsonOrNull],
  webhookUrl: ['webhook_url'],
  attempts: ['attempts'],
  leaseOwner: ['lease_owner'],
  leaseExpiresAt: ['lease_expires_at'],
  createdAt: ['created_at'],
  startedAt: ['started_at'],
  completedAt: ['completed_at'],
  version: ['version'],
};

type Field = keyof TaskRecord;

export const recordFields = Object.keys(columns) as Field[];

const hiddenFromSnapshot: readonly Field[] = ['request', 'operation', 'engine', 'attempts', 'leaseOwner', 'leaseExpiresAt'];
export const snapshotFields = recordFields.filter((field) => !hiddenFromSnapshot.includes(field));

/** The columns of a whole row, and of what clients may see of it. */
export const taskColumnList = columnList(recordFields);
export const snapshotColumnList = columnList(snapshotFields);
/** The statuses as SQL literals. */
export const queued = `'${TaskStatus.Queued}'`;
export const processing = `'${TaskStatus.Processing}'`;

/** The SELECT (or RETURNING) list of a field list, each column named through `table` if given. */
export function columnList(fields: readonly Field[], table?: string): string {
  return fields.map((field) => (table === undefined ? columns[field][0] : `${table}.${columns[field][0]}`)).join(', ');
}

type RowDecoder = (row: unknown[]) => unknown;

/** The decoder of each field list (a handful of constants), made on first use. */
const rowDecoders = new Map<readonly Field[], RowDecoder>();

/** A row read in the order of `fields`. */
export function decodeRow<T extends TaskSnapshot | TaskRecord>(fields: readonly Field[], row: unknown[]): T {
  let decoder = rowDecoders.get(fields);
  if (decoder === undefined) {
    decoder = rowDecoder(fields);
    rowDecoders.set(fields, decoder);
  }
  return decoder(row) as T;
}

/**
 * One object literal per field list, built from the columns table: every record then has the
 * same shape from its first property on, where filling an empty object field by field in a loop
 * went through V8's slowest (megamorphic) property stores on every row (0.52 against 0.14 µs a
 * row, measured alone). The field names are this file's own keys, never input.
 */
function rowDecoder(fields: readonly Field[]): RowDecoder {
  const decoders = fields.map((field) => columns[field][1]);
  const properties = fields.map((field, index) => `${JSON.stringify(field)}: ${decoders[index] ? `decoders[${index}](row[${index}])` : `row[${index}]`}`);
  return new Function('decoders', `return (row) => ({ ${properties.join(', ')} });`)(decoders) as RowDecoder;
}

/**
 * How a store or blob store says that a write failed for a while rather than for good: the error
 * carries the code of its driver (`ENOSPC`, `SQLITE_FULL`, PostgreSQL's SQLSTATE …), and these
 * are the codes after which the same write may well succeed later (the disk is full or
 * read-only, the database is busy, restarting or unreachable). The worker retries writes that
 * fail this way instead of failing the task or the process; any other error is a real failure.
 * A new backend adds its codes here.
 */
const diskCodes = new Set(['ENOSPC', 'EDQUOT', 'EROFS', 'SQLITE_FULL', 'SQLITE_READONLY', 'SQLITE_BUSY']);

/**
 * A database server that cannot be reached for now: the connection was refused, reset or timed
 * out (the server restarts, the network is cut), or the server said it is shutting down or
 * starting (57P01 admin_shutdown, 57P02 crash_shutdown, 57P03 cannot_connect_now), has no
 * connection left (53300), or gave up a transaction that may be run again (40001 serialization
 * failure, 40P01 deadlock). SQLSTATE class 08 is every connection exception.
 */
const unavailableCodes = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
  '57P01',
  '57P02',
  '57P03',
  '53300',
  '40001',
  '40P01',
]);

export function isDiskError(error: unknown): boolean {
  const code = codeOf(error);
  return code !== undefined && (diskCodes.has(code) || code.startsWith('SQLITE_IOERR'));
}

/** The database or object storage could not be reached, or asked to be asked again: nothing is wrong with the write itself. */
function isUnavailableError(error: unknown): boolean {
  const code = codeOf(error);
  if (code !== undefined && (unavailableCodes.has(code) || /^08[0-9A-Z]{3}$/.test(code))) return true;
  // S3's throttling and 5xx answers.
  const { name, $metadata } = (error ?? {}) as { name?: unknown; $metadata?: { httpStatusCode?: number } };
  return (typeof name === 'string' && objectStoreNames.has(name)) || ($metadata?.httpStatusCode ?? 0) >= 500;
}

const objectStoreNames = new Set(['SlowDown', 'ServiceUnavailable', 'InternalError', 'RequestTimeout', 'TimeoutError']);

export function isTransientStoreError(error: unknown): boolean {
  return isDiskError(error) || isUnavailableError(error);
}

function codeOf(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

export type DownloadErrorCode =
  | 'URL_NOT_ALLOWED'
  | 'ADDRESS_NOT_ALLOWED'
  | 'TOO_MANY_REDIRECTS'
  | 'HTTP_STATUS'
  | 'TOO_LARGE'
  | 'TIMEOUT'
  | 'UNREACHABLE';

export interface DownloadErrorDetails {
  /** The HTTP status of the final answer (`HTTP_STATUS`). */
  status?: number;
  /** The byte limit that was exceeded (`TOO_LARGE`). */
  limitBytes?: number;
  cause?: unknown;
}

/**
 * Why a download failed. Messages are short and meant for the person who sent the URL; they
 * name a URL by its origin and path only, because signed URLs carry secrets in the query string.
 */
export class DownloadError extends Error {
  override readonly name = 'DownloadError';
  readonly status?: number;
  readonly limitBytes?: number;

  constructor(
    readonly code: DownloadErrorCode,
    message: string,
    { status, limitBytes, cause }: DownloadErrorDetails = {},
  ) {
    super(message, cause === undefined ? undefined : { cause });
    this.status = status;
    this.limitBytes = limitBytes;
  }
}

/** A URL as it may appear in a message: no credentials, query string or fragment. */
export function describeUrl(url: URL): string {
  return `${url.origin}${url.pathname}`;
}
